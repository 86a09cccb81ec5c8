/**
 * Write-Attributes parameters (lwm2m-protocol.md §14.3, §14.4): `pmin=1&pmax=5` sets,
 * a value-less `pmin` unsets. Only notification-class attributes may be written.
 */

import { InvalidRequestError } from './errors';

/** Notification attributes and the values they take. */
const KINDS = {
  pmin: 'integer',
  pmax: 'integer',
  epmin: 'integer',
  epmax: 'integer',
  hqmax: 'integer',
  gt: 'number',
  lt: 'number',
  st: 'number',
  edge: 'bit',
  con: 'bit',
} as const;

export type AttributeName = keyof typeof KINDS;

export const WRITABLE_ATTRIBUTES: readonly AttributeName[] = Object.keys(KINDS) as AttributeName[];

/** Attributes to write: a number sets, `null` unsets (falls back to the parent level / server default). */
export type AttributeUpdate = Partial<Record<AttributeName, number | null>>;

const INTEGER = /^\d{1,10}$/;
/** Decimal numbers; a leading `-` is accepted for gt/lt (signal strength, §19.39). */
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Reads `pmin=1&pmax=5` (a leading `?` is allowed; `stp` is read as `st`) or an object.
 * Throws InvalidRequestError for unknown names, malformed values, a repeated name, and
 * `pmin > pmax`, `epmin > epmax`, `lt >= gt` when both are set in the same request.
 */
export function parseAttributes(input: string | AttributeUpdate): AttributeUpdate {
  const out: AttributeUpdate = {};
  if (typeof input === 'string') {
    const text = input.trim().replace(/^\?/, '');
    if (text === '') throw new InvalidRequestError('no attributes given (e.g. pmin=10&pmax=60, or pmin to unset)');
    for (const part of text.split('&')) {
      const eq = part.indexOf('=');
      const rawName = (eq < 0 ? part : part.slice(0, eq)).trim();
      const name = (rawName === 'stp' ? 'st' : rawName) as AttributeName;
      if (!(name in KINDS)) throw new InvalidRequestError(`"${rawName}" is not a writable attribute (${WRITABLE_ATTRIBUTES.join(', ')})`);
      if (name in out) throw new InvalidRequestError(`attribute "${name}" is given twice`);
      out[name] = eq < 0 ? null : readValue(name, part.slice(eq + 1).trim());
    }
  } else {
    for (const [rawName, v] of Object.entries(input)) {
      if (v === undefined) continue;
      const name = rawName as AttributeName;
      if (!(name in KINDS)) throw new InvalidRequestError(`"${rawName}" is not a writable attribute (${WRITABLE_ATTRIBUTES.join(', ')})`);
      out[name] = v === null ? null : readValue(name, String(v));
    }
  }
  if (Object.keys(out).length === 0) throw new InvalidRequestError('no attributes given');
  const both = (a: AttributeName, b: AttributeName) => typeof out[a] === 'number' && typeof out[b] === 'number';
  if (both('pmin', 'pmax') && out.pmin! > out.pmax!) throw new InvalidRequestError(`pmin (${out.pmin}) is greater than pmax (${out.pmax})`);
  if (both('epmin', 'epmax') && out.epmin! > out.epmax!) throw new InvalidRequestError(`epmin (${out.epmin}) is greater than epmax (${out.epmax})`);
  if (both('lt', 'gt') && out.lt! >= out.gt!) throw new InvalidRequestError(`lt (${out.lt}) must be below gt (${out.gt})`);
  if (typeof out.st === 'number' && out.st < 0) throw new InvalidRequestError(`st (${out.st}) must not be negative`);
  return out;
}

function readValue(name: AttributeName, text: string): number {
  const kind = KINDS[name];
  if (kind === 'integer' && INTEGER.test(text)) return Number(text);
  if (kind === 'bit' && (text === '0' || text === '1')) return Number(text);
  if (kind === 'number' && NUMBER.test(text)) return Number(text);
  const what = kind === 'integer' ? 'a non-negative integer' : kind === 'bit' ? '0 or 1' : 'a number';
  throw new InvalidRequestError(`attribute ${name}=${text}: the value must be ${what}`);
}

/** The Uri-Query options of a Write-Attributes request: `pmin=1`, `pmax=5`, `gt` (unset). */
export function attributeQuery(update: AttributeUpdate): string[] {
  const out: string[] = [];
  for (const name of WRITABLE_ATTRIBUTES) {
    if (!(name in update) || update[name] === undefined) continue;
    const v = update[name];
    out.push(v === null ? name : `${name}=${String(v)}`);
  }
  return out;
}
