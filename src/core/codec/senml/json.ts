/**
 * SenML JSON (CF 110) wire layer: bytes ⇄ SenmlRecord.
 *
 * Reading is a hand-written scanner over the payload bytes rather than `JSON.parse`: building
 * records straight from the bytes is faster than decoding the text, letting `JSON.parse` build
 * objects and then walking them, and the scanner knows every position, so each record gets its
 * byte span and every error its byte offset and JSON pointer (`/3/v`). Integers beyond 2^53 in
 * `v` are read exactly, as bigint. The grammar is RFC 8259's, UTF-8 checked inside strings.
 */

import { ContentFormat } from '../../contentFormat';
import { DecodeError, EncodeError } from '../../errors';
import { firstInvalidUtf8, fromBase64, toBase64, utf8Decode, utf8Encode } from '../bytes';
import { DEFAULT_MAX_DEPTH } from '../cbor/wire';
import { jsonPointer } from './jsonText';
import { clearSenmlRecord, newSenmlRecord, type SenmlRecord, type SenmlSink } from './record';

const FORMAT = ContentFormat.SenmlJson;

/** The labels LwM2M knows; a label's code is its index here. */
const LABELS: readonly string[] = ['bn', 'bt', 'bu', 'bv', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 'vlo', 's', 't', 'ut'];
const BN = 0;
const BT = 1;
const BU = 2;
const BV = 3;
const BVER = 4;
const N = 5;
const U = 6;
const V = 7;
const VS = 8;
const VB = 9;
const VD = 10;
const VLO = 11;
const S = 12;
const T = 13;
const UT = 14;

/** The value labels: a record has at most one of them. */
const VALUE_BITS = (1 << V) | (1 << VS) | (1 << VB) | (1 << VD) | (1 << VLO);

/** Exact powers of ten 10^0..10^15. */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * Recently read short ASCII strings by a hash of their bytes. Names and common values repeat
 * from payload to payload; handing out the same string saves decoding it, and V8 keeps its
 * hash for the name lookups downstream.
 */
