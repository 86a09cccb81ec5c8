import { Lwm2mPath } from './path';

/**
 * Value types of LwM2M resources, spelled as the DDF `Type` element in lower case.
 * `none` is an executable resource (no value).
 */
export type ValueType =
  | 'string'
  | 'integer'
  | 'unsigned integer'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none';

export const VALUE_TYPES: readonly ValueType[] = [
  'string',
  'integer',
  'unsigned integer',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
  'none',
];

export interface ObjectLink {
  objectId: number;
  instanceId: number;
}

/**
 * A typed value. Integers and unsigned integers are `number` while they are safe integers
 * and `bigint` beyond 2^53; time is seconds since 1970 (number); opaque is bytes.
 */
export type Value = string | number | bigint | boolean | Uint8Array | ObjectLink;

/**
 * One resource or resource-instance value, the flat unit every codec produces and consumes.
 * - `value === null` means "no value": a path-only entry (Read-Composite request) or a
 *   deletion (Write-Composite with null).
 * - `time` is absolute seconds since 1970 when the payload carries one (SenML, LwM2M JSON).
 * - `modelled === false` when no object model described the resource and the type was guessed.
 */
export interface Lwm2mRecord {
  path: Lwm2mPath;
  type: ValueType;
  value: Value | null;
  time?: number;
  modelled?: boolean;
  /** Other plausible readings of an unmodelled value, e.g. TLV bytes read as integer/string. */
  readings?: Partial<Record<ValueType, Value>>;
  /** Byte range [start, end) of this record in the payload, when the codec tracks it. */
  span?: [number, number];
}

// ----- Node tree ----------------------------------------------------------------------------

export interface ResourceInstanceNode {
  kind: 'resourceInstance';
  id: number;
  type: ValueType;
  value: Value | null;
}

export interface ResourceNode {
  kind: 'resource';
  id: number;
  type: ValueType;
  /** True for a multiple-instance resource, whose values are in `instances`. */
  multiple: boolean;
  value?: Value | null;
  instances?: ResourceInstanceNode[];
}

export interface ObjectInstanceNode {
  kind: 'instance';
  id: number;
  resources: ResourceNode[];
}

export interface ObjectNode {
  kind: 'object';
  id: number;
  instances: ObjectInstanceNode[];
}

export type Lwm2mNode = ObjectNode | ObjectInstanceNode | ResourceNode | ResourceInstanceNode;

/**
 * Builds a tree of objects from flat records (records with a time are taken as they come:
 * a later record for the same path replaces an earlier one). Resource instances make their
 * resource `multiple`. Records must have paths of at least an object instance... a record at a
 * resource path becomes a single resource.
 */
export function recordsToTree(records: readonly Lwm2mRecord[]): ObjectNode[] {
  const objects = new Map<number, { node: ObjectNode; instances: Map<number, { node: ObjectInstanceNode; resources: Map<number, ResourceNode> }> }>();
  for (const rec of records) {
    const [o, i, r, ri] = rec.path.ids;
    if (o === undefined) continue;
    let obj = objects.get(o);
    if (!obj) {
      obj = { node: { kind: 'object', id: o, instances: [] }, instances: new Map() };
      objects.set(o, obj);
    }
    if (i === undefined) continue;
    let inst = obj.instances.get(i);
    if (!inst) {
      inst = { node: { kind: 'instance', id: i, resources: [] }, resources: new Map() };
      obj.instances.set(i, inst);
      obj.node.instances.push(inst.node);
    }
    if (r === undefined) continue;
    let res = inst.resources.get(r);
    if (!res) {
      res = { kind: 'resource', id: r, type: rec.type, multiple: ri !== undefined };
      inst.resources.set(r, res);
      inst.node.resources.push(res);
    }
    if (ri === undefined) {
      res.value = rec.value;
      res.type = rec.type;
    } else {
      res.multiple = true;
      const list = (res.instances ??= []);
      const existing = list.find((x) => x.id === ri);
      if (existing) {
        existing.value = rec.value;
        existing.type = rec.type;
      } else list.push({ kind: 'resourceInstance', id: ri, type: rec.type, value: rec.value });
    }
  }
  return [...objects.values()].map((o) => o.node);
}

/** Flattens a tree back into records in tree order. */
export function treeToRecords(objects: readonly ObjectNode[]): Lwm2mRecord[] {
  const out: Lwm2mRecord[] = [];
  for (const o of objects) {
    for (const i of o.instances) {
      for (const r of i.resources) {
        if (r.multiple) {
          for (const ri of r.instances ?? []) {
            out.push({ path: new Lwm2mPath([o.id, i.id, r.id, ri.id]), type: ri.type, value: ri.value });
          }
        } else {
          out.push({ path: new Lwm2mPath([o.id, i.id, r.id]), type: r.type, value: r.value ?? null });
        }
      }
    }
  }
  return out;
}

export function isObjectLink(v: unknown): v is ObjectLink {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'objectId' in v && 'instanceId' in v;
}

/** Formats a value for people: objlnk as `O:I`, opaque as hex, others as text. */
export function formatValue(v: Value | null): string {
  if (v === null) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (isObjectLink(v)) return `${v.objectId}:${v.instanceId}`;
  return String(v);
}
