/**
 * Plain text (CF 0, legacy 1541): one resource or resource-instance value
 * (lwm2m-protocol.md §9). Integers, unsigned integers and time are decimal; floats are decimal
 * with optional exponent (`NaN`/`Infinity` accepted); booleans are `0`/`1`; opaque is base64
 * (standard or url alphabet, padding optional); objlnk is `O:I`; strings and corelnk are UTF-8.
 * Leading and trailing whitespace is ignored for every type except string and corelnk.
 */
import { ContentFormat } from '../contentFormat';
import { DecodeError, EncodeError } from '../errors';
import type { Lwm2mRecord, Value, ValueType } from '../node';
import { isObjectLink } from '../node';
import type { Lwm2mPath } from '../path';
import { firstInvalidUtf8, fromBase64, toBase64, utf8Decode, utf8Encode } from './bytes';
import { lookupResource } from './common';
import type { Codec, CodecContext, DecodeResult } from './types';

const FORMAT = ContentFormat.Text;

/** A parse failure at a byte offset (internal; becomes a DecodeError). */
class TextProblem {
  constructor(
    readonly offset: number,
    readonly expected: string,
    readonly found: string,
  ) {}
}

function showByte(bytes: Uint8Array, p: number): string {
  if (p >= bytes.length) return 'end of payload';
  const b = bytes[p]!;
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** The byte at `p`, or "end of value" when `p` reached the (trimmed) end `e`. */
function showAt(bytes: Uint8Array, p: number, e: number): string {
  return p < e ? showByte(bytes, p) : 'end of value';
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** [start, end) without surrounding whitespace. */
function trimRange(bytes: Uint8Array): [number, number] {
  let s = 0;
  let e = bytes.length;
  while (s < e && isSpace(bytes[s]!)) s++;
  while (e > s && isSpace(bytes[e - 1]!)) e--;
  return [s, e];
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function ascii(bytes: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** Decimal integer in `bytes[s,e)`; `signed` allows a leading `-`. Number when safe, else bigint. */
function parseDecimal(bytes: Uint8Array, s: number, e: number, signed: boolean, what: string): number | bigint {
  let p = s;
  if (bytes[p] === 0x2b || (signed && bytes[p] === 0x2d)) p++;
  if (p >= e) throw new TextProblem(p, `${what}: a decimal digit`, showAt(bytes, p, e));
  for (let i = p; i < e; i++) {
    if (!isDigit(bytes[i])) throw new TextProblem(i, `${what}: a decimal digit`, showByte(bytes, i));
  }
  const text = ascii(bytes, s, e);
  if (e - p <= 15) return Number(text);
  const big = BigInt(text.startsWith('+') ? text.slice(1) : text);
  const [min, max] = signed ? [I64_MIN, I64_MAX] : [0n, U64_MAX];
  if (big < min || big > max) throw new TextProblem(s, `${what} within ${signed ? '64-bit signed' : '0..2^64-1'} range`, text);
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** Decimal float: [sign] digits [. digits] [e [sign] digits], or NaN / Infinity. */
function parseFloatText(bytes: Uint8Array, s: number, e: number): number {
  const text = ascii(bytes, s, e);
  if (text === 'NaN') return NaN;
  if (text === 'Infinity' || text === '+Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  let p = s;
  if (bytes[p] === 0x2b || bytes[p] === 0x2d) p++;
  let digits = 0;
  while (p < e && isDigit(bytes[p])) {
    p++;
    digits++;
  }
  if (p < e && bytes[p] === 0x2e) {
    p++;
    while (p < e && isDigit(bytes[p])) {
      p++;
      digits++;
    }
  }
  if (digits === 0) throw new TextProblem(p, 'a float: a decimal digit', showAt(bytes, p, e));
  if (p < e && (bytes[p] === 0x65 || bytes[p] === 0x45)) {
    p++;
    if (p < e && (bytes[p] === 0x2b || bytes[p] === 0x2d)) p++;
    if (!isDigit(bytes[p]) || p >= e) throw new TextProblem(p, 'a float: exponent digits', showAt(bytes, p, e));
    while (p < e && isDigit(bytes[p])) p++;
  }
  if (p < e) throw new TextProblem(p, 'a float: a digit, ".", or exponent', showByte(bytes, p));
  return Number(text);
}

function parseObjlnkText(bytes: Uint8Array, s: number, e: number): Value {
  let p = s;
  const part = (what: string): number => {
    const from = p;
    while (p < e && isDigit(bytes[p])) p++;
    if (p === from) throw new TextProblem(p, `an objlnk "O:I": ${what} digits`, showAt(bytes, p, e));
    const n = Number(ascii(bytes, from, p));
    if (n > 0xffff) throw new TextProblem(from, `an objlnk ${what} in 0..65535`, String(n));
    return n;
  };
  const objectId = part('object id');
  if (p >= e || bytes[p] !== 0x3a) throw new TextProblem(p, 'an objlnk "O:I": ":"', showAt(bytes, p, e));
  p++;
  const instanceId = part('instance id');
  if (p < e) throw new TextProblem(p, 'end of the objlnk', showByte(bytes, p));
  return { objectId, instanceId };
}

function parseUtf8(bytes: Uint8Array): string {
  const s = utf8Decode(bytes);
  if (s === undefined) {
    const bad = firstInvalidUtf8(bytes);
    throw new TextProblem(bad, 'UTF-8 text', showByte(bytes, bad));
  }
  return s;
}

/** Parses the text form of a value of `type`. Throws TextProblem. */
function parseText(type: ValueType, bytes: Uint8Array): Value {
  if (type === 'string' || type === 'corelnk') return parseUtf8(bytes);
  const [s, e] = trimRange(bytes);
  switch (type) {
    case 'integer':
      return parseDecimal(bytes, s, e, true, 'an integer');
    case 'time':
      return parseDecimal(bytes, s, e, true, 'a time in seconds');
    case 'unsigned integer':
      return parseDecimal(bytes, s, e, false, 'an unsigned integer');
    case 'float':
      return parseFloatText(bytes, s, e);
    case 'boolean':
      if (e - s === 1 && (bytes[s] === 0x30 || bytes[s] === 0x31)) return bytes[s] === 0x31;
      throw new TextProblem(s, 'a boolean "0" or "1"', e === s ? 'nothing' : JSON.stringify(parseUtf8(bytes.subarray(s, e)).slice(0, 20)));
    case 'objlnk':
      return parseObjlnkText(bytes, s, e);
    case 'opaque': {
      const text = parseUtf8(bytes.subarray(s, e));
      const r = fromBase64(text);
      if (r instanceof Uint8Array) return r.slice();
      throw new TextProblem(s + r.offset, 'base64 text', r.found);
    }
    case 'none':
      throw new TextProblem(0, 'no payload (the resource is executable)', `${bytes.length} bytes`);
  }
}

/** Other readings of unmodelled text. */
function textReadings(bytes: Uint8Array): Partial<Record<ValueType, Value>> {
  const readings: Partial<Record<ValueType, Value>> = {};
  for (const t of ['integer', 'float', 'boolean', 'objlnk'] as const) {
    try {
      readings[t] = parseText(t, bytes);
    } catch {
      // not this type
    }
  }
  if (readings.integer !== undefined) delete readings.float;
  return readings;
}

/** Checks the request path is a resource or resource instance (text/opaque carry one value). */
export function requireSingleValuePath(ctx: CodecContext, format: number): Lwm2mPath {
  const path = ctx.path;
  if (path.length < 3) {
    throw new DecodeError({ format, offset: 0, expected: 'a request path to a resource or resource instance (/O/I/R[/RI])', found: `request path ${path.toString()}` });
  }
  return path;
}

function decodeText(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
  const path = requireSingleValuePath(ctx, FORMAT);
  const model = lookupResource(ctx, path);
  const span: [number, number] = [0, bytes.length];
  if (!model) {
    const text = utf8Decode(bytes);
    const note = `no model for ${path.toString()}: value kept as ${text === undefined ? 'opaque bytes (not UTF-8)' : 'a string'}; see readings`;
    const record: Lwm2mRecord =
      text === undefined
        ? { path, type: 'opaque', value: bytes.slice(), modelled: false, span }
        : { path, type: 'string', value: text, modelled: false, readings: textReadings(bytes), span };
    return { format: FORMAT, records: [record], notes: [note] };
  }
  try {
    const value = parseText(model.type, bytes);
    return { format: FORMAT, records: [{ path, type: model.type, value, span }], notes: [] };
  } catch (e) {
    if (e instanceof TextProblem) {
      throw new DecodeError({ format: FORMAT, offset: e.offset, expected: `${e.expected} for ${path.toString()} (${model.name}, ${model.type})`, found: e.found });
    }
    throw e;
  }
}

/** The text form of a typed value (the inverse of decoding). */
export function formatText(type: ValueType, value: Value): string | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return typeof value === 'string' ? value : undefined;
    case 'integer':
    case 'unsigned integer':
    case 'time':
      if (typeof value === 'bigint') return value.toString();
      return typeof value === 'number' && Number.isInteger(value) ? String(value) : undefined;
    case 'float':
      return typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? (value ? '1' : '0') : undefined;
    case 'opaque':
      return value instanceof Uint8Array ? toBase64(value) : undefined;
    case 'objlnk':
      return isObjectLink(value) ? `${value.objectId}:${value.instanceId}` : undefined;
    case 'none':
      return undefined;
  }
}

/** Checks `records` is exactly one value inside the request path; returns it. */
export function requireSingleRecord(records: readonly Lwm2mRecord[], ctx: CodecContext, format: number): Lwm2mRecord & { value: Value } {
  if (records.length !== 1) throw new EncodeError(format, `it carries exactly one value, got ${records.length} records`);
  const r = records[0]!;
  if (r.path.length < 3) throw new EncodeError(format, `${r.path.toString()} is not a resource or resource instance`);
  if (!ctx.path.isRoot() && !ctx.path.equals(r.path)) {
    throw new EncodeError(format, `the record ${r.path.toString()} is not the request path ${ctx.path.toString()}`);
  }
  if (r.value === null) throw new EncodeError(format, `${r.path.toString()} has no value`);
  return r as Lwm2mRecord & { value: Value };
}

/** The plain text codec. Decoding needs `ctx.path` to be a resource or resource instance. */
export const textCodec: Codec = {
  format: FORMAT,
  name: 'text',
  decode: decodeText,
  encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
    const r = requireSingleRecord(records, ctx, FORMAT);
    const text = formatText(r.type, r.value);
    if (text === undefined) throw new EncodeError(FORMAT, `${r.path.toString()}: a ${r.type} value cannot be ${typeof r.value === 'object' ? 'this object' : typeof r.value}`);
    return utf8Encode(text);
  },
};
