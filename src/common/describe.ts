/**
 * Words for annotated bytes, for the inspector's details line: what a TLV header, a CBOR head or
 * a SenML label says. Pure; shared by the webview and the unit tests.
 */
import { SegmentRole } from './protocol';

const TLV_KINDS = ['Object Instance', 'Resource Instance', 'Multiple Resource', 'Resource'];

/** `C8 00 14` → `Resource TLV: id 0 (8-bit), length 20 (8-bit length field)`. */
export function describeTlvHeader(b: Uint8Array, start: number, end: number): string {
  const type = b[start];
  if (type === undefined) return '';
  const kind = TLV_KINDS[type >> 6]!;
  const wideId = (type & 0x20) !== 0;
  const lenType = (type >> 3) & 3;
  let p = start + 1;
  const id = wideId ? ((b[p]! << 8) | b[p + 1]!) : b[p]!;
  p += wideId ? 2 : 1;
  let length = type & 7;
  if (lenType > 0) {
    length = 0;
    for (let k = 0; k < lenType && p < end; k++) length = (length << 8) | b[p++]!;
  }
  const lenText = lenType === 0 ? 'in the type byte' : `${lenType * 8}-bit length field`;
  return `${kind} TLV: type byte 0x${hex2(type)}, id ${id} (${wideId ? 16 : 8}-bit), length ${length} (${lenText})`;
}

const MAJOR = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple/float'];

/** `A3` → `CBOR map head: 3 pairs`. */
export function describeCborHead(b: Uint8Array, start: number, end: number): string {
  const ib = b[start];
  if (ib === undefined) return '';
  const major = ib >> 5;
  const info = ib & 31;
  let arg = info;
  if (info >= 24 && info <= 27) {
    arg = 0;
    for (let p = start + 1; p < end; p++) arg = arg * 256 + b[p]!;
  }
  const head = `CBOR ${MAJOR[major]} head 0x${hex2(ib)}`;
  if (info === 31) return major === 7 ? `${head}: break` : `${head}: indefinite length`;
  switch (major) {
    case 0:
      return `${head}: ${arg}`;
    case 1:
      return `${head}: ${-1 - arg}`;
    case 2:
    case 3:
      return `${head}: ${arg} byte${arg === 1 ? '' : 's'}`;
    case 4:
      return `${head}: ${arg} item${arg === 1 ? '' : 's'}`;
    case 5:
      return `${head}: ${arg} pair${arg === 1 ? '' : 's'}`;
    case 6:
      return `${head}: tag ${arg}${arg === 1 ? ' (epoch time)' : arg === 0 ? ' (date-time text)' : arg === 4 ? ' (decimal fraction)' : ''}`;
    default:
      if (info === 20) return `${head}: false`;
      if (info === 21) return `${head}: true`;
      if (info === 22) return `${head}: null`;
      if (info === 25) return `${head}: half-precision float`;
      if (info === 26) return `${head}: single-precision float`;
      if (info === 27) return `${head}: double-precision float`;
      return `${head}: simple value ${arg}`;
  }
}

/** SenML CBOR integer labels (RFC 8428 §6). */
export const SENML_CBOR_LABELS: Readonly<Record<number, string>> = {
  [-6]: 'bs (base sum)',
  [-5]: 'bv (base value)',
  [-4]: 'bu (base unit)',
  [-3]: 'bt (base time)',
  [-2]: 'bn (base name)',
  [-1]: 'bver (base version)',
  0: 'n (name)',
  1: 'u (unit)',
  2: 'v (value)',
  3: 'vs (string value)',
  4: 'vb (boolean value)',
  5: 's (sum)',
  6: 't (time)',
  7: 'ut (update time)',
  8: 'vd (data value)',
};

const JSON_LABELS: Readonly<Record<string, string>> = {
  bn: 'base name',
  bt: 'base time',
  bu: 'base unit',
  bv: 'base value',
  bver: 'base version',
  n: 'name',
  u: 'unit',
  v: 'value',
  vs: 'string value',
  vb: 'boolean value',
  vd: 'data value',
  vlo: 'object link value',
  s: 'sum',
  t: 'time',
  ut: 'update time',
  e: 'LwM2M JSON entries',
  sv: 'string value (LwM2M JSON)',
  ov: 'object link value (LwM2M JSON)',
};

/** Describes the bytes [start, end) with `role` in a payload of content format `format`. */
export function describeBytes(format: number, role: number, b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  const size = `${n} byte${n === 1 ? '' : 's'}`;
  const cbor = format === 60 || format === 112 || format === 11544 || format === 322;
  const json = format === 110 || format === 11543 || format === 320 || format === 1543;
  if (role === SegmentRole.Header) {
    if (format === 11542 || format === 1542) return describeTlvHeader(b, start, end);
    if (cbor) return describeCborHead(b, start, end);
    return `header, ${size}`;
  }
  if (role === SegmentRole.Label) {
    if (cbor) {
      const ib = b[start]!;
      const major = ib >> 5;
      if (major === 0 || major === 1) {
        const v = major === 0 ? (ib & 31) : -1 - (ib & 31);
        const name = format === 112 || format === 322 ? SENML_CBOR_LABELS[v] : undefined;
        return name ? `SenML label ${v} = ${name}` : `key ${v}`;
      }
      if (major === 3) {
        const text = new TextDecoder().decode(b.subarray(start + 1, end));
        return `label "${text}"${JSON_LABELS[text] ? ` (${JSON_LABELS[text]})` : ''}`;
      }
      return `key, ${size}`;
    }
    if (json) {
      const text = new TextDecoder().decode(b.subarray(start, end)).replace(/^"|"$/g, '');
      return `label "${text}"${JSON_LABELS[text] ? ` (${JSON_LABELS[text]})` : ''}`;
    }
    return `label, ${size}`;
  }
  if (role === SegmentRole.Value) return `value, ${size}`;
  return `structure, ${size}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}
