/**
 * LwM2M TLV (CF 11542, legacy 1542) ⇄ records, using the object model for value types.
 * The wire layer (`./wire.ts`) does the byte layout; this module decides paths and values.
 *
 * Paths (lwm2m-protocol.md §10.3): top-level records are placed below the request path —
 * an Object Instance TLV needs a path of at least `/O`, a Resource or Multiple Resource TLV
 * at least `/O/I`, a Resource Instance TLV at least `/O/I/R`. Ids that the request path already
 * fixes must match (so `/3/0` accepts both bare resources and an `08 00 …` instance wrapper).
 *
 * Value-less entries: an empty Object Instance TLV (`00 05`) decodes to a record at `/O/I` and an
 * empty Multiple Resource TLV (`80 06`) to a record at `/O/I/R`, both with `value: null`;
 * encoding maps them back.
 */
import { ContentFormat } from '../../contentFormat';
import { DecodeError, EncodeError } from '../../errors';
import type { ObjectModel, ResourceModel } from '../../model/types';
import type { Lwm2mRecord, Value } from '../../node';
import type { Lwm2mPath } from '../../path';
import type { Codec, CodecContext, DecodeResult } from '../types';
import { encodeTlv, newTlvHeader, readTlvHeader, tlvKindLabel, TlvEncodeError, type TlvHeader, type TlvInput, type TlvKind } from './wire';
import { instancePaths, type InstancePaths } from '../paths';
import { guessReadings, readValue, ValueProblem, writeValue } from './values';

export { decodeTlv, encodeTlv, readTlvHeader, newTlvHeader, tlvHeaderLength, tlvKindLabel, type TlvHeader, type TlvInput, type TlvKind, type TlvRecord } from './wire';

const FORMAT = ContentFormat.Tlv;

const LEVEL_NAME = ['object', 'object instance', 'resource', 'resource instance'];

/**
 * One decoding pass: reads headers with the wire layer's `readTlvHeader` and turns values into
 * records directly, without building the intermediate `TlvRecord` tree.
 */
