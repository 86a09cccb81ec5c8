/**
 * The object tree of a simulated LwM2M client: object instances with their resource values,
 * typed and checked against the object models (lwm2m-protocol.md §5, §6.3, §15, §17).
 *
 * Values are kept per resource: a `Value` for a single resource, a `Map<riid, Value>` for a
 * multiple-instance resource. Executable resources hold no value; an object lists the ones it
 * supports. Every method that refuses something throws a SimError carrying the CoAP response
 * code the client answers with (4.00, 4.04, 4.05, …) and a diagnostic text.
 */

import { Code } from '../coap/message';
import type { ObjectModel, ModelLookup, ResourceModel } from '../model/types';
import { isObjectLink, type Lwm2mRecord, type Value, type ValueType } from '../node';
import { Lwm2mPath } from '../path';

/** A refusal with the response code to answer and a diagnostic payload. */
export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    /** CoAP code byte (Code.NotFound, …). */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A resource value as stored: single, or resource instances by id. */
export type StoredValue = Value | Map<number, Value>;

/** The initial content of one object. */
export interface ObjectSpec {
  id: number;
  /** Object version (`X.Y`) announced at Register and used to pick the model. */
  version: string;
  /** Instance id → resource id → value, or resource-instance id → value for multiple resources. */
  instances: Record<number, Record<number, Value | Record<number, Value>>>;
  /** Executable resources this object supports (e.g. 4 Reboot of /3). */
  executables?: number[];
}

/** Who is asking: a DM server (access rights apply), the bootstrap server, or the simulator itself. */
export type Actor = 'server' | 'bootstrap' | 'local';

interface ObjectState {
  id: number;
  version: string;
  model: ObjectModel;
  resources: Map<number, ResourceModel>;
  instances: Map<number, Map<number, StoredValue>>;
  executables: Set<number>;
}

/** Called with the path of every value that changed (a resource or an instance). */
export type ChangeListener = (path: Lwm2mPath) => void;

const NUMERIC: ReadonlySet<ValueType> = new Set(['integer', 'unsigned integer', 'float', 'time']);

export function isNumericType(type: ValueType): boolean {
  return NUMERIC.has(type);
}

function readable(r: ResourceModel): boolean {
  return r.operations === 'R' || r.operations === 'RW';
}

function writable(r: ResourceModel): boolean {
  return r.operations === 'W' || r.operations === 'RW';
}

/** Why `value` does not fit resource `r`, or undefined when it does. */
export function valueProblem(r: ResourceModel, value: Value | null): string | undefined {
  if (value === null) return 'no value';
  const t = r.type;
  let ok: boolean;
  switch (t) {
    case 'string':
    case 'corelnk':
      ok = typeof value === 'string';
      break;
    case 'integer':
    case 'time':
      ok = (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
      break;
    case 'unsigned integer':
      ok = ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint') && value >= 0;
      break;
    case 'float':
      ok = typeof value === 'number';
      break;
    case 'boolean':
      ok = typeof value === 'boolean';
      break;
    case 'opaque':
      ok = value instanceof Uint8Array;
      break;
    case 'objlnk':
      ok = isObjectLink(value);
      break;
    default:
      ok = false;
  }
  if (!ok) return `expected ${t === 'none' ? 'no value (executable)' : `a ${t}`}, got ${describe(value)}`;
  const range = r.range;
  if (range && (typeof value === 'number' || typeof value === 'bigint') && !range.bytes) {
    if (range.min !== undefined && value < range.min) return `${String(value)} is below the minimum ${range.min}`;
    if (range.max !== undefined && value > range.max) return `${String(value)} is above the maximum ${range.max}`;
  }
  return undefined;
}

function describe(v: Value): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (isObjectLink(v)) return `objlnk ${v.objectId}:${v.instanceId}`;
  return `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`;
}

function toStored(r: ResourceModel, v: Value | Record<number, Value>): StoredValue {
  if (!r.multiple) return v as Value;
  return new Map(Object.entries(v as Record<number, Value>).map(([k, x]) => [Number(k), x]));
}

