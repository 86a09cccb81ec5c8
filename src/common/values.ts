/**
 * Value text ⇄ typed values for in-place editing, shared by the webview (validation while typing)
 * and the host (the authoritative parse before re-encoding). No Node or DOM APIs.
 */
import { parseHex, toHex } from '../core/codec/bytes';
import type { RangeSpec } from '../core/model/types';
import type { ObjectLink, Value, ValueType } from '../core/node';

export type ParsedValue = { ok: true; value: Value } | { ok: false; error: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function bad(error: string): ParsedValue {
  return { ok: false, error };
}

function integer(text: string, unsigned: boolean): ParsedValue {
  const t = text.trim();
  if (!/^[-+]?\d+$/.test(t)) return bad(unsigned ? 'expected an unsigned integer, e.g. 42' : 'expected an integer, e.g. -42');
  const big = BigInt(t);
  if (unsigned && big < 0n) return bad('expected an unsigned integer (0 or more)');
  if (big < (unsigned ? 0n : INT64_MIN) || big > (unsigned ? UINT64_MAX : INT64_MAX)) {
    return bad(unsigned ? 'out of range 0..18446744073709551615' : 'out of the 64-bit range');
  }
  return { ok: true, value: big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big };
}

/**
 * Parses `text` as a value of `type`. Times accept seconds since 1970 or an ISO 8601 date
 * (`2024-01-31T12:00:00Z`); opaque accepts hex (spaces and `0x` allowed); objlnk `O:I`;
 * booleans `true`/`false`/`1`/`0`. With `range`, numeric values and string/opaque lengths are
 * checked against the model's range.
 */
export function parseValueText(type: ValueType, text: string, range?: RangeSpec): ParsedValue {
  let parsed: ParsedValue;
  switch (type) {
    case 'string':
    case 'corelnk':
      parsed = { ok: true, value: text };
      break;
    case 'integer':
      parsed = integer(text, false);
      break;
    case 'unsigned integer':
      parsed = integer(text, true);
      break;
    case 'float': {
      const t = text.trim();
      const n = t === 'NaN' ? NaN : t === 'Infinity' || t === '+Infinity' ? Infinity : t === '-Infinity' ? -Infinity : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : undefined;
      parsed = n === undefined ? bad('expected a number, e.g. 21.5') : { ok: true, value: n };
      break;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      parsed = t === 'true' || t === '1' ? { ok: true, value: true } : t === 'false' || t === '0' ? { ok: true, value: false } : bad('expected true or false');
      break;
    }
    case 'opaque': {
      const bytes = parseHex(text);
      parsed = bytes instanceof Uint8Array ? { ok: true, value: bytes } : bad(`expected hex bytes: ${bytes.expected} at character ${bytes.offset + 1}, found ${bytes.found}`);
      break;
    }
    case 'time': {
      const t = text.trim();
      if (/^[-+]?\d+$/.test(t)) parsed = integer(t, false);
      else {
        const ms = /^\d{4}-\d\d-\d\d/.test(t) ? Date.parse(t) : NaN;
        parsed = Number.isNaN(ms) ? bad('expected seconds since 1970 or an ISO date like 2024-01-31T12:00:00Z') : { ok: true, value: Math.floor(ms / 1000) };
      }
      if (parsed.ok && typeof parsed.value === 'bigint') parsed = bad('time out of range');
      break;
    }
    case 'objlnk': {
      const m = /^\s*(\d{1,5}):(\d{1,5})\s*$/.exec(text);
      const link: ObjectLink | undefined = m ? { objectId: Number(m[1]), instanceId: Number(m[2]) } : undefined;
      parsed = link && link.objectId <= 65535 && link.instanceId <= 65535 ? { ok: true, value: link } : bad('expected an object link O:I, e.g. 3:0 (ids 0..65535)');
      break;
    }
    case 'none':
      parsed = bad('an executable resource has no value');
      break;
  }
  if (parsed.ok && range) {
    const problem = rangeProblem(type, parsed.value, range);
    if (problem) return bad(problem);
  }
  return parsed;
}

/** Why `value` falls outside the model's range, or undefined. */
export function rangeProblem(type: ValueType, value: Value, range: RangeSpec): string | undefined {
  const { min, max } = range;
  if (range.bytes) {
    const len = typeof value === 'string' ? new TextEncoder().encode(value).length : value instanceof Uint8Array ? value.length : undefined;
    if (len !== undefined && ((min !== undefined && len < min) || (max !== undefined && len > max))) return `length ${len} bytes is outside the model's range ${range.text}`;
    return undefined;
  }
  if (type === 'integer' || type === 'unsigned integer' || type === 'float' || type === 'time') {
    const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : undefined;
    if (n === undefined || Number.isNaN(n)) return undefined;
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) return `${String(value)} is outside the model's range ${range.text}`;
    if (range.enumeration && range.enumeration.every((e) => /^[-+]?\d+(\.\d+)?$/.test(e.value)) && !range.enumeration.some((e) => Number(e.value) === n)) {
      return `${String(value)} is not one of the model's values ${range.text}`;
    }
  }
  return undefined;
}

/** The editable text of a value (the inverse of `parseValueText`). */
export function valueText(value: Value | null): string {
  if (value === null) return '';
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'object') return `${value.objectId}:${value.instanceId}`;
  return String(value);
}

/** A default value for a new resource of `type` (undefined for executables). */
export function defaultValue(type: ValueType, nowSeconds: number): Value | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return '';
    case 'integer':
    case 'unsigned integer':
    case 'float':
      return 0;
    case 'boolean':
      return false;
    case 'opaque':
      return new Uint8Array(0);
    case 'time':
      return Math.floor(nowSeconds);
    case 'objlnk':
      return { objectId: 65535, instanceId: 65535 };
    case 'none':
      return undefined;
  }
}

/** A time value for people: `2024-01-31 12:00:00Z`. */
export function isoTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return String(seconds);
  return d.toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z');
}
