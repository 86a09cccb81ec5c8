/**
 * The JSON shape of decoded payloads used by the CLI (and anything scripting it):
 *
 * ```json
 * {"format": "tlv", "path": "/3/0", "nodes": [
 *   {"path": "/3/0/0", "name": "Manufacturer", "type": "string", "value": "Open Mobile Alliance"}]}
 * ```
 *
 * One node per record (resource or resource instance) in payload order, keys in this order:
 * `path`, `name` (from the model, when known), `type` (ValueType spelling, e.g.
 * `unsigned integer`), `value`, `time` (seconds, when the payload has one), and for values no
 * model described `"modelled": false` with `readings` (other plausible typed readings).
 * Values: strings, numbers and booleans as such; opaque as lowercase hex; objlnk as `"O:I"`;
 * integers beyond 2^53 as decimal strings; non-finite floats as `"NaN"`/`"Infinity"`/
 * `"-Infinity"`; `null` for value-less entries.
 *
 * Reading a document back needs only `path`, `value` and optionally `time`; the type comes from
 * a `type` field when present, else from the model.
 */
import type { ModelLookup } from './model/types';
import { isObjectLink, VALUE_TYPES, type Lwm2mRecord, type Value, type ValueType } from './node';
import { Lwm2mPath, PathError } from './path';
import { formatName } from './contentFormat';
import { parseObjlnk } from './codec/common';
import { toHex } from './codec/bytes';

export type JsonValue = string | number | boolean | null;

/** One value in the JSON document. */
export interface JsonNode {
  path: string;
  name?: string;
  type: ValueType;
  value: JsonValue;
  time?: number;
  modelled?: false;
  readings?: Partial<Record<ValueType, JsonValue>>;
}

/** A decoded payload as JSON. */
export interface JsonDocument {
  /** Format name (`tlv`, `senml-json`, …) or number when it has no name. */
  format: string;
  /** The request path the payload belongs to. */
  path: string;
  nodes: JsonNode[];
}

/** A problem in a JSON document being read; `pointer` is an RFC 6901 JSON pointer. */
export class JsonInputError extends Error {
  override readonly name = 'JsonInputError';
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(`${pointer || '/'}: ${message}`);
  }
}

/** The JSON form of a typed value (see the module comment). */
export function valueToJson(type: ValueType, value: Value | null): JsonValue {
  if (value === null) return null;
  if (value instanceof Uint8Array) return toHex(value);
  if (isObjectLink(value)) return `${value.objectId}:${value.instanceId}`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (type === 'boolean' && typeof value === 'number') return value !== 0;
  return value;
}

/** Options for `recordsToJson`. */
export interface ToJsonOptions {
  /** Content format number (or name) the records came from. */
  format: number | string;
  /** Request path the payload belongs to. */
  path: Lwm2mPath;
  /** Models for resource names. */
  models?: ModelLookup;
  objectVersions?: ReadonlyMap<number, string>;
}

/** Builds the JSON document for decoded records. */
export function recordsToJson(records: readonly Lwm2mRecord[], opts: ToJsonOptions): JsonDocument {
  const names = new Map<string, string | undefined>();
  const nameOf = (path: Lwm2mPath): string | undefined => {
    const o = path.objectId;
    const r = path.resourceId;
    if (!opts.models || o === undefined || r === undefined) return undefined;
    const key = `${o}/${r}`;
    if (!names.has(key)) names.set(key, opts.models.getResource(o, r, opts.objectVersions?.get(o))?.name);
    return names.get(key);
  };
  const nodes = records.map((rec): JsonNode => {
    // key order: path, name, type, value, time, modelled, readings
    const name = nameOf(rec.path);
    const node: JsonNode =
      name === undefined
        ? { path: rec.path.toString(), type: rec.type, value: valueToJson(rec.type, rec.value) }
        : { path: rec.path.toString(), name, type: rec.type, value: valueToJson(rec.type, rec.value) };
    if (rec.time !== undefined) node.time = rec.time;
    if (rec.modelled === false) {
      node.modelled = false;
      if (rec.readings && Object.keys(rec.readings).length > 0) {
        const readings: Partial<Record<ValueType, JsonValue>> = {};
        for (const [t, v] of Object.entries(rec.readings) as [ValueType, Value][]) readings[t] = valueToJson(t, v);
        node.readings = readings;
      }
    }
    return node;
  });
  return { format: typeof opts.format === 'number' ? formatName(opts.format) : opts.format, path: opts.path.toString(), nodes };
}

// ----- reading ---------------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function integerFrom(v: unknown, pointer: string, unsigned: boolean, what: string): number | bigint {
  let result: number | bigint | undefined;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new JsonInputError(pointer, `expected ${what}, found ${describe(v)}`);
    if (!Number.isSafeInteger(v)) throw new JsonInputError(pointer, `${v} is beyond 2^53; write it as a decimal string`);
    result = v;
  } else if (typeof v === 'string' && /^[-+]?\d+$/.test(v.trim())) {
    const big = BigInt(v.trim());
    result = Number.isSafeInteger(Number(big)) ? Number(big) : big;
  } else throw new JsonInputError(pointer, `expected ${what}, found ${describe(v)}`);
  if (unsigned && result < 0) throw new JsonInputError(pointer, `expected ${what}, found ${describe(v)}`);
  return result;
}

