/**
 * Execute arguments (lwm2m-protocol.md §6.7): `0,1='https://x',5='a b'`, sent as text/plain.
 *
 *   arglist = arg *( "," arg );  arg = DIGIT / DIGIT "=" "'" *CHAR "'"
 *   CHAR    = printable ASCII except ' and \
 */

import { InvalidRequestError } from './errors';

export interface ExecuteArgument {
  /** 0..9 */
  id: number;
  value?: string;
}

const ARG = /^([0-9])(?:='([\x20-\x26\x28-\x5b\x5d-\x7e]*)')?$/;

/** Parses an argument list; throws InvalidRequestError naming the first bad argument. Empty text → no arguments. */
export function parseExecuteArguments(text: string): ExecuteArgument[] {
  if (text === '') return [];
  const out: ExecuteArgument[] = [];
  let i = 0;
  while (i <= text.length) {
    // An argument ends at the first comma outside quotes.
    let j = i;
    let quoted = false;
    while (j < text.length && (quoted || text[j] !== ',')) {
      if (text[j] === "'") quoted = !quoted;
      j++;
    }
    const part = text.slice(i, j);
    const m = ARG.exec(part);
    if (!m) throw new InvalidRequestError(`execute argument "${part}" is not DIGIT or DIGIT='text' (printable ASCII without ' and \\)`);
    out.push(m[2] === undefined ? { id: Number(m[1]) } : { id: Number(m[1]), value: m[2] });
    i = j + 1;
  }
  return out;
}

/** Writes an argument list; throws InvalidRequestError for ids outside 0..9 or values with ' or \ or non-printable characters. */
export function formatExecuteArguments(args: readonly ExecuteArgument[]): string {
  return args
    .map((a) => {
      if (!Number.isInteger(a.id) || a.id < 0 || a.id > 9) throw new InvalidRequestError(`execute argument id ${a.id} is not 0..9`);
      if (a.value === undefined) return String(a.id);
      if (!/^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/.test(a.value)) throw new InvalidRequestError(`execute argument ${a.id}: value ${JSON.stringify(a.value)} has ' or \\ or a non-printable character`);
      return `${a.id}='${a.value}'`;
    })
    .join(',');
}
