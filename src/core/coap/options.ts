/** CoAP option numbers and value helpers (lwm2m-protocol.md §1.3, §1.4, §3). */

import type { CoapOption } from './message';

export const OptionNumber = {
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  Oscore: 9,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  Accept: 17,
  LocationQuery: 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
} as const;

const NAMES = new Map<number, string>([
  [1, 'If-Match'],
  [3, 'Uri-Host'],
  [4, 'ETag'],
  [5, 'If-None-Match'],
  [6, 'Observe'],
  [7, 'Uri-Port'],
  [8, 'Location-Path'],
  [9, 'OSCORE'],
  [11, 'Uri-Path'],
  [12, 'Content-Format'],
  [14, 'Max-Age'],
  [15, 'Uri-Query'],
  [17, 'Accept'],
  [20, 'Location-Query'],
  [23, 'Block2'],
  [27, 'Block1'],
  [28, 'Size2'],
  [35, 'Proxy-Uri'],
  [39, 'Proxy-Scheme'],
  [60, 'Size1'],
]);

/** `11` → `"Uri-Path"`; unknown numbers as digits. */
export function optionName(number: number): string {
  return NAMES.get(number) ?? String(number);
}

/**
 * Options this implementation understands, with their maximum value length in bytes.
 * OSCORE, Proxy-Uri and Proxy-Scheme are deliberately absent: we do not implement them, so as
 * critical options they make a request fail with 4.02 Bad Option.
 */
const SUPPORTED: ReadonlyMap<number, number> = new Map([
  [1, 8],
  [3, 255],
  [4, 8],
  [5, 0],
  [6, 3],
  [7, 2],
  [8, 255],
  [11, 255],
  [12, 2],
  [14, 4],
  [15, 255],
  [17, 2],
  [20, 255],
  [23, 3],
  [27, 3],
  [28, 4],
  [60, 4],
]);

const REPEATABLE = new Set<number>([1, 4, 8, 11, 15, 20]);

/**
 * The first critical option that is unknown, of invalid length, or repeated although it is not
 * repeatable — the condition for 4.02 Bad Option (RFC 7252 §5.4.1). Undefined when all are fine.
 * Elective options in that condition are ignored: readers below treat them as absent.
 */
export function firstBadCriticalOption(options: readonly CoapOption[]): number | undefined {
  for (let i = 0; i < options.length; i++) {
    const { number, value } = options[i]!;
    if ((number & 1) === 0) continue;
    const max = SUPPORTED.get(number);
    if (max === undefined || value.length > max) return number;
    if (i > 0 && options[i - 1]!.number === number && !REPEATABLE.has(number)) return number;
  }
  return undefined;
}

/** Minimal big-endian encoding of an unsigned integer option value (0 → zero bytes). */
export function encodeUint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${n} is not a uint32`);
  if (n === 0) return Buffer.alloc(0);
  const len = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
  const buf = Buffer.allocUnsafe(len);
  buf.writeUIntBE(n, 0, len);
  return buf;
}

/** Decodes a uint option value; leading zero bytes are accepted. */
export function decodeUint(value: Uint8Array): number {
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

/** First value of an option, or undefined. */
export function getOption(options: readonly CoapOption[], number: number): Buffer | undefined {
  for (const o of options) if (o.number === number) return o.value;
  return undefined;
}

/**
 * A uint option's value, or undefined when absent or longer than the option allows
 * (an out-of-range elective option is treated as absent).
 */
export function getUintOption(options: readonly CoapOption[], number: number): number | undefined {
  const v = getOption(options, number);
  if (v === undefined || v.length > (SUPPORTED.get(number) ?? 4)) return undefined;
  return decodeUint(v);
}

/** All values of a string option (Uri-Path, Uri-Query, Location-Path), decoded as UTF-8. */
export function getStringOptions(options: readonly CoapOption[], number: number): string[] {
  const out: string[] = [];
  for (const o of options) if (o.number === number) out.push(o.value.toString('utf8'));
  return out;
}

/** One option per string (Uri-Path segments, Uri-Query parameters, Location-Path segments). */
export function stringOptions(number: number, values: readonly string[]): CoapOption[] {
  return values.map((v) => ({ number, value: Buffer.from(v, 'utf8') }));
}

export function uintOption(number: number, n: number): CoapOption {
  return { number, value: encodeUint(n) };
}

/** A copy of `options` without the given option numbers. */
export function withoutOptions(options: readonly CoapOption[], ...numbers: number[]): CoapOption[] {
  return options.filter((o) => !numbers.includes(o.number));
}

// ----- Block1 / Block2 (RFC 7959) -----------------------------------------------------------

/** A Block1/Block2 option value. Block size is 2^(szx+4) bytes; szx 7 is reserved. */
export interface BlockOption {
  num: number;
  more: boolean;
  szx: number;
}

export const MAX_SZX = 6;

export function blockSize(szx: number): number {
  return 1 << (szx + 4);
}

export function decodeBlock(value: Uint8Array): BlockOption {
  const n = decodeUint(value);
  return { num: Math.floor(n / 16), more: (n & 8) !== 0, szx: n & 7 };
}

export function encodeBlock(b: BlockOption): Buffer {
  return encodeUint(b.num * 16 + (b.more ? 8 : 0) + b.szx);
}

/** The Block1 or Block2 option, or undefined when absent or too long. */
export function getBlock(options: readonly CoapOption[], number: 23 | 27): BlockOption | undefined {
  const v = getOption(options, number);
  return v === undefined || v.length > 3 ? undefined : decodeBlock(v);
}
