/**
 * The raw CBOR layer (RFC 8949): a byte-offset-tracking reader and a shortest-form writer.
 * It knows nothing about LwM2M; the SenML, LwM2M CBOR and CF 60 codecs build on it.
 *
 * Numbers: integers are `number` while safe and `bigint` beyond 2^53; floats are `number`.
 * Every failure is a DecodeError naming the offset of the item that could not be read.
 */

import { DecodeError } from '../../errors';
import { utf8Decode, utf8Encode } from '../bytes';

/** A decoded CBOR data item. Maps keep their keys as decoded (arrays and maps compare by identity). */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborValue, CborValue>
  | CborTag
  | CborSimple;

/** A tagged item (major type 6) the generic decoder does not interpret. */
export class CborTag {
  constructor(
    readonly tag: number | bigint,
    readonly value: CborValue,
  ) {}
}

/** A simple value (major type 7) other than false/true/null/undefined. */
export class CborSimple {
  constructor(readonly value: number) {}
}

/** One item with its byte ranges, for the payload inspector. */
export interface CborItem {
  /** Major type 0..7. */
  major: number;
  /** [start, end) of the initial byte and its argument. */
  head: [number, number];
  /** [start, end) of the whole item including nested items. */
  span: [number, number];
  /**
   * Scalars and strings: the decoded value. Tags: the tag number.
   * Arrays and maps: the declared count (pairs for maps), or -1 when of indefinite length.
   */
  value: CborValue;
  indefinite?: boolean;
  /** Array elements; map keys and values alternating; the tagged item; string chunks. */
  children?: CborItem[];
}

/** Nesting limit of the reader: deeper payloads are rejected instead of exhausting the stack. */
export const DEFAULT_MAX_DEPTH = 64;

const MAJOR_NAMES = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag'];
const TWO_32 = 4294967296;

/** Short ASCII texts handed out again by `readName`, by a hash of their bytes. */
const INTERN_MAX = 32;
const INTERN_SLOTS = 4096;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

/** `CborReader.arg` of an integer argument beyond 2^53; the value is in `bigArg`. */
export const BIG_ARG = -2;
/** `CborReader.arg` of an indefinite-length head. */
export const INDEFINITE = -1;

const POW2 = Array.from({ length: 32 }, (_, e) => 2 ** (e - 25));

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const v = exp === 0 ? mant * 2 ** -24 : exp === 31 ? (mant ? NaN : Infinity) : (1024 + mant) * POW2[exp]!;
  return h & 0x8000 ? -v : v;
}

/**
 * Reads CBOR items one at a time from `bytes`. Low-level use: `readHead()` consumes an item's
 * initial byte and argument and returns its major type, leaving `start`, `major`, `info` and
 * `arg` set; the typed helpers (`readText`, `readNumeric`, …) read a whole item of an expected kind.
 */