class TlvDecoder {
  readonly records: Lwm2mRecord[] = [];
  /** Request path ids, -1 where the path stops (avoids out-of-bounds array reads). */
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly b3: number;
  private readonly depth: number;
  private readonly view: DataView;
  private readonly h: TlvHeader = newTlvHeader();
  /** Resource models of the request path's object, by resource id (undefined = no model). */
  private readonly resources: readonly (ResourceModel | undefined)[] | undefined;
  /** Unmodelled values by resource id → count; executable resources that carried a value. */
  private unmodelled: Map<number, number> | undefined;
  private executable: Set<number> | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly ctx: CodecContext,
  ) {
    const ids = ctx.path.ids;
    this.depth = ids.length;
    this.b0 = ids.length > 0 ? ids[0]! : -1;
    this.b1 = ids.length > 1 ? ids[1]! : -1;
    this.b2 = ids.length > 2 ? ids[2]! : -1;
    this.b3 = ids.length > 3 ? ids[3]! : -1;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const object = this.b0 >= 0 && ctx.models ? ctx.models.getObject(this.b0, ctx.objectVersions?.get(this.b0)) : undefined;
    this.resources = object ? resourceIndex(object) : undefined;
  }

  run(): DecodeResult {
    const { bytes, h } = this;
    const len = bytes.length;
    let p = 0;
    while (p < len) {
      readTlvHeader(bytes, p, len, undefined, FORMAT, h);
      const { kind, id, start, valueStart, end } = h;
      const need = kind === 'objectInstance' ? 1 : kind === 'resourceInstance' ? 3 : 2;
      if (this.depth < need) {
        this.fail(start, `a request path of at least ${need === 1 ? '/O' : need === 2 ? '/O/I' : '/O/I/R'} for a ${tlvKindLabel(kind)}`, `request path ${this.ctx.path.toString()}`);
      }
      this.checkId(need, kind, id, start);
      if (kind === 'objectInstance') this.instance(instancePaths(this.b0, id), start, valueStart, end);
      else {
        const paths = instancePaths(this.b0, this.b1);
        if (kind === 'resourceInstance') this.leaf(paths, this.b2, id, start, valueStart, end);
        else if (kind === 'resource') this.leaf(paths, id, -1, start, valueStart, end);
        else this.multiple(paths, id, start, valueStart, end);
      }
      p = end;
    }
    return { format: FORMAT, records: this.records, notes: this.notes() };
  }

  /** Checks a record id against the request path id at `level` (1 instance, 2 resource, 3 RI). */
  private checkId(level: number, kind: TlvKind, id: number, start: number): void {
    const fixed = level === 1 ? this.b1 : level === 2 ? this.b2 : this.b3;
    if (fixed >= 0 && fixed !== id) {
      this.fail(start, `${LEVEL_NAME[level]} id ${fixed} (from the request path ${this.ctx.path.toString()})`, `a ${tlvKindLabel(kind)} with id ${id}`);
    }
    if (id === 0xffff) this.fail(start, 'an id in 0..65534', `a ${tlvKindLabel(kind)} with the reserved id 65535`);
  }

  private instance(paths: InstancePaths, start: number, from: number, to: number): void {
    if (from === to) {
      this.records.push({ path: paths.path, type: 'none', value: null, span: [start, to] });
      return;
    }
    const h = this.h;
    let p = from;
    while (p < to) {
      readTlvHeader(this.bytes, p, to, 'objectInstance', FORMAT, h);
      const { kind, id, start: s, valueStart, end } = h;
      this.checkId(2, kind, id, s);
      if (kind === 'resource') this.leaf(paths, id, -1, s, valueStart, end);
      else this.multiple(paths, id, s, valueStart, end);
      p = end;
    }
  }

  private multiple(paths: InstancePaths, r: number, start: number, from: number, to: number): void {
    if (from === to) {
      const model = this.resources?.[r];
      this.records.push({ path: paths.resource(r), type: model?.type ?? 'none', value: null, span: [start, to] });
      return;
    }
    const h = this.h;
    let p = from;
    while (p < to) {
      readTlvHeader(this.bytes, p, to, 'multipleResource', FORMAT, h);
      const { kind, id, start: s, valueStart, end } = h;
      this.checkId(3, kind, id, s);
      this.leaf(paths, r, id, s, valueStart, end);
      p = end;
    }
  }

  /** A value of resource `r` (ri = -1) or of its instance `ri`. */
  private leaf(paths: InstancePaths, r: number, ri: number, start: number, p: number, end: number): void {
    const model = this.resources?.[r];
    const path = ri < 0 ? paths.resource(r) : paths.resourceInstance(r, ri);
    if (model === undefined || model.type === 'none') {
      this.unmodelledLeaf(r, model, path, start, p, end);
      return;
    }
    let value: Value;
    try {
      value = readValue(model.type, this.bytes, this.view, p, end - p);
    } catch (e) {
      if (e instanceof ValueProblem) this.fail(p + e.at, `${e.expected} for ${path.toString()} (${model.name}, ${model.type})`, e.found);
      throw e;
    }
    this.records.push({ path, type: model.type, value, span: [start, end] });
  }

  private unmodelledLeaf(r: number, model: ResourceModel | undefined, path: Lwm2mPath, start: number, p: number, end: number): void {
    const readings = guessReadings(this.bytes, this.view, p, end - p);
    const counts = (this.unmodelled ??= new Map());
    counts.set(r, (counts.get(r) ?? 0) + 1);
    if (model) (this.executable ??= new Set()).add(r);
    this.records.push({ path, type: 'opaque', value: this.bytes.slice(p, end), modelled: false, readings, span: [start, end] });
  }

  /** One note per kind of unmodelled value, with counts. */
  private notes(): string[] {
    const counts = this.unmodelled;
    if (!counts) return [];
    const o = this.b0;
    const byText = new Map<string, number>();
    for (const [r, n] of counts) {
      const text = this.executable?.has(r)
        ? `object ${o} has a value for executable resource ${r}`
        : this.resources
          ? `object ${o} has no resource ${r} in its model`
          : `no object model for object ${o}`;
      byText.set(text, (byText.get(text) ?? 0) + n);
    }
    return [...byText].map(([text, n]) => `${text}: ${n} value${n === 1 ? '' : 's'} kept as opaque bytes (see readings)`);
  }

  private fail(offset: number, expected: string, found: string): never {
    throw new DecodeError({ format: FORMAT, offset, expected, found, partial: this.records });
  }
}

/** Resource models of an object by resource id, built once per (immutable) object model. */
const indexes = new WeakMap<ObjectModel, (ResourceModel | undefined)[]>();