/** The data of a simulated client. */
export class ObjectTree {
  private readonly objects = new Map<number, ObjectState>();
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    readonly models: ModelLookup,
    specs: readonly ObjectSpec[],
  ) {
    for (const spec of specs) this.addObject(spec);
  }

  /** Adds (or replaces) an object and its instances. Throws when no model describes it. */
  addObject(spec: ObjectSpec): void {
    const model = this.models.getObject(spec.id, spec.version);
    if (!model) throw new Error(`no object model for object ${spec.id} version ${spec.version}`);
    const resources = new Map(model.resources.map((r) => [r.id, r]));
    const state: ObjectState = { id: spec.id, version: spec.version, model, resources, instances: new Map(), executables: new Set(spec.executables ?? []) };
    for (const [iid, values] of Object.entries(spec.instances)) {
      const inst = new Map<number, StoredValue>();
      for (const [rid, v] of Object.entries(values)) {
        const r = resources.get(Number(rid));
        if (!r) throw new Error(`object ${spec.id} has no resource ${rid}`);
        inst.set(r.id, toStored(r, v));
      }
      state.instances.set(Number(iid), inst);
    }
    this.objects.set(spec.id, state);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(path: Lwm2mPath): void {
    for (const l of [...this.listeners]) l(path);
  }

  // ----- structure -------------------------------------------------------------------------

  objectIds(): number[] {
    return [...this.objects.keys()].sort((a, b) => a - b);
  }

  /** Object version (`X.Y`) of an object in the tree. */
  version(objectId: number): string | undefined {
    return this.objects.get(objectId)?.version;
  }

  /** Object id → version, for codec contexts. */
  objectVersions(): Map<number, string> {
    return new Map([...this.objects.values()].map((o) => [o.id, o.version]));
  }

  objectModel(objectId: number): ObjectModel | undefined {
    return this.objects.get(objectId)?.model;
  }

  resourceModel(objectId: number, resourceId: number): ResourceModel | undefined {
    return this.objects.get(objectId)?.resources.get(resourceId);
  }

  instanceIds(objectId: number): number[] {
    return [...(this.objects.get(objectId)?.instances.keys() ?? [])].sort((a, b) => a - b);
  }

  hasInstance(objectId: number, instanceId: number): boolean {
    return this.objects.get(objectId)?.instances.has(instanceId) ?? false;
  }

  /** Resource ids present in an instance (with a value, or a supported executable), ascending. */
  resourceIds(objectId: number, instanceId: number): number[] {
    const o = this.objects.get(objectId);
    const inst = o?.instances.get(instanceId);
    if (!o || !inst) return [];
    return [...new Set([...inst.keys(), ...o.executables])].sort((a, b) => a - b);
  }

  isExecutable(objectId: number, resourceId: number): boolean {
    const o = this.objects.get(objectId);
    return !!o && o.executables.has(resourceId) && o.resources.get(resourceId)?.operations === 'E';
  }

  /** Does the path address something that exists (object, instance, resource or resource instance)? */
  exists(path: Lwm2mPath): boolean {
    const [oid, iid, rid, riid] = path.ids;
    if (oid === undefined) return true;
    const o = this.objects.get(oid);
    if (!o) return false;
    if (iid === undefined) return true;
    const inst = o.instances.get(iid);
    if (!inst) return false;
    if (rid === undefined) return true;
    if (o.executables.has(rid) && o.resources.get(rid)?.operations === 'E') return riid === undefined;
    const v = inst.get(rid);
    if (v === undefined) return false;
    if (riid === undefined) return true;
    return v instanceof Map && v.has(riid);
  }

  // ----- values ------------------------------------------------------------------------------

  /** The stored value at a resource or resource-instance path, if any. */
  get(path: Lwm2mPath): StoredValue | undefined {
    const [oid, iid, rid, riid] = path.ids;
    if (rid === undefined) return undefined;
    const v = this.objects.get(oid!)?.instances.get(iid!)?.get(rid);
    if (riid === undefined) return v;
    return v instanceof Map ? v.get(riid) : undefined;
  }

  /** A single value as a number, when it is numeric. */
  getNumber(path: Lwm2mPath): number | undefined {
    const v = this.get(path);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  }

  /**
   * Sets a value without access checks (the device itself changing it), after checking its
   * type against the model. A `Record<riid, Value>` (or Map) sets a multiple resource.
   * Creates nothing above the resource level: the instance must exist.
   */
  set(path: Lwm2mPath, value: Value | Map<number, Value> | Record<number, Value>): void {
    const { inst, r } = this.resolveResource(path);
    const riid = path.resourceInstanceId;
    if (riid !== undefined) {
      if (!r.multiple) throw new SimError(Code.BadRequest, `${path.parent().toString()} is a single-instance resource`);
      const problem = valueProblem(r, value as Value);
      if (problem) throw new SimError(Code.BadRequest, `${path.toString()}: ${problem}`);
      const cur = inst.get(r.id);
      const map = cur instanceof Map ? cur : new Map<number, Value>();
      const before = map.get(riid);
      map.set(riid, value as Value);
      inst.set(r.id, map);
      if (!sameValue(before, value as Value)) this.changed(path);
      return;
    }
    if (r.multiple) {
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as Record<number, Value>).map(([k, v]) => [Number(k), v] as [number, Value]);
      for (const [, v] of entries) {
        const problem = valueProblem(r, v);
        if (problem) throw new SimError(Code.BadRequest, `${path.toString()}: ${problem}`);
      }
      inst.set(r.id, new Map(entries));
      this.changed(path);
      return;
    }
    const problem = valueProblem(r, value as Value);
    if (problem) throw new SimError(Code.BadRequest, `${path.toString()}: ${problem}`);
    const before = inst.get(r.id);
    inst.set(r.id, value as Value);
    if (!(before instanceof Map) && !sameValue(before, value as Value)) this.changed(path);
  }

  private resolveResource(path: Lwm2mPath): { o: ObjectState; inst: Map<number, StoredValue>; r: ResourceModel } {
    const [oid, iid, rid] = path.ids;
    if (rid === undefined) throw new SimError(Code.BadRequest, `${path.toString()} is not a resource path`);
    const o = this.objects.get(oid!);
    if (!o) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
    const inst = o.instances.get(iid!);
    if (!inst) throw new SimError(Code.NotFound, `instance /${oid}/${iid} does not exist`);
    const r = o.resources.get(rid);
    if (!r) throw new SimError(Code.NotFound, `object ${oid} has no resource ${rid}`);
    return { o, inst, r };
  }

  /**
   * The records below `path` for a Read: readable resources only (every resource for the
   * bootstrap server and for `local`). Throws 4.04 when the path does not exist, 4.05 for a
   * non-readable resource (executable or write-only).
   */
  read(path: Lwm2mPath, actor: Actor = 'server'): Lwm2mRecord[] {
    const [oid, iid, rid, riid] = path.ids;
    if (oid === undefined) throw new SimError(Code.MethodNotAllowed, 'Read on / is not allowed');
    const o = this.objects.get(oid);
    if (!o) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
    const may = (r: ResourceModel) => actor !== 'server' || readable(r);
    const out: Lwm2mRecord[] = [];
    const emitInstance = (id: number, inst: Map<number, StoredValue>) => {
      for (const rId of [...inst.keys()].sort((a, b) => a - b)) {
        const r = o.resources.get(rId);
        if (r && may(r)) this.emitResource(out, new Lwm2mPath([oid, id, rId]), r, inst.get(rId)!);
      }
    };
    if (iid === undefined) {
      for (const id of this.instanceIds(oid)) emitInstance(id, o.instances.get(id)!);
      return out;
    }
    const inst = o.instances.get(iid);
    if (!inst) throw new SimError(Code.NotFound, `instance /${oid}/${iid} does not exist`);
    if (rid === undefined) {
      emitInstance(iid, inst);
      return out;
    }
    const r = o.resources.get(rid);
    if (!r || (!inst.has(rid) && !o.executables.has(rid))) throw new SimError(Code.NotFound, `resource ${path.toString()} does not exist`);
    if (!may(r)) throw new SimError(Code.MethodNotAllowed, `resource ${path.toString()} (${r.name}) is not readable`);
    const v = inst.get(rid)!;
    if (riid === undefined) {
      this.emitResource(out, path, r, v);
      return out;
    }
    if (!(v instanceof Map) || !v.has(riid)) throw new SimError(Code.NotFound, `resource instance ${path.toString()} does not exist`);
    out.push({ path, type: r.type, value: v.get(riid)! });
    return out;
  }

  private emitResource(out: Lwm2mRecord[], path: Lwm2mPath, r: ResourceModel, v: StoredValue): void {
    if (v instanceof Map) {
      for (const riid of [...v.keys()].sort((a, b) => a - b)) out.push({ path: path.child(riid), type: r.type, value: v.get(riid)! });
    } else out.push({ path, type: r.type, value: v });
  }

  /**
   * Checks records for a Write, Create or Bootstrap-Write before anything changes: each record
   * must lie below `target`, name a resource of the object's model, be writable (unless the
   * bootstrap server or `local` writes, or `create` is set) and carry a value of the right type.
   * Records of resources the model does not know are refused (4.00), except for the bootstrap
   * server, for which they are skipped (an optional resource the client does not support).
   */
  checkWrite(target: Lwm2mPath, records: readonly Lwm2mRecord[], actor: Actor, create = false): Lwm2mRecord[] {
    const accepted: Lwm2mRecord[] = [];
    for (const rec of records) {
      if (!target.contains(rec.path)) throw new SimError(Code.BadRequest, `${rec.path.toString()} is outside the target ${target.toString()}`);
      const [oid, , rid, riid] = rec.path.ids;
      const o = this.objects.get(oid!);
      if (!o) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
      if (rid === undefined) {
        if (rec.value !== null) throw new SimError(Code.BadRequest, `${rec.path.toString()}: an instance carries no value`);
        accepted.push(rec);
        continue;
      }
      const r = o.resources.get(rid);
      if (!r) {
        if (actor === 'bootstrap') continue;
        throw new SimError(Code.BadRequest, `object ${oid} has no resource ${rid}`);
      }
      if (r.operations === 'E') throw new SimError(Code.MethodNotAllowed, `${rec.path.toString()} (${r.name}) is executable, not writable`);
      if (actor === 'server' && !create && !writable(r)) throw new SimError(Code.MethodNotAllowed, `${rec.path.toString()} (${r.name}) is not writable`);
      if (riid !== undefined && !r.multiple) throw new SimError(Code.BadRequest, `${rec.path.parent().toString()} (${r.name}) is a single-instance resource`);
      if (riid === undefined && r.multiple && rec.value !== null) throw new SimError(Code.BadRequest, `${rec.path.toString()} (${r.name}) is a multiple-instance resource: write its instances`);
      if (rec.value === null) {
        if (r.multiple) {
          accepted.push(rec);
          continue;
        }
        throw new SimError(Code.BadRequest, `${rec.path.toString()}: no value`);
      }
      const problem = valueProblem(r, rec.value);
      if (problem) throw new SimError(Code.BadRequest, `${rec.path.toString()} (${r.name}): ${problem}`);
      accepted.push(rec);
    }
    return accepted;
  }

  /**
   * Writes checked records (see checkWrite). `replace` on an instance removes the writable
   * optional resources the payload does not carry; `replace` on a multiple resource replaces
   * all its instances; `update` only sets what is given. With `createInstances` (Bootstrap-Write,
   * Create) missing instances are created. Returns the changed paths.
   */
  applyWrite(target: Lwm2mPath, records: readonly Lwm2mRecord[], mode: 'replace' | 'update', actor: Actor, createInstances = false): Lwm2mPath[] {
    const changed = new Map<string, Lwm2mPath>();
    const touched = new Map<string, Map<number, StoredValue>>();
    const instanceOf = (oid: number, iid: number): Map<number, StoredValue> => {
      const o = this.objects.get(oid)!;
      let inst = o.instances.get(iid);
      if (!inst) {
        if (!createInstances) throw new SimError(Code.NotFound, `instance /${oid}/${iid} does not exist`);
        inst = new Map();
        o.instances.set(iid, inst);
        changed.set(`/${oid}/${iid}`, new Lwm2mPath([oid, iid]));
      }
      return inst;
    };
    // Verify instances exist first so that a failing write changes nothing.
    if (!createInstances) {
      for (const rec of records) {
        const [oid, iid] = rec.path.ids;
        if (iid !== undefined && !this.hasInstance(oid!, iid)) throw new SimError(Code.NotFound, `instance /${oid}/${iid} does not exist`);
      }
    }
    const replacedMultiple = new Set<string>();
    for (const rec of records) {
      const [oid, iid, rid, riid] = rec.path.ids;
      if (iid === undefined) continue;
      const inst = instanceOf(oid!, iid);
      touched.set(`${oid}/${iid}`, inst);
      if (rid === undefined) continue;
      const r = this.objects.get(oid!)!.resources.get(rid)!;
      const resPath = new Lwm2mPath([oid!, iid, rid]);
      if (r.multiple) {
        let map = inst.get(rid);
        const key = resPath.toString();
        const replaceAll = mode === 'replace' && (target.length <= 3 || actor === 'bootstrap') && !replacedMultiple.has(key);
        if (!(map instanceof Map) || replaceAll) {
          map = new Map();
          inst.set(rid, map);
          replacedMultiple.add(key);
        }
        if (riid !== undefined) {
          if (rec.value === null) map.delete(riid);
          else map.set(riid, rec.value);
        }
        changed.set(key, resPath);
      } else {
        const before = inst.get(rid);
        inst.set(rid, rec.value!);
        if (!sameValue(before as Value | undefined, rec.value!)) changed.set(resPath.toString(), resPath);
      }
    }
    if (mode === 'replace' && target.length === 2 && actor !== 'bootstrap') {
      const [oid, iid] = target.ids;
      const o = this.objects.get(oid!)!;
      const inst = o.instances.get(iid!);
      const given = new Set(records.map((r) => r.path.resourceId));
      if (inst) {
        for (const rid of [...inst.keys()]) {
          const r = o.resources.get(rid);
          if (r && writable(r) && !r.mandatory && !given.has(rid)) {
            inst.delete(rid);
            const p = new Lwm2mPath([oid!, iid!, rid]);
            changed.set(p.toString(), p);
          }
        }
      }
    }
    const paths = [...changed.values()];
    for (const p of paths) this.changed(p);
    return paths;
  }

  /** Creates an instance with `values` (checked already). Throws 4.00 when it exists. */
  createInstance(objectId: number, instanceId: number, records: readonly Lwm2mRecord[], defaults: Record<number, Value | Record<number, Value>> = {}): void {
    const o = this.objects.get(objectId);
    if (!o) throw new SimError(Code.NotFound, `object ${objectId} is not supported`);
    if (o.instances.has(instanceId)) throw new SimError(Code.BadRequest, `instance /${objectId}/${instanceId} already exists`);
    const inst = new Map<number, StoredValue>();
    for (const [rid, v] of Object.entries(defaults)) {
      const r = o.resources.get(Number(rid));
      if (r) inst.set(r.id, toStored(r, v));
    }
    o.instances.set(instanceId, inst);
    const target = new Lwm2mPath([objectId, instanceId]);
    this.applyWrite(target, records, 'update', 'local');
    this.changed(target);
  }

  /** Removes an instance. Returns false when it did not exist. */
  deleteInstance(objectId: number, instanceId: number): boolean {
    const o = this.objects.get(objectId);
    if (!o || !o.instances.delete(instanceId)) return false;
    this.changed(new Lwm2mPath([objectId, instanceId]));
    return true;
  }

  /** The lowest free instance id of an object. */
  freeInstanceId(objectId: number): number {
    const o = this.objects.get(objectId);
    let id = 0;
    while (o?.instances.has(id)) id++;
    return id;
  }
}

function sameValue(a: Value | Map<number, Value> | undefined, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (isObjectLink(a) && isObjectLink(b)) return a.objectId === b.objectId && a.instanceId === b.instanceId;
  return false;
}