const INTERN_MAX = 32;
const INTERN_SLOTS = 4096;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && (isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** Escapes after a backslash: " \ / b f n r t (u is handled apart). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** The code of the label in b[s, s+len), or -1 (read from the bytes, without a string). */
function labelCode(b: Uint8Array, s: number, len: number): number {
  const c0 = b[s];
  const c1 = b[s + 1];
  switch (len) {
    case 1:
      return c0 === 0x6e ? N : c0 === 0x76 ? V : c0 === 0x74 ? T : c0 === 0x73 ? S : c0 === 0x75 ? U : -1;
    case 2:
      if (c0 === 0x62) return c1 === 0x6e ? BN : c1 === 0x74 ? BT : c1 === 0x75 ? BU : c1 === 0x76 ? BV : -1;
      if (c0 === 0x76) return c1 === 0x73 ? VS : c1 === 0x62 ? VB : c1 === 0x64 ? VD : -1;
      return c0 === 0x75 && c1 === 0x74 ? UT : -1;
    case 3:
      return c0 === 0x76 && c1 === 0x6c && b[s + 2] === 0x6f ? VLO : -1;
    case 4:
      return c0 === 0x62 && c1 === 0x76 && b[s + 2] === 0x65 && b[s + 3] === 0x72 ? BVER : -1;
  }
  return -1;
}

class SenmlJsonReader {
  private i = 0;
  /** Index of the record being read (-1 outside the pack), and its label: for JSON pointers. */
  private record = -1;
  private label: string | undefined;
  /** Whether the last number read had a fraction or an exponent (`22.0`, `1e3`). */
  private fractional = false;
  /** The record object every record is read into (see SenmlSink). */
  private readonly rec = newSenmlRecord();

  constructor(private readonly b: Uint8Array) {}

  private fail(expected: string, at = this.i, found = this.describe(at)): never {
    const pointer = this.record < 0 ? '' : this.label === undefined ? jsonPointer(this.record) : jsonPointer(this.record, this.label);
    throw new DecodeError({ format: FORMAT, offset: at, pointer, expected, found });
  }

  private describe(at: number): string {
    const c = this.b[at];
    if (c === undefined) return 'end of payload';
    return c >= 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `byte 0x${c.toString(16).padStart(2, '0')}`;
  }

  private ws(): number | undefined {
    const b = this.b;
    let i = this.i;
    let c = b[i];
    while (isSpace(c)) c = b[++i];
    this.i = i;
    return c;
  }

  /** Reads the pack, handing each record to `sink`. */
  read(sink: SenmlSink): void {
    if (this.ws() !== 0x5b) this.fail('a JSON array (SenML pack)');
    this.i++;
    if (this.ws() === 0x5d) this.i++;
    else {
      for (let index = 0; ; index++) {
        this.record = index;
        sink.record(this.readRecord());
        this.record = -1;
        const c = this.ws();
        this.i++;
        if (c === 0x5d) break;
        if (c !== 0x2c) this.fail('"," or "]"', this.i - 1);
        this.ws();
      }
    }
    this.ws();
    if (this.i < this.b.length) this.fail('end of payload');
  }

  /** Reads one record. The position lives in a local here; calls out are for values only. */
  private readRecord(): SenmlRecord {
    const b = this.b;
    let i = this.i;
    const start = i;
    if (b[i] !== 0x7b) this.fail('a JSON object (SenML record)');
    const rec = this.rec;
    clearSenmlRecord(rec);
    let seen = 0;
    let c = b[++i];
    while (isSpace(c)) c = b[++i];
    if (c !== 0x7d) {
      for (;;) {
        const keyAt = i;
        if (c !== 0x22) {
          this.i = i;
          this.fail('a string label');
        }
        // A plain key is recognised from its bytes, without making a string of it.
        let e = i + 1;
        c = b[e];
        while (c !== undefined && c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) c = b[++e];
        let code: number;
        if (c === 0x22) {
          code = labelCode(b, i + 1, e - i - 1);
          this.label = code >= 0 ? LABELS[code] : utf8Decode(b, i + 1, e);
          i = e + 1;
        } else {
          this.i = i;
          this.label = this.readString(); // escapes or non-ASCII in a label: the general path
          code = LABELS.indexOf(this.label);
          i = this.i;
        }
        c = b[i];
        while (isSpace(c)) c = b[++i];
        if (c !== 0x3a) {
          this.i = i;
          this.fail('":"');
        }
        c = b[++i];
        while (isSpace(c)) c = b[++i];
        this.i = i;
        if (code >= 0) {
          const bit = 1 << code;
          if (seen & bit) this.fail('each label at most once', keyAt, `a second "${this.label}"`);
          if (bit & VALUE_BITS && seen & VALUE_BITS) this.fail('one value label per record (v, vs, vb, vd or vlo)', keyAt, `"${this.label}" as well`);
          seen |= bit;
          this.readValue(rec, code);
        } else {
          if (this.label!.endsWith('_')) this.fail('no labels ending in "_" (must-understand)', keyAt, JSON.stringify(this.label));
          this.skipValue(0);
        }
        this.label = undefined;
        i = this.i;
        c = b[i];
        while (isSpace(c)) c = b[++i];
        if (c === 0x7d) break;
        if (c !== 0x2c) {
          this.i = i;
          this.fail('"," or "}"');
        }
        c = b[++i];
        while (isSpace(c)) c = b[++i];
      }
    }
    this.i = ++i;
    rec.span = [start, i];
    return rec;
  }

  private readValue(rec: SenmlRecord, code: number): void {
    switch (code) {
      case BN:
        rec.bn = this.readString();
        return;
      case N:
        rec.n = this.readString();
        return;
      case V:
        if (this.b[this.i] === 0x6e && this.literal('null')) rec.v = null;
        else {
          rec.v = this.readNumber(true);
          if (this.fractional) rec.float = true;
        }
        return;
      case VS:
        rec.vs = this.readString();
        return;
      case VB:
        rec.vb = this.readBoolean();
        return;
      case VD: {
        const at = this.i;
        const bytes = fromBase64(this.readString());
        if (!(bytes instanceof Uint8Array)) this.fail('base64url data', at + 1 + bytes.offset, bytes.found);
        rec.vd = bytes;
        return;
      }
      case VLO:
        rec.vlo = this.readString();
        return;
      case BT:
        rec.bt = this.readNumber(false) as number;
        return;
      case T:
        rec.t = this.readNumber(false) as number;
        return;
      case BU:
        rec.bu = this.readString();
        return;
      case U:
        rec.u = this.readString();
        return;
      case BV:
        rec.bv = this.readNumber(false) as number;
        return;
      case BVER:
        rec.bver = this.readNumber(false) as number;
        return;
      case S:
        rec.s = this.readNumber(false) as number;
        return;
      case UT:
        rec.ut = this.readNumber(false) as number;
    }
  }

  private readString(): string {
    const b = this.b;
    const q = this.i;
    if (b[q] !== 0x22) this.fail('a string');
    let h = 0;
    let ascii = true;
    for (let i = q + 1; ; i++) {
      const c = b[i];
      if (c === 0x22) {
        this.i = i + 1;
        const len = i - q - 1;
        if (!ascii || len > INTERN_MAX) return utf8Decode(b, q + 1, i) ?? this.fail('valid UTF-8', q + 1 + firstInvalidUtf8(b, q + 1, i));
        const slot = (h + len) & (INTERN_SLOTS - 1);
        const known = interned[slot]!;
        if (known.length === len) {
          let k = 0;
          while (k < len && known.charCodeAt(k) === b[q + 1 + k]) k++;
          if (k === len) return known;
        }
        return (interned[slot] = utf8Decode(b, q + 1, i)!);
      }
      if (c === undefined || c < 0x20 || c === 0x5c) break;
      if (c >= 0x80) ascii = false;
      h = (h * 31 + c) | 0;
    }
    return this.readEscapedString(q);
  }

  /** The general path of `readString`: escapes (or a bad character) in the string at `q`. */
  private readEscapedString(q: number): string {
    const b = this.b;
    let i = q + 1;
    for (;;) {
      const c = b[i];
      if (c === 0x22) break;
      if (c === undefined) this.fail('a closing quote', i);
      if (c < 0x20) this.fail('a string character (control characters must be escaped)', i);
      if (c === 0x5c) {
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) this.fail('a hex digit of a \\u escape', k);
          i += 6;
        } else if (e !== undefined && SIMPLE_ESCAPES.has(e)) i += 2;
        else this.fail('an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)', i + 1);
      } else i++;
    }
    const literal = utf8Decode(b, q, i + 1) ?? this.fail('valid UTF-8', q + firstInvalidUtf8(b, q, i + 1));
    this.i = i + 1;
    return JSON.parse(literal) as string;
  }

  /**
   * Reads a number; with `big`, an integer literal beyond 2^53 becomes an exact bigint.
   * Fast path: up to 15 significant digits and no exponent. The digits then form an exact
   * integer m and the value is m / 10^k, one correctly rounded division of exact operands,
   * which is exactly what parsing the literal gives.
   */
  private readNumber(big: boolean): number | bigint {
    const b = this.b;
    const s = this.i;
    let i = s;
    let c = b[i];
    if (c === 0x2d) c = b[++i];
    const first = i;
    let m = 0;
    if (c === 0x30) c = b[++i];
    else {
      while (c !== undefined && c >= 0x30 && c <= 0x39) {
        m = m * 10 + (c - 0x30);
        c = b[++i];
      }
      if (i === first) this.fail('a number', i);
    }
    let fraction = 0;
    if (c === 0x2e) {
      const f = i + 1;
      c = b[++i];
      while (c !== undefined && c >= 0x30 && c <= 0x39) {
        m = m * 10 + (c - 0x30);
        c = b[++i];
      }
      fraction = i - f;
      if (fraction === 0) this.fail('a digit after "."', i);
    }
    const exponent = c === 0x65 || c === 0x45;
    this.fractional = fraction > 0 || exponent;
    if (!exponent && i - first - (fraction > 0 ? 1 : 0) <= 15) {
      this.i = i;
      const v = fraction > 0 ? m / POW10[fraction]! : m;
      return s === first ? v : -v;
    }
    if (exponent) {
      c = b[++i];
      if (c === 0x2b || c === 0x2d) c = b[++i];
      if (!isDigit(c)) this.fail('an exponent digit', i);
      while (isDigit(b[i])) i++;
    }
    // An exponent or many digits: let the platform parse the (ASCII) literal.
    this.i = i;
    const literal = utf8Decode(b, s, i)!;
    const x = Number(literal);
    return big && fraction === 0 && !exponent && !Number.isSafeInteger(x) ? BigInt(literal) : x;
  }

  /** Consumes `word` if it is next. */
  private literal(word: string): boolean {
    const b = this.b;
    const i = this.i;
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
    this.i = i + word.length;
    return true;
  }

  private readBoolean(): boolean {
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    return this.fail('true or false');
  }

  /** Skips any JSON value (the value of a label LwM2M does not know). */
  private skipValue(depth: number): void {
    if (depth > DEFAULT_MAX_DEPTH) this.fail(`nesting of at most ${DEFAULT_MAX_DEPTH} levels`);
    const c = this.b[this.i];
    if (c === 0x22) this.readString();
    else if (c === 0x2d || isDigit(c)) this.readNumber(false);
    else if (this.literal('true') || this.literal('false') || this.literal('null')) return;
    else if (c === 0x5b || c === 0x7b) {
      const close = c === 0x5b ? 0x5d : 0x7d;
      this.i++;
      if (this.ws() === close) {
        this.i++;
        return;
      }
      for (;;) {
        if (close === 0x7d) {
          this.readString();
          if (this.ws() !== 0x3a) this.fail('":"');
          this.i++;
          this.ws();
        }
        this.skipValue(depth + 1);
        const next = this.ws();
        this.i++;
        if (next === close) return;
        if (next !== 0x2c) this.fail(`"," or "${String.fromCharCode(close)}"`, this.i - 1);
        this.ws();
      }
    } else this.fail('a JSON value');
  }
}