/** Reads a JSON value as a typed value (the inverse of `valueToJson`). */
export function valueFromJson(type: ValueType, v: unknown, pointer = ''): Value | null {
  if (v === null) return null;
  switch (type) {
    case 'string':
    case 'corelnk':
      if (typeof v === 'string') return v;
      break;
    case 'integer':
      return integerFrom(v, pointer, false, 'an integer (number or decimal string)');
    case 'time':
      return integerFrom(v, pointer, false, 'a time in seconds (number or decimal string)');
    case 'unsigned integer':
      return integerFrom(v, pointer, true, 'an unsigned integer (number or decimal string)');
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
      if (v === 'NaN') return NaN;
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      break;
    case 'opaque':
      if (typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v)) {
        const out = new Uint8Array(v.length / 2);
        for (let i = 0; i < out.length; i++) out[i] = parseInt(v.slice(i * 2, i * 2 + 2), 16);
        return out;
      }
      throw new JsonInputError(pointer, `expected opaque bytes as hex (e.g. "0a1b"), found ${describe(v)}`);
    case 'objlnk':
      if (typeof v === 'string') {
        const link = parseObjlnk(v);
        if (link) return link;
      }
      throw new JsonInputError(pointer, `expected an object link "O:I", found ${describe(v)}`);
    case 'none':
      break;
  }
  throw new JsonInputError(pointer, `expected a ${type} value, found ${describe(v)}`);
}

/** Options for `jsonToRecords`. */
export interface FromJsonOptions {
  models?: ModelLookup;
  objectVersions?: ReadonlyMap<number, string>;
}

/** What a JSON document holds: records, and the path and format it names (if any). */
export interface FromJsonResult {
  records: Lwm2mRecord[];
  path?: Lwm2mPath;
  format?: string;
}

/**
 * Reads the JSON document (already parsed) back into records. Accepts the document object or a
 * bare array of nodes. Throws JsonInputError naming the JSON pointer of the problem.
 */
export function jsonToRecords(doc: unknown, opts: FromJsonOptions = {}): FromJsonResult {
  let nodes: unknown;
  let base = '';
  const result: FromJsonResult = { records: [] };
  if (Array.isArray(doc)) nodes = doc;
  else if (typeof doc === 'object' && doc !== null) {
    const d = doc as Record<string, unknown>;
    nodes = d.nodes;
    base = '/nodes';
    if (d.path !== undefined) {
      if (typeof d.path !== 'string') throw new JsonInputError('/path', `expected a path string, found ${describe(d.path)}`);
      result.path = parsePath(d.path, '/path');
    }
    if (d.format !== undefined) {
      if (typeof d.format !== 'string' && typeof d.format !== 'number') throw new JsonInputError('/format', `expected a format name, found ${describe(d.format)}`);
      result.format = String(d.format);
    }
  } else throw new JsonInputError('', `expected an object with "nodes" or an array of nodes, found ${describe(doc)}`);
  if (!Array.isArray(nodes)) throw new JsonInputError(base, `expected an array of nodes, found ${describe(nodes)}`);
  nodes.forEach((n, i) => result.records.push(nodeToRecord(n, `${base}/${i}`, opts)));
  return result;
}

function parsePath(text: string, pointer: string): Lwm2mPath {
  try {
    return Lwm2mPath.parse(text);
  } catch (e) {
    if (e instanceof PathError) throw new JsonInputError(pointer, e.message);
    throw e;
  }
}

function nodeToRecord(n: unknown, pointer: string, opts: FromJsonOptions): Lwm2mRecord {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) throw new JsonInputError(pointer, `expected a node object, found ${describe(n)}`);
  const node = n as Record<string, unknown>;
  if (typeof node.path !== 'string') throw new JsonInputError(`${pointer}/path`, `expected a path string, found ${describe(node.path)}`);
  const path = parsePath(node.path, `${pointer}/path`);
  if (!('value' in node)) throw new JsonInputError(pointer, 'missing "value" (use null for no value)');
  let type: ValueType | undefined;
  if (node.type !== undefined) {
    if (typeof node.type !== 'string' || !(VALUE_TYPES as readonly string[]).includes(node.type.toLowerCase())) {
      throw new JsonInputError(`${pointer}/type`, `expected one of ${VALUE_TYPES.join(', ')}, found ${describe(node.type)}`);
    }
    type = node.type.toLowerCase() as ValueType;
  } else {
    const o = path.objectId;
    const r = path.resourceId;
    if (o !== undefined && r !== undefined) type = opts.models?.getResource(o, r, opts.objectVersions?.get(o))?.type;
    else if (node.value === null) type = 'none';
    if (type === undefined) throw new JsonInputError(pointer, `no type for ${path.toString()}: add a "type" field or load its object model`);
  }
  const record: Lwm2mRecord = { path, type, value: valueFromJson(type, node.value, `${pointer}/value`) };
  if (node.time !== undefined) {
    if (typeof node.time !== 'number' || !Number.isFinite(node.time)) throw new JsonInputError(`${pointer}/time`, `expected seconds as a number, found ${describe(node.time)}`);
    record.time = node.time;
  }
  return record;
}
