/** Shared pieces of the CLI subcommands: I/O, option parsing, model loading, errors. */
import { readFile } from 'node:fs/promises';
import { canonicalFormat, FORMATS, formatName, parseFormat } from '../core/contentFormat';
import { parseHex, toHex } from '../core/codec/bytes';
import { createModelRegistry, loadModelDirectory, type ModelRegistry } from '../core/model';
import { Lwm2mPath, PathError } from '../core/path';
import type { PskCredential } from '../core/server/psk';

/** Where the CLI reads and writes; the process streams by default, replaceable in tests. */
export interface CliIo {
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
  /** Reads all of standard input; throws CliError when it is a terminal (nothing piped). */
  readStdin(): Promise<Uint8Array>;
}

export function processIo(): CliIo {
  return {
    stdout: (data) => void process.stdout.write(data),
    stderr: (text) => void process.stderr.write(text),
    async readStdin() {
      if (process.stdin.isTTY) throw new CliError('no input: give a FILE argument or pipe data to standard input', 2);
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const all = Buffer.concat(chunks);
      return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
    },
  };
}

/** An error to report as `error: message` with an exit code (1 = bad data, 2 = bad usage). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Collects a repeatable option (`--models a --models b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const FORMAT_NAMES = FORMATS.map((f) => `${f.name} (${f.number})`).join(', ');

/** Help text listing the format names. */
export const FORMAT_HELP = `Formats by name or number: ${FORMATS.map((f) => f.name).join(', ')}; legacy 1541-1544 accepted.`;

/** Parses a `--format`-style value; a usage error lists the known formats. */
export function formatOption(text: string, option: string): number {
  const n = parseFormat(text);
  if (n === undefined) throw new CliError(`${option} ${JSON.stringify(text)} is not a known content format; use one of ${FORMAT_NAMES}`, 2);
  return n;
}

/** Parses a `--path` value. */
export function pathOption(text: string): Lwm2mPath {
  try {
    return Lwm2mPath.parse(text);
  } catch (e) {
    if (e instanceof PathError) throw new CliError(`--path: ${e.message}`, 2);
    throw e;
  }
}

/** Formats whose payload does not name its object, so `--path` is needed to decode them. */
const RELATIVE_FORMATS = new Set([0, 42, 60, 11542]);

/** The request path for decoding: `--path`, or root for self-describing formats. */
export function requirePath(path: string | undefined, format: number): Lwm2mPath {
  if (path !== undefined) return pathOption(path);
  if (RELATIVE_FORMATS.has(canonicalFormat(format))) {
    throw new CliError(`--path is required for ${formatName(format)}: the payload does not say which object it belongs to (e.g. --path /3/0)`, 2);
  }
  return Lwm2mPath.ROOT;
}

/** Reads FILE, or standard input for `-` or no file. */
export async function readInput(file: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (file === undefined || file === '-') return io.readStdin();
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
}

/** Reads input as payload bytes: raw, or hex text with `--hex`. */
export async function readPayload(file: string | undefined, hex: boolean, io: CliIo): Promise<Uint8Array> {
  const bytes = await readInput(file, io);
  if (!hex) return bytes;
  const parsed = parseHex(new TextDecoder().decode(bytes));
  if (parsed instanceof Uint8Array) return parsed;
  throw new CliError(`input is not hex: at character ${parsed.offset}: expected ${parsed.expected}, found ${parsed.found}`, 1);
}

/** Writes payload bytes: raw, or lowercase hex and a newline with `--hex`. */
export function writePayload(bytes: Uint8Array, hex: boolean, io: CliIo): void {
  if (hex) io.stdout(toHex(bytes) + '\n');
  else io.stdout(bytes);
}

/**
 * A registry of the bundled models plus those in `dirs` (later directories win). Problems are
 * printed to stderr as `file:line: reason`.
 */
export async function loadModels(dirs: readonly string[], io: CliIo): Promise<ModelRegistry> {
  const registry = createModelRegistry();
  for (const dir of dirs) {
    const { models, problems } = await loadModelDirectory(dir);
    for (const p of problems) {
      const where = p.column !== undefined ? `${p.file}:${p.line}:${p.column}` : `${p.file}:${p.line}`;
      io.stderr(`${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}\n`);
    }
    registry.addAll(models);
  }
  return registry;
}

/** Prints decoder notes to stderr. */
export function printNotes(notes: readonly string[], io: CliIo): void {
  for (const n of notes) io.stderr(`note: ${n}\n`);
}

/**
 * `--psk IDENTITY:HEXKEY[@ENDPOINT]`. Identities and endpoints may contain colons (urn:imei:…):
 * the key is the first `:HEX` that ends the text or is followed by `@`.
 */
export function parsePskOption(text: string, option = '--psk'): PskCredential {
  const m = /^(.+?):([0-9a-fA-F]+)(?:@(.*))?$/s.exec(text);
  if (!m) throw new CliError(`${option} ${JSON.stringify(text)}: expected IDENTITY:HEXKEY[@ENDPOINT]`, 2);
  const cred: PskCredential = { identity: m[1]!, key: hexKey(m[2]!, `${option} ${JSON.stringify(text)}`) };
  if (m[3] !== undefined) {
    if (m[3] === '') throw new CliError(`${option} ${JSON.stringify(text)}: the endpoint after @ is empty`, 2);
    cred.endpoint = m[3];
  }
  return cred;
}

export function hexKey(text: string, where: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) throw new CliError(`${where}: the key must be an even number of hex digits`, 2);
  return Buffer.from(text, 'hex');
}
