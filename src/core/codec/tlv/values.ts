/**
 * Value encodings inside TLV (lwm2m-protocol.md §10.2): bytes ⇄ typed values.
 * Decoders throw `ValueProblem`; the node mapping turns it into a DecodeError with the offset.
 */
import type { ObjectLink, Value, ValueType } from '../../node';
import { isObjectLink } from '../../node';
import { utf8Decode, utf8Encode, firstInvalidUtf8 } from '../bytes';

/** Why a value could not be read or written, in DecodeError terms. */
export class ValueProblem {
  constructor(
    readonly expected: string,
    readonly found: string,
    /** Offset relative to the value start, when the problem is at a particular byte. */
    readonly at = 0,
  ) {}
}

const TWO_32 = 4294967296;
const SAFE_HI = 0x200000; // 2^21: hi * 2^32 + lo stays below 2^53

/** Signed big-endian two's complement of 1, 2, 4 or 8 bytes; bigint beyond 2^53. */
export function readInteger(view: DataView, p: number, len: number): number | bigint {
  switch (len) {
    case 1:
      return view.getInt8(p);
    case 2:
      return view.getInt16(p);
    case 4:
      return view.getInt32(p);
    case 8: {
      const hi = view.getInt32(p);
      if (hi < SAFE_HI && hi >= -SAFE_HI) {
        const v = hi * TWO_32 + view.getUint32(p + 4);
        if (Number.isSafeInteger(v)) return v;
      }
      return view.getBigInt64(p);
    }
    default:
      throw new ValueProblem('an integer of 1, 2, 4 or 8 bytes', `${len} bytes`);
  }
}

/** Unsigned big-endian of 1, 2, 4 or 8 bytes; bigint beyond 2^53. */
export function readUnsigned(view: DataView, p: number, len: number): number | bigint {
  switch (len) {
    case 1:
      return view.getUint8(p);
    case 2:
      return view.getUint16(p);
    case 4:
      return view.getUint32(p);
    case 8: {
      const hi = view.getUint32(p);
      if (hi < SAFE_HI) return hi * TWO_32 + view.getUint32(p + 4);
      return view.getBigUint64(p);
    }
    default:
      throw new ValueProblem('an unsigned integer of 1, 2, 4 or 8 bytes', `${len} bytes`);
  }
}

export function readFloat(view: DataView, p: number, len: number): number {
  if (len === 4) return view.getFloat32(p);
  if (len === 8) return view.getFloat64(p);
  throw new ValueProblem('a float of 4 or 8 bytes', `${len} bytes`);
}

export function readBoolean(bytes: Uint8Array, p: number, len: number): boolean {
  if (len !== 1) throw new ValueProblem('a boolean of 1 byte', `${len} bytes`);
  const b = bytes[p]!;
  if (b > 1) throw new ValueProblem('a boolean byte 00 or 01', `0x${b.toString(16).padStart(2, '0')}`);
  return b === 1;
}

export function readObjlnk(view: DataView, p: number, len: number): ObjectLink {
  if (len !== 4) throw new ValueProblem('an objlnk of 4 bytes', `${len} bytes`);
  return { objectId: view.getUint16(p), instanceId: view.getUint16(p + 2) };
}

export function readString(bytes: Uint8Array, p: number, len: number): string {
  const s = utf8Decode(bytes, p, p + len);
  if (s === undefined) {
    const bad = firstInvalidUtf8(bytes, p, p + len);
    throw new ValueProblem('UTF-8 text', `byte 0x${bytes[p + bad]!.toString(16).padStart(2, '0')}`, bad);
  }
  return s;
}

/** Reads a value of a known type from `bytes[p, p+len)`. Opaque values are copied. */
export function readValue(type: ValueType, bytes: Uint8Array, view: DataView, p: number, len: number): Value {
  switch (type) {
    case 'string':
    case 'corelnk':
      return readString(bytes, p, len);
    case 'integer':
    case 'time':
      return readInteger(view, p, len);
    case 'unsigned integer':
      return readUnsigned(view, p, len);
    case 'float':
      return readFloat(view, p, len);
    case 'boolean':
      return readBoolean(bytes, p, len);
    case 'objlnk':
      return readObjlnk(view, p, len);
    case 'opaque':
      return bytes.slice(p, p + len);
    case 'none':
      throw new ValueProblem('no value (executable resource)', `${len} value bytes`);
  }
}