/**
 * Reads a SenML JSON pack, handing each record to `sink` as soon as it is read (so after a
 * DecodeError the sink has had the records before the failing one; the record object is reused,
 * see SenmlSink). Labels LwM2M does not know are skipped; labels ending in "_" are rejected
 * (RFC 8428 §4.4).
 */
export function readSenmlJson(bytes: Uint8Array, sink: SenmlSink): void {
  new SenmlJsonReader(bytes).read(sink);
}

/** base64url without padding (RFC 8428 §4.3 for `vd`). */
function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A JSON number literal; `float` writes integral values as `22.0` so they read back as floats. */
export function jsonNumber(v: number | bigint, float: boolean | undefined, format: number = FORMAT): string {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isFinite(v)) throw new EncodeError(format, `${v} cannot be written in JSON`);
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return float && Number.isInteger(v) && !s.includes('e') ? s + '.0' : s;
}

/** Writes a SenML JSON pack (no whitespace). */
export function writeSenmlJson(pack: readonly SenmlRecord[]): Uint8Array {
  let out = '[';
  for (let k = 0; k < pack.length; k++) {
    const r = pack[k]!;
    let s = '';
    if (r.bver !== undefined) s += ',"bver":' + jsonNumber(r.bver, false);
    if (r.bn !== undefined) s += ',"bn":' + JSON.stringify(r.bn);
    if (r.bt !== undefined) s += ',"bt":' + jsonNumber(r.bt, false);
    if (r.bu !== undefined) s += ',"bu":' + JSON.stringify(r.bu);
    if (r.bv !== undefined) s += ',"bv":' + jsonNumber(r.bv, false);
    if (r.n !== undefined) s += ',"n":' + JSON.stringify(r.n);
    if (r.u !== undefined) s += ',"u":' + JSON.stringify(r.u);
    if (r.v !== undefined) s += ',"v":' + (r.v === null ? 'null' : jsonNumber(r.v, r.float));
    if (r.vs !== undefined) s += ',"vs":' + JSON.stringify(r.vs);
    if (r.vb !== undefined) s += ',"vb":' + (r.vb ? 'true' : 'false');
    if (r.vd !== undefined) s += ',"vd":"' + base64url(r.vd) + '"';
    if (r.vlo !== undefined) s += ',"vlo":' + JSON.stringify(r.vlo);
    if (r.s !== undefined) s += ',"s":' + jsonNumber(r.s, false);
    if (r.t !== undefined) s += ',"t":' + jsonNumber(r.t, false);
    if (r.ut !== undefined) s += ',"ut":' + jsonNumber(r.ut, false);
    out += (k === 0 ? '{' : ',{') + s.slice(1) + '}';
  }
  return utf8Encode(out + ']');
}