function resourceIndex(object: ObjectModel): readonly (ResourceModel | undefined)[] {
  let index = indexes.get(object);
  if (index === undefined) {
    index = [];
    for (const r of object.resources) index[r.id] = r;
    indexes.set(object, index);
  }
  return index;
}

// ----- encoding ------------------------------------------------------------------------------

interface ResourceEntry {
  id: number;
  /** Single resource value, or undefined for a multiple resource. */
  single?: TlvInput;
  instances?: Map<number, TlvInput>;
}

interface InstanceEntry {
  id: number;
  resources: Map<number, ResourceEntry>;
}

function encodeError(message: string): never {
  throw new EncodeError(FORMAT, message);
}

function leafBytes(r: Lwm2mRecord): Uint8Array {
  if (r.value === null) encodeError(`${r.path.toString()} has no value`);
  try {
    return writeValue(r.type, r.value);
  } catch (e) {
    if (e instanceof ValueProblem) encodeError(`${r.path.toString()} (${r.type}): expected ${e.expected}, found ${e.found}`);
    throw e;
  }
}

function toTlvResource(e: ResourceEntry): TlvInput {
  if (e.single) return e.single;
  return { kind: 'multipleResource', id: e.id, children: [...(e.instances?.values() ?? [])] };
}

function encodeRecords(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
  const base = ctx.path;
  const level = base.length;
  if (level === 0) encodeError('TLV needs a request path of at least /O (it does not carry object ids)');
  const instances = new Map<number, InstanceEntry>();
  for (const r of records) {
    const ids = r.path.ids;
    if (!base.contains(r.path) || ids.length < 2) {
      encodeError(`${r.path.toString()} is not inside the request path ${base.toString()}${ids.length < 2 ? ' or is not an object instance or deeper' : ''}`);
    }
    const iid = ids[1]!;
    let inst = instances.get(iid);
    if (!inst) {
      inst = { id: iid, resources: new Map() };
      instances.set(iid, inst);
    }
    if (ids.length === 2) {
      if (r.value !== null) encodeError(`${r.path.toString()}: an object instance cannot have a value`);
      continue;
    }
    const rid = ids[2]!;
    let res = inst.resources.get(rid);
    if (ids.length === 3) {
      if (res?.instances?.size) encodeError(`${r.path.toString()} has both a single value and resource instances`);
      if (r.value === null) res = { id: rid, instances: new Map() };
      else res = { id: rid, single: { kind: 'resource', id: rid, value: leafBytes(r) } };
      inst.resources.set(rid, res);
      continue;
    }
    if (!res) {
      res = { id: rid, instances: new Map() };
      inst.resources.set(rid, res);
    } else if (res.single) encodeError(`${r.path.toString()}: resource ${rid} has both a single value and resource instances`);
    const riid = ids[3]!;
    res.instances!.set(riid, { kind: 'resourceInstance', id: riid, value: leafBytes(r) });
  }

  let top: TlvInput[];
  if (level === 1) {
    top = [...instances.values()].map((i) => ({ kind: 'objectInstance', id: i.id, children: [...i.resources.values()].map(toTlvResource) }));
  } else {
    const inst = instances.get(base.ids[1]!);
    const resources = inst ? [...inst.resources.values()] : [];
    if (level === 2) top = resources.map(toTlvResource);
    else {
      const res = resources[0];
      if (!res) top = [];
      else if (level === 3) top = [toTlvResource(res)];
      else top = [...(res.instances?.values() ?? [])];
    }
  }
  try {
    return encodeTlv(top);
  } catch (e) {
    if (e instanceof TlvEncodeError) encodeError(e.message);
    throw e;
  }
}

/**
 * The TLV codec. Decoding needs `ctx.path` (see the module comment) and uses `ctx.models` for
 * value types; values of resources without a model become `opaque` records with
 * `modelled: false` and `readings`. Encoding uses each record's `type`, the shortest header
 * forms, the smallest exact integer width and float32 when exact.
 */
export const tlvCodec: Codec = {
  format: FORMAT,
  name: 'tlv',
  decode(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
    const decoder = new TlvDecoder(bytes, ctx);
    try {
      return decoder.run();
    } catch (e) {
      // header errors come from the wire layer, which does not know the records so far
      if (e instanceof DecodeError && e.partial.length === 0 && decoder.records.length > 0) {
        throw new DecodeError({ format: e.format, offset: e.offset, expected: e.expected, found: e.found, partial: decoder.records });
      }
      throw e;
    }
  },
  encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
    return encodeRecords(records, ctx);
  },
};
