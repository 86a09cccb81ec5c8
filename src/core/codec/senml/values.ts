/**
 * What the SenML, LwM2M JSON, LwM2M CBOR and CBOR (60) codecs share: integer ranges and
 * encode-side value checks, objlnk text, relative times, the base path encoders name records
 * from, resource-model lookup and the "type guessed" notes.
 */

import type { ObjectModel, ResourceModel } from '../../model/types';
import type { Lwm2mRecord, ObjectLink, Value, ValueType } from '../../node';
import { isObjectLink } from '../../node';
import { Lwm2mPath } from '../../path';
import type { CodecContext } from '../types';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * An integer for an Integer (signed 64-bit) or Unsigned Integer (0..2^64-1) resource:
 * `number` while safe, `bigint` beyond. Undefined when `v` is not an integer or out of range.
 */
export function toInteger(v: number | bigint, type: 'integer' | 'unsigned integer'): number | bigint | undefined {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return type === 'unsigned integer' && v < 0 ? undefined : v;
    if (!Number.isInteger(v)) return undefined;
    v = BigInt(v);
  }
  if (v < (type === 'integer' ? INT64_MIN : 0n) || v > (type === 'integer' ? INT64_MAX : UINT64_MAX)) return undefined;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Why `value` cannot be written as a value of `type`, or undefined when it can. */
export function valueProblem(type: ValueType, value: Value): string | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return typeof value === 'string' ? undefined : `a ${type} value must be a string`;
    case 'integer':
    case 'unsigned integer':
      return (typeof value === 'number' || typeof value === 'bigint') && toInteger(value, type) !== undefined
        ? undefined
        : `${String(value)} is not a valid ${type}`;
    case 'float':
      return typeof value === 'number' || typeof value === 'bigint' ? undefined : 'a float value must be a number';
    case 'time':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a time value must be a finite number of seconds';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean value must be true or false';
    case 'opaque':
      return value instanceof Uint8Array ? undefined : 'an opaque value must be bytes';
    case 'objlnk':
      return isObjectLink(value) && isLinkId(value.objectId) && isLinkId(value.instanceId)
        ? undefined
        : 'an objlnk value must be {objectId, instanceId} with ids 0..65535';
    case 'none':
      return 'an executable resource has no value';
  }
}

function isLinkId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

/** The `O:I` text form of an object link. */
export function objlnkText(v: ObjectLink): string {
  return `${v.objectId}:${v.instanceId}`;
}

/** SenML times (`bt + t`) below 2^28 s are relative to "now" (RFC 8428 §4.5.3). */
export const RELATIVE_TIME_LIMIT = 268435456;

/** Seconds since 1970, the default clock of the codecs that resolve relative times. */
export function systemNow(): number {
  return Date.now() / 1000;
}

/**
 * Collects the "no model, type guessed" notes of one decode, one per object/resource pair
 * so a payload with 1,000 instances does not produce 1,000 notes.
 */
export class GuessNotes {
  readonly notes: string[] = [];
  private readonly seen = new Set<number>();

  add(path: Lwm2mPath, how: string): void {
    const key = path.objectId! * 65536 + path.resourceId!;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.notes.push(`no model for ${path}: type guessed from ${how}`);
  }
}

/**
 * The path encoders put in the base name: the request path when it holds every record (as
 * Leshan does: `bn="/3/0/"`, `n="0"`); else, when several records are all of one resource (a
 * time series in a Send), that resource; else the root, so names are absolute as in the
 * composite examples of the spec.
 */
export function basePath(records: readonly Lwm2mRecord[], requestPath: Lwm2mPath): Lwm2mPath {
  if (!requestPath.isRoot() && records.every((r) => requestPath.contains(r.path))) return requestPath;
  const first = records[0]?.path;
  if (records.length < 2 || first === undefined || first.length < 3) return Lwm2mPath.ROOT;
  const resource = first.length === 3 ? first : first.parent();
  return records.every((r) => resource.contains(r.path)) ? resource : Lwm2mPath.ROOT;
}

/** Resource models of an object model by id, built once per model (models are not mutated). */
const resourceIndexes = new WeakMap<ObjectModel, Map<number, ResourceModel>>();

function resourceIndex(model: ObjectModel): Map<number, ResourceModel> {
  let index = resourceIndexes.get(model);
  if (!index) resourceIndexes.set(model, (index = new Map(model.resources.map((r) => [r.id, r]))));
  return index;
}

/**
 * Resource models for one decode. Payloads list many resources of the same object in a row,
 * so it asks the model source for the object once per change of object, then finds resources
 * in that object's index (what codec/common.ts `lookupResource` answers, with fewer lookups).
 */
export class ResourceModels {
  private objectId = -1;
  private resources: Map<number, ResourceModel> | undefined;
  private resourceId = -1;
  private resource: ResourceModel | undefined;

  constructor(private readonly ctx: CodecContext) {}

  /** The model of the resource a path of at least /O/I/R names; undefined for shorter paths. */
  get(path: Lwm2mPath): ResourceModel | undefined {
    const ids = path.ids;
    const models = this.ctx.models;
    if (ids.length < 3 || models === undefined) return undefined;
    const o = ids[0]!;
    const r = ids[2]!;
    if (o !== this.objectId) {
      const object = models.getObject(o, this.ctx.objectVersions?.get(o));
      this.resources = object && resourceIndex(object);
      this.objectId = o;
    } else if (r === this.resourceId) return this.resource; // a time series, or instances of one resource
    this.resourceId = r;
    return (this.resource = this.resources?.get(r));
  }
}
