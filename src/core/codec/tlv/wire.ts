/**
 * The raw LwM2M TLV wire layer (lwm2m-protocol.md §10.1): bytes ⇄ `TlvRecord[]`.
 * Knows nothing about object models or value types; `./index.ts` maps records to LwM2M values.
 */
import { ContentFormat } from '../../contentFormat';
import { DecodeError } from '../../errors';

export type TlvKind = 'objectInstance' | 'resourceInstance' | 'multipleResource' | 'resource';

/** The two type bits of each kind (bits 7-6 of the type byte, already shifted into place). */
export const TLV_KIND_BITS: Readonly<Record<TlvKind, number>> = {
  objectInstance: 0x00,
  resourceInstance: 0x40,
  multipleResource: 0x80,
  resource: 0xc0,
};

const KINDS: readonly TlvKind[] = ['objectInstance', 'resourceInstance', 'multipleResource', 'resource'];

/**
 * One TLV record. Leaf kinds (`resource`, `resourceInstance`) carry `value`; container kinds
 * (`objectInstance`, `multipleResource`) carry `children`.
 * Offsets are absolute byte offsets into the decoded payload, for hex views:
 * header = [start, valueStart), value = [valueStart, end).
 */
export interface TlvRecord {
  kind: TlvKind;
  id: number;
  /** Value bytes of a leaf record: a view into the decoded payload, not a copy. */
  value?: Uint8Array;
  /** Nested records of a container record. */
  children?: TlvRecord[];
  /** Offset of the type byte (0 for records built for encoding). */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

/** Children a container may hold: instances hold resources, multiple resources hold instances. */
function childAllowed(parent: TlvKind | undefined, child: TlvKind): boolean {
  if (parent === undefined) return true;
  if (parent === 'objectInstance') return child === 'resource' || child === 'multipleResource';
  return child === 'resourceInstance';
}

const KIND_LABEL: Record<TlvKind, string> = {
  objectInstance: 'Object Instance TLV',
  resourceInstance: 'Resource Instance TLV',
  multipleResource: 'Multiple Resource TLV',
  resource: 'Resource TLV',
};

/** Label for messages: `Resource TLV` etc. */
export function tlvKindLabel(kind: TlvKind): string {
  return KIND_LABEL[kind];
}

/**
 * One record header, filled in place by `readTlvHeader` (reuse one object to avoid allocations).
 * Offsets as in TlvRecord.
 */
export interface TlvHeader {
  kind: TlvKind;
  id: number;
  start: number;
  valueStart: number;
  end: number;
}

/** A fresh header object for `readTlvHeader`. */
export function newTlvHeader(): TlvHeader {
  return { kind: 'resource', id: 0, start: 0, valueStart: 0, end: 0 };
}

/**
 * Reads the record header at `p` (which must be < `to`) into `h`, checking that the record
 * fits before `to` and may appear inside `parent` (undefined = top level). This is the one
 * place that knows the header rules; `decodeTlv` and the node mapping both use it.
 * Throws DecodeError (format `format`) at the offset of the first bad or missing byte, or at
 * the record start when its value overruns.
 */
export function readTlvHeader(bytes: Uint8Array, p: number, to: number, parent: TlvKind | undefined, format: number, h: TlvHeader): void {
  const start = p;
  const type = bytes[p++]!;
  const kind = KINDS[type >> 6]!;
  if (parent !== undefined && !childAllowed(parent, kind)) {
    throw new DecodeError({
      format,
      offset: start,
      expected: parent === 'objectInstance' ? 'a Resource or Multiple Resource TLV' : 'a Resource Instance TLV',
      found: `a ${KIND_LABEL[kind]} (type byte 0x${type.toString(16).padStart(2, '0')}) inside ${parent === 'objectInstance' ? 'an' : 'a'} ${KIND_LABEL[parent]}`,
    });
  }
  let id: number;
  if (type & 0x20) {
    if (p + 2 > to) throw new DecodeError({ format, offset: to, expected: 'a 16-bit identifier', found: endOf(parent) });
    id = (bytes[p]! << 8) | bytes[p + 1]!;
    p += 2;
  } else {
    if (p + 1 > to) throw new DecodeError({ format, offset: to, expected: 'an 8-bit identifier', found: endOf(parent) });
    id = bytes[p++]!;
  }
  const lenType = (type >> 3) & 3;
  let length: number;
  if (lenType === 0) {
    length = type & 7;
  } else {
    if (p + lenType > to) {
      throw new DecodeError({ format, offset: to, expected: `a ${lenType * 8}-bit length field`, found: endOf(parent) });
    }
    length = bytes[p]!;
    if (lenType >= 2) length = (length << 8) | bytes[p + 1]!;
    if (lenType === 3) length = (length << 8) | bytes[p + 2]!;
    p += lenType;
  }
  if (p + length > to) {
    throw new DecodeError({
      format,
      offset: start,
      expected: `a ${KIND_LABEL[kind]} with ${length} value bytes`,
      found: `only ${to - p} bytes before the ${endOf(parent)}`,
    });
  }
  h.kind = kind;
  h.id = id;
  h.start = start;
  h.valueStart = p;
  h.end = p + length;
}

function endOf(parent: TlvKind | undefined): string {
  return parent === undefined ? 'end of payload' : `end of the enclosing ${KIND_LABEL[parent]}`;
}

/**
 * Decodes a TLV payload into records. Accepts every header form (8/16-bit ids, inline or
 * 8/16/24-bit lengths) and checks nesting: Object Instance ⊃ Resource | Multiple Resource ⊃
 * Resource Instance. Throws DecodeError with the offset of the first bad byte.
 * Cost is linear in the payload size; values are views, not copies.
 */
export function decodeTlv(bytes: Uint8Array, format: number = ContentFormat.Tlv): TlvRecord[] {
  return decodeRange(bytes, 0, bytes.length, undefined, format, newTlvHeader());
}

function decodeRange(bytes: Uint8Array, from: number, to: number, parent: TlvKind | undefined, format: number, h: TlvHeader): TlvRecord[] {
  const out: TlvRecord[] = [];
  let p = from;
  while (p < to) {
    readTlvHeader(bytes, p, to, parent, format, h);
    const { kind, id, start, valueStart, end } = h;
    if (kind === 'resource' || kind === 'resourceInstance') {
      out.push({ kind, id, value: bytes.subarray(valueStart, end), start, valueStart, end });
    } else {
      out.push({ kind, id, children: decodeRange(bytes, valueStart, end, kind, format, h), start, valueStart, end });
    }
    p = end;
  }
  return out;
}

/** Header size for an id and value length, using the shortest forms (§10.1). */
export function tlvHeaderLength(id: number, length: number): number {
  const idLen = id > 0xff ? 2 : 1;
  const lenLen = length < 8 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
  return 1 + idLen + lenLen;
}

/** Thrown by `encodeTlv` for records that no TLV header can express. */
export class TlvEncodeError extends Error {
  override readonly name = 'TlvEncodeError';
}

/**
 * A record to encode: a leaf with `value` or a container with `children`
 * (offsets are not needed).
 */
export interface TlvInput {
  kind: TlvKind;
  id: number;
  value?: Uint8Array;
  children?: readonly TlvInput[];
}

/**
 * Encodes records with the shortest header forms (8-bit ids below 256, inline lengths below 8).
 * Computes sizes first and writes into one buffer, so the cost is linear in the output size.
 */
export function encodeTlv(records: readonly TlvInput[]): Uint8Array {
  const sizes = new Map<TlvInput, number>();
  let total = 0;
  for (const r of records) total += measure(r, sizes);
  const out = new Uint8Array(total);
  let p = 0;
  for (const r of records) p = write(r, out, p, sizes);
  return out;
}

function measure(r: TlvInput, sizes: Map<TlvInput, number>): number {
  if (!Number.isInteger(r.id) || r.id < 0 || r.id > 0xffff) throw new TlvEncodeError(`TLV id ${r.id} is out of range 0..65535`);
  let len: number;
  if (r.kind === 'resource' || r.kind === 'resourceInstance') {
    if (!r.value) throw new TlvEncodeError(`a ${KIND_LABEL[r.kind]} needs a value`);
    len = r.value.length;
  } else {
    len = 0;
    for (const c of r.children ?? []) {
      if (!childAllowed(r.kind, c.kind)) throw new TlvEncodeError(`a ${KIND_LABEL[c.kind]} cannot be inside a ${KIND_LABEL[r.kind]}`);
      len += measure(c, sizes);
    }
  }
  if (len > 0xffffff) throw new TlvEncodeError(`a TLV value of ${len} bytes exceeds the 24-bit length limit`);
  sizes.set(r, len);
  return tlvHeaderLength(r.id, len) + len;
}

function write(r: TlvInput, out: Uint8Array, p: number, sizes: Map<TlvInput, number>): number {
  const len = sizes.get(r)!;
  let type = TLV_KIND_BITS[r.kind];
  if (r.id > 0xff) type |= 0x20;
  if (len < 8) type |= len;
  else if (len <= 0xff) type |= 0x08;
  else if (len <= 0xffff) type |= 0x10;
  else type |= 0x18;
  out[p++] = type;
  if (r.id > 0xff) out[p++] = r.id >> 8;
  out[p++] = r.id & 0xff;
  if (len >= 8) {
    if (len > 0xffff) out[p++] = len >> 16;
    if (len > 0xff) out[p++] = (len >> 8) & 0xff;
    out[p++] = len & 0xff;
  }
  if (r.value) {
    out.set(r.value, p);
    return p + r.value.length;
  }
  for (const c of r.children ?? []) p = write(c, out, p, sizes);
  return p;
}