export class CborReader {
  /** Offset of the next unread byte. */
  pos = 0;
  /** Offset of the item whose head was read last. */
  start = 0;
  /** Major type of the last head. */
  major = 0;
  /** Additional information (low 5 bits) of the last head; 31 = indefinite length or break. */
  info = 0;
  /**
   * Argument of the last head: the unsigned value, length, count, tag number or simple value;
   * INDEFINITE for indefinite lengths, BIG_ARG beyond 2^53 (see `bigArg`); for floats the float.
   * Always a number, so the field never holds a boxed mix of numbers and bigints.
   */
  arg = 0;
  /** The argument when `arg` is BIG_ARG. */
  bigArg = 0n;
  /** Whether the last `readNumeric` read a float or decimal fraction rather than an integer. */
  isFloat = false;
  private view: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** Content format named in errors. */
    readonly format: number,
    readonly maxDepth = DEFAULT_MAX_DEPTH,
  ) {}

  /** Throws a DecodeError at `offset` (default: the item whose head was read last). */
  fail(expected: string, found: string, offset = this.start): never {
    throw new DecodeError({ format: this.format, offset, expected, found });
  }

  /** Fails unless every byte has been read. */
  expectEnd(): void {
    if (this.pos < this.bytes.length) {
      this.fail('end of payload', `${this.bytes.length - this.pos} more byte(s)`, this.pos);
    }
  }

  /** Major type of the next item without consuming it, or -1 at the end of the payload. */
  peekMajor(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! >> 5 : -1;
  }

  /** Consumes a break byte (0xFF) if it is next. Loops over indefinite containers use it. */
  atBreak(): boolean {
    if (this.bytes[this.pos] === 0xff) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Reads an item head and returns its major type. Rejects reserved and malformed heads. */
  readHead(): number {
    const b = this.bytes;
    const p = this.pos;
    if (p >= b.length) this.fail('a CBOR item', 'end of payload', p);
    const ib = b[p]!;
    const major = ib >> 5;
    const info = ib & 31;
    this.start = p;
    this.major = major;
    this.info = info;
    if (info < 24) {
      this.arg = info;
      this.pos = p + 1;
      return major;
    }
    if (info === 31) {
      if (major <= 1 || major === 6) this.fail('a definite-length argument', `indefinite ${MAJOR_NAMES[major]}`, p);
      this.arg = INDEFINITE;
      this.pos = p + 1;
      return major;
    }
    if (info > 27) this.fail('a CBOR item', `reserved additional information ${info}`, p);
    const size = 1 << (info - 24);
    if (p + 1 + size > b.length) this.fail(`a ${size}-byte argument`, 'end of payload', p);
    this.pos = p + 1 + size;
    if (major === 7) {
      if (info === 24) {
        if (b[p + 1]! < 32) this.fail('a simple value of 32 or more in the two-byte form', `${b[p + 1]}`, p);
        this.arg = b[p + 1]!;
      } else if (info === 25) this.arg = halfToNumber((b[p + 1]! << 8) | b[p + 2]!);
      else if (info === 26) this.arg = this.dataView().getFloat32(p + 1);
      else this.arg = this.dataView().getFloat64(p + 1);
    } else if (info === 24) this.arg = b[p + 1]!;
    else if (info === 25) this.arg = (b[p + 1]! << 8) | b[p + 2]!;
    else if (info === 26) this.arg = b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
    else {
      const hi = b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
      const lo = b[p + 5]! * 0x1000000 + ((b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!);
      if (hi < 0x200000) this.arg = hi * TWO_32 + lo;
      else {
        this.arg = BIG_ARG;
        this.bigArg = (BigInt(hi) << 32n) | BigInt(lo);
      }
    }
    return major;
  }

  /** The argument of the last head as an exact integer (number while safe). */
  argument(): number | bigint {
    return this.arg === BIG_ARG ? this.bigArg : this.arg;
  }

  /** Describes the last head for error messages ("text string", "map", "float 22.5", …). */
  describe(): string {
    if (this.major < 7) return this.major === 6 ? `tag ${this.argument()}` : MAJOR_NAMES[this.major]!;
    switch (this.info) {
      case 20:
        return 'false';
      case 21:
        return 'true';
      case 22:
        return 'null';
      case 23:
        return 'undefined';
      case 25:
      case 26:
      case 27:
        return `float ${this.arg}`;
      case 31:
        return 'break';
      default:
        return `simple value ${this.arg}`;
    }
  }

  /** The count of the last array/map head: INDEFINITE, or a count no larger than 2^53. */
  private count(): number {
    if (this.arg === BIG_ARG) this.fail('a count the payload can hold', `${this.bigArg} items`);
    return this.arg;
  }

  /** Reads an array head; returns the count, or INDEFINITE (-1). */
  readArrayStart(expected = 'an array'): number {
    const ib = this.bytes[this.pos]!;
    if (ib >= 0x80 && ib < 0x98) return this.shortHead(ib - 0x80);
    if (this.readHead() !== 4) this.fail(expected, this.describe());
    return this.count();
  }

  /** Reads a map head; returns the number of pairs, or INDEFINITE (-1). */
  readMapStart(expected = 'a map'): number {
    const ib = this.bytes[this.pos]!;
    if (ib >= 0xa0 && ib < 0xb8) return this.shortHead(ib - 0xa0);
    if (this.readHead() !== 5) this.fail(expected, this.describe());
    return this.count();
  }

  /** Consumes a one-byte container head (count below 24) without the general head reading. */
  private shortHead(count: number): number {
    this.start = this.pos++;
    return count;
  }

  /** Reads a text string (definite or chunked). */
  readText(expected = 'a text string'): string {
    if (this.readHead() !== 3) this.fail(expected, this.describe());
    return this.stringBody(3) as string;
  }

  /**
   * Reads a text string like `readText`, but hands out the same string object for a repeated
   * short ASCII text (names repeat from payload to payload): no new string, and V8 keeps its hash.
   */
  readName(expected = 'a text string'): string {
    const b = this.bytes;
    let p = this.pos;
    let len: number;
    const ib = b[p]!;
    if (ib >= 0x60 && ib < 0x78) {
      // A short text's head is one byte: skip the general head reading.
      this.start = p;
      len = ib - 0x60;
      this.pos = ++p;
      if (len > b.length - p) this.fail(`${len} bytes of string`, `only ${b.length - p} left`);
    } else {
      if (this.readHead() !== 3) this.fail(expected, this.describe());
      len = this.arg;
      p = this.pos;
    }
    if (len < 0 || len > INTERN_MAX || len > b.length - p) {
      this.arg = len;
      return this.stringBody(3) as string;
    }
    let h = 0;
    for (let k = p; k < p + len; k++) {
      const c = b[k]!;
      if (c >= 0x80) {
        this.arg = len;
        return this.stringBody(3) as string;
      }
      h = (h * 31 + c) | 0;
    }
    this.pos = p + len;
    const slot = (h + len) & (INTERN_SLOTS - 1);
    const known = interned[slot]!;
    if (known.length === len) {
      let k = 0;
      while (k < len && known.charCodeAt(k) === b[p + k]) k++;
      if (k === len) return known;
    }
    return (interned[slot] = utf8Decode(b, p, p + len)!);
  }

  /** Reads a byte string (definite or chunked) into a fresh array. */
  readBytes(expected = 'a byte string'): Uint8Array {
    if (this.readHead() !== 2) this.fail(expected, this.describe());
    return this.stringBody(2) as Uint8Array;
  }

  /** Reads `false` or `true`. */
  readBoolean(expected = 'a boolean'): boolean {
    if (this.readHead() !== 7 || (this.info !== 20 && this.info !== 21)) this.fail(expected, this.describe());
    return this.info === 21;
  }

  /** Consumes `null` (0xF6) when it is next; returns whether it did. */
  readNull(): boolean {
    if (this.bytes[this.pos] === 0xf6) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * Reads a number: an integer (major 0/1), a float, or a decimal fraction (tag 4,
   * `[exponent, mantissa]`). `isFloat` tells afterwards whether it was not a plain integer.
   */
  readNumeric(expected = 'a number'): number | bigint {
    // Fast paths for the common heads: small integers, uint8/16/32, float16/32/64.
    const b = this.bytes;
    const p = this.pos;
    const ib = b[p]!;
    if (ib < 0x18 || (ib >= 0x20 && ib < 0x38)) {
      this.pos = p + 1;
      this.isFloat = false;
      return ib < 0x18 ? ib : 0x1f - ib;
    }
    if (ib >= 0x18 && ib <= 0x1a && p + 1 + (1 << (ib - 0x18)) <= b.length) {
      this.isFloat = false;
      if (ib === 0x18) {
        this.pos = p + 2;
        return b[p + 1]!;
      }
      if (ib === 0x19) {
        this.pos = p + 3;
        return (b[p + 1]! << 8) | b[p + 2]!;
      }
      this.pos = p + 5;
      return b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
    }
    if (ib === 0xf9 && p + 3 <= b.length) {
      this.pos = p + 3;
      this.isFloat = true;
      return halfToNumber((b[p + 1]! << 8) | b[p + 2]!);
    }
    if ((ib === 0xfa || ib === 0xfb) && p + (ib === 0xfa ? 5 : 9) <= b.length) {
      this.pos = p + (ib === 0xfa ? 5 : 9);
      this.isFloat = true;
      return ib === 0xfa ? this.dataView().getFloat32(p + 1) : this.dataView().getFloat64(p + 1);
    }
    const major = this.readHead();
    if (major <= 1) {
      this.isFloat = false;
      return this.intValue();
    }
    this.isFloat = true;
    if (major === 7 && this.info >= 25 && this.info <= 27) return this.arg;
    if (major === 6 && this.arg === 4) return this.decimalFraction();
    return this.fail(expected, this.describe());
  }

  /** The signed value of the last major 0/1 head: a number while safe, else a bigint. */
  intValue(): number | bigint {
    const a = this.arg;
    if (a === BIG_ARG) return this.major === 0 ? this.bigArg : -1n - this.bigArg;
    if (this.major === 0) return a;
    return a < Number.MAX_SAFE_INTEGER ? -1 - a : -1n - BigInt(a);
  }

  private decimalFraction(): number {
    const at = this.start;
    if (this.readArrayStart('a decimal fraction [exponent, mantissa]') !== 2) {
      this.fail('a decimal fraction [exponent, mantissa]', 'an array of another length', at);
    }
    if (this.readHead() > 1) this.fail('an integer exponent', this.describe());
    const e = this.intValue();
    if (this.readHead() > 1) this.fail('an integer mantissa', this.describe());
    return Number(`${this.intValue()}e${e}`);
  }

  /** Reads a string body after its head (major 2 or 3, possibly chunked). */
  private stringBody(major: number): string | Uint8Array {
    if (this.arg === INDEFINITE) {
      const chunks: Uint8Array[] = [];
      while (!this.atBreak()) {
        if (this.readHead() !== major || this.arg === INDEFINITE) {
          this.fail(`a definite ${MAJOR_NAMES[major]} chunk`, this.describe());
        }
        const at = this.start;
        const chunk = this.take();
        if (major === 3) this.utf8(chunk, 0, chunk.length, at);
        chunks.push(chunk);
      }
      const all = concat(chunks);
      return major === 2 ? all : this.utf8(all, 0, all.length, this.start);
    }
    if (major === 2) return this.take().slice();
    const at = this.start;
    const len = this.checkLength();
    const begin = this.pos;
    this.pos += len;
    return this.utf8(this.bytes, begin, begin + len, at);
  }

  private checkLength(): number {
    const len = this.arg;
    const left = this.bytes.length - this.pos;
    if (len === BIG_ARG || len > left) this.fail(`${this.argument()} bytes of string`, `only ${left} left`);
    return len;
  }

  private take(): Uint8Array {
    const len = this.checkLength();
    const begin = this.pos;
    this.pos += len;
    return this.bytes.subarray(begin, begin + len);
  }

  private utf8(b: Uint8Array, begin: number, end: number, at: number): string {
    return utf8Decode(b, begin, end) ?? this.fail('valid UTF-8 text', 'invalid UTF-8', at);
  }

  private dataView(): DataView {
    return (this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting of at most ${this.maxDepth} levels`, 'deeper nesting', this.pos);
  }

  /** Skips one whole item. */
  skip(depth = 0): void {
    this.checkDepth(depth);
    const major = this.readHead();
    switch (major) {
      case 2:
      case 3:
        this.stringBody(major);
        return;
      case 4:
      case 5: {
        const n = this.count();
        for (let i = 0; n < 0 ? !this.atBreak() : i < n; i++) {
          if (major === 5) this.skip(depth + 1);
          this.skip(depth + 1);
        }
        return;
      }
      case 6:
        this.skip(depth + 1);
        return;
      case 7:
        if (this.info === 31) this.fail('a CBOR item', 'a break outside an indefinite-length item');
    }
  }

  /** Reads one whole item as a JS value (maps become `Map`, unknown tags `CborTag`). */
  readValue(depth = 0): CborValue {
    this.checkDepth(depth);
    const major = this.readHead();
    switch (major) {
      case 0:
      case 1:
        return this.intValue();
      case 2:
      case 3:
        return this.stringBody(major);
      case 4: {
        const n = this.count();
        const out: CborValue[] = [];
        for (let i = 0; n < 0 ? !this.atBreak() : i < n; i++) out.push(this.readValue(depth + 1));
        return out;
      }
      case 5: {
        const n = this.count();
        const out = new Map<CborValue, CborValue>();
        for (let i = 0; n < 0 ? !this.atBreak() : i < n; i++) {
          const k = this.readValue(depth + 1);
          out.set(k, this.readValue(depth + 1));
        }
        return out;
      }
      case 6: {
        const tag = this.argument();
        return new CborTag(tag, this.readValue(depth + 1));
      }
      default:
        return this.simpleValue();
    }
  }

  private simpleValue(): CborValue {
    switch (this.info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25:
      case 26:
      case 27:
        return this.arg;
      case 31:
        return this.fail('a CBOR item', 'a break outside an indefinite-length item');
      default:
        return new CborSimple(this.arg);
    }
  }

  /** Reads one whole item with the byte ranges of it and everything inside it. */
  readItem(depth = 0): CborItem {
    this.checkDepth(depth);
    const major = this.readHead();
    const start = this.start;
    const item: CborItem = { major, head: [start, this.pos], span: [start, start], value: null };
    const indefinite = major !== 7 && this.arg === INDEFINITE;
    if (indefinite) item.indefinite = true;
    switch (major) {
      case 0:
      case 1:
        item.value = this.intValue();
        break;
      case 2:
      case 3:
        if (indefinite) {
          // Read the chunks as items so each gets its own range.
          const children: CborItem[] = [];
          while (!this.atBreak()) {
            const chunk = this.readItem(depth + 1);
            if (chunk.major !== major || chunk.indefinite) {
              this.fail(`a definite ${MAJOR_NAMES[major]} chunk`, MAJOR_NAMES[chunk.major] ?? 'simple value', chunk.head[0]);
            }
            children.push(chunk);
          }
          item.children = children;
          item.value = major === 3 ? children.map((c) => c.value).join('') : concat(children.map((c) => c.value as Uint8Array));
        } else item.value = this.stringBody(major);
        break;
      case 4:
      case 5: {
        const n = this.count();
        item.value = n;
        const children: CborItem[] = [];
        const items = n < 0 ? -1 : major === 5 ? 2 * n : n;
        for (let i = 0; items < 0 ? !this.atBreak() : i < items; i++) children.push(this.readItem(depth + 1));
        if (major === 5 && children.length % 2 === 1) this.fail('a map value', 'break', this.pos - 1);
        item.children = children;
        break;
      }
      case 6:
        item.value = this.argument();
        item.children = [this.readItem(depth + 1)];
        break;
      default:
        item.value = this.simpleValue();
    }
    item.span[1] = this.pos;
    return item;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Decodes exactly one CBOR item filling all of `bytes`. */
export function decodeCbor(bytes: Uint8Array, format = 60, maxDepth = DEFAULT_MAX_DEPTH): CborValue {
  const r = new CborReader(bytes, format, maxDepth);
  const v = r.readValue();
  r.expectEnd();
  return v;
}

/** Reads the single item filling `bytes` with byte ranges, for the payload inspector. */
export function readCborItem(bytes: Uint8Array, format = 60, maxDepth = DEFAULT_MAX_DEPTH): CborItem {
  const r = new CborReader(bytes, format, maxDepth);
  const item = r.readItem();
  r.expectEnd();
  return item;
}

// ----- Writer -------------------------------------------------------------------------------


const scratch = new DataView(new ArrayBuffer(4));

/** The float16 bit pattern of `x` when float16 represents it exactly, else -1. */
function exactHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  if (Math.fround(x) !== x) return -1;
  scratch.setFloat32(0, x);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const e = ((bits >>> 23) & 0xff) - 127;
  const mant = bits & 0x7fffff;
  if (e === 128) return sign | 0x7c00; // infinity
  if (e === -127 && mant === 0) return sign; // zero
  if (e > 15 || e < -24) return -1;
  if (e >= -14) return mant & 0x1fff ? -1 : sign | ((e + 15) << 10) | (mant >> 13);
  // A float16 subnormal m * 2^-24: the float32 significand shifted right must lose no bits.
  const full = 0x800000 | mant;
  const shift = -1 - e;
  return full & ((1 << shift) - 1) ? -1 : sign | (full >>> shift);
}

/** Writes CBOR in preferred (shortest) form into a growing buffer. */
export class CborWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes a head with the shortest argument encoding. `arg` must be 0..2^64-1. */
  head(major: number, arg: number | bigint): this {
    const m = major << 5;
    this.ensure(9);
    const b = this.buf;
    if (typeof arg === 'bigint') {
      if (arg <= BigInt(Number.MAX_SAFE_INTEGER)) return this.head(major, Number(arg));
      b[this.len] = m | 27;
      this.view.setBigUint64(this.len + 1, arg);
      this.len += 9;
      return this;
    }
    if (arg < 24) b[this.len++] = m | arg;
    else if (arg < 0x100) {
      b[this.len++] = m | 24;
      b[this.len++] = arg;
    } else if (arg < 0x10000) {
      b[this.len++] = m | 25;
      b[this.len++] = arg >> 8;
      b[this.len++] = arg & 0xff;
    } else if (arg < TWO_32) {
      b[this.len] = m | 26;
      this.view.setUint32(this.len + 1, arg);
      this.len += 5;
    } else {
      b[this.len] = m | 27;
      this.view.setUint32(this.len + 1, Math.floor(arg / TWO_32));
      this.view.setUint32(this.len + 5, arg % TWO_32);
      this.len += 9;
    }
    return this;
  }

  /** Writes an integer (major 0 or 1); it must lie in -2^64..2^64-1. */
  int(n: number | bigint): this {
    if (typeof n === 'bigint') return n < 0n ? this.head(1, -1n - n) : this.head(0, n);
    return n < 0 ? this.head(1, -1 - n) : this.head(0, n);
  }

  /** Writes a float in the shortest of float16/32/64 that holds it exactly. */
  float(x: number): this {
    this.ensure(9);
    const half = exactHalf(x);
    if (half >= 0) {
      this.buf[this.len] = 0xf9;
      this.buf[this.len + 1] = half >> 8;
      this.buf[this.len + 2] = half & 0xff;
      this.len += 3;
    } else if (Math.fround(x) === x) {
      this.buf[this.len] = 0xfa;
      this.view.setFloat32(this.len + 1, x);
      this.len += 5;
    } else {
      this.buf[this.len] = 0xfb;
      this.view.setFloat64(this.len + 1, x);
      this.len += 9;
    }
    return this;
  }

  text(s: string): this {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      const b = utf8Encode(s);
      return this.head(3, b.length).raw(b);
    }
    this.head(3, n);
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.len + i] = s.charCodeAt(i);
    this.len += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    return this.head(2, b.length).raw(b);
  }

  /** Appends bytes as they are. */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  array(count: number): this {
    return this.head(4, count);
  }

  map(count: number): this {
    return this.head(5, count);
  }

  tag(tag: number | bigint): this {
    return this.head(6, tag);
  }

  boolean(v: boolean): this {
    this.ensure(1);
    this.buf[this.len++] = v ? 0xf5 : 0xf4;
    return this;
  }

  null(): this {
    this.ensure(1);
    this.buf[this.len++] = 0xf6;
    return this;
  }

  /** Writes any CborValue; numbers that are safe integers become integers, others floats. */
  value(v: CborValue): this {
    if (v === null) return this.null();
    if (v === undefined) {
      this.ensure(1);
      this.buf[this.len++] = 0xf7;
      return this;
    }
    switch (typeof v) {
      case 'number':
        return Number.isSafeInteger(v) && !Object.is(v, -0) ? this.int(v) : this.float(v);
      case 'bigint':
        return this.int(v);
      case 'string':
        return this.text(v);
      case 'boolean':
        return this.boolean(v);
    }
    if (v instanceof Uint8Array) return this.bytes(v);
    if (Array.isArray(v)) {
      this.array(v.length);
      for (const x of v) this.value(x);
      return this;
    }
    if (v instanceof Map) {
      this.map(v.size);
      for (const [k, x] of v) this.value(k).value(x);
      return this;
    }
    if (v instanceof CborTag) return this.tag(v.tag).value(v.value);
    return this.head(7, v.value);
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Encodes one CborValue in preferred serialization. */
export function encodeCbor(v: CborValue): Uint8Array {
  return new CborWriter().value(v).finish();
}