/** Other plausible readings of unmodelled bytes (for people to pick from). */
export function guessReadings(bytes: Uint8Array, view: DataView, p: number, len: number): Partial<Record<ValueType, Value>> {
  const r: Partial<Record<ValueType, Value>> = {};
  if (len === 1 || len === 2 || len === 4 || len === 8) {
    const i = readInteger(view, p, len);
    r.integer = i;
    const u = readUnsigned(view, p, len);
    if (u !== i) r['unsigned integer'] = u;
  }
  if (len === 4 || len === 8) {
    const f = readFloat(view, p, len);
    if (Number.isFinite(f)) r.float = f;
  }
  if (len === 1 && bytes[p]! <= 1) r.boolean = bytes[p] === 1;
  if (len > 0) {
    const s = utf8Decode(bytes, p, p + len);
    if (s !== undefined && isPrintable(s)) r.string = s;
  }
  return r;
}

function isPrintable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

// ----- encoding ------------------------------------------------------------------------------

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

function toBigInt(v: Value, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new ValueProblem(what, describe(v));
}

/** Smallest signed two's complement form of 1, 2, 4 or 8 bytes. */
export function writeInteger(v: Value): Uint8Array {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    if (v >= -0x80 && v <= 0x7f) return Uint8Array.of(v & 0xff);
    if (v >= -0x8000 && v <= 0x7fff) return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
    if (v >= -0x80000000 && v <= 0x7fffffff) return Uint8Array.of((v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  }
  const b = toBigInt(v, 'an integer');
  if (b < I64_MIN || b > I64_MAX) throw new ValueProblem('an integer within 64 bits', describe(v));
  if (b >= -0x80000000n && b <= 0x7fffffffn) return writeInteger(Number(b));
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, b);
  return out;
}

/** Smallest unsigned form of 1, 2, 4 or 8 bytes. */
export function writeUnsigned(v: Value): Uint8Array {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    if (v <= 0xff) return Uint8Array.of(v);
    if (v <= 0xffff) return Uint8Array.of(v >> 8, v & 0xff);
    if (v <= 0xffffffff) return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  const b = toBigInt(v, 'an unsigned integer');
  if (b < 0n || b > U64_MAX) throw new ValueProblem('an unsigned integer within 0..2^64-1', describe(v));
  if (b <= 0xffffffffn) return writeUnsigned(Number(b));
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, b);
  return out;
}

/** float32 when the value survives the round trip exactly, float64 otherwise. */
export function writeFloat(v: Value): Uint8Array {
  let f: number;
  if (typeof v === 'number') f = v;
  else if (typeof v === 'bigint') f = Number(v);
  else throw new ValueProblem('a number', describe(v));
  if (Object.is(Math.fround(f), f) || Number.isNaN(f)) {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setFloat32(0, f);
    return out;
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, f);
  return out;
}

/** Encodes a typed value into its TLV value bytes. Throws ValueProblem when it does not fit. */
export function writeValue(type: ValueType, v: Value): Uint8Array {
  switch (type) {
    case 'string':
    case 'corelnk':
      if (typeof v !== 'string') throw new ValueProblem('a string', describe(v));
      return utf8Encode(v);
    case 'integer':
    case 'time':
      return writeInteger(v);
    case 'unsigned integer':
      return writeUnsigned(v);
    case 'float':
      return writeFloat(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw new ValueProblem('a boolean', describe(v));
      return Uint8Array.of(v ? 1 : 0);
    case 'objlnk': {
      if (!isObjectLink(v)) throw new ValueProblem('an object link', describe(v));
      const { objectId: o, instanceId: i } = v;
      if (!Number.isInteger(o) || !Number.isInteger(i) || o < 0 || i < 0 || o > 0xffff || i > 0xffff) {
        throw new ValueProblem('an object link with ids 0..65535', `${o}:${i}`);
      }
      return Uint8Array.of(o >> 8, o & 0xff, i >> 8, i & 0xff);
    }
    case 'opaque':
      if (!(v instanceof Uint8Array)) throw new ValueProblem('bytes', describe(v));
      return v;
    case 'none':
      throw new ValueProblem('a resource with a value', 'an executable resource');
  }
}
