/**
 * Edits of a decoded payload, on its records: set a value (validated by type and the model's
 * range), remove a node, add an instance, a resource or a resource instance. The document
 * re-encodes the records afterwards. Also conversion to another format and the copy formats.
 * Pure (no `vscode`).
 */
import { ContentFormat, canonicalFormat } from '../../core/contentFormat';
import { codecRegistry } from '../../core/codec/registry';
import { toHex } from '../../core/codec/bytes';
import { EncodeError } from '../../core/errors';
import type { ModelLookup, ResourceModel } from '../../core/model/types';
import type { Lwm2mRecord, Value, ValueType } from '../../core/node';
import { Lwm2mPath } from '../../core/path';
import type { NodeTable } from '../../common/protocol';
import { defaultValue, parseValueText } from '../../common/values';
import { RELATIVE_FORMATS } from './analyze';
import { scanJson } from './wire';

/** An edit that cannot be made (bad input, or not possible here); the message is for people. */
export class EditProblem extends Error {
  override readonly name = 'EditProblem';
}

/** An edit with every choice made (the host asks people for what the webview left open). */
export type ResolvedEdit =
  | { op: 'setValue'; row: number; text: string }
  | { op: 'remove'; row: number }
  | { op: 'addInstance'; row: number; id?: number }
  | { op: 'addResource'; row: number; resourceId: number; text?: string; type?: ValueType }
  | { op: 'addResourceInstance'; row: number; id?: number; text?: string };

export interface EditTarget {
  records: readonly Lwm2mRecord[];
  nodes: NodeTable;
  rowPaths: readonly Lwm2mPath[];
  format: number;
  basePath: Lwm2mPath;
  models?: ModelLookup;
  now?: () => number;
}

export interface EditOutcome {
  records: Lwm2mRecord[];
  /** Undo/redo label, e.g. `Set /3/0/0`. */
  label: string;
  /** Path to select afterwards. */
  select?: string;
}

function clean(r: Lwm2mRecord, path = r.path, value: Value | null = r.value): Lwm2mRecord {
  const out: Lwm2mRecord = { path, type: r.type, value };
  if (r.time !== undefined) out.time = r.time;
  if (r.modelled === false) out.modelled = false;
  return out;
}

function rowCheck(t: EditTarget, row: number): Lwm2mPath {
  const path = t.rowPaths[row];
  if (!Number.isInteger(row) || path === undefined) throw new EditProblem(`row ${row} does not exist (the payload changed?)`);
  return path;
}

function modelOf(t: EditTarget, o: number | undefined, r: number | undefined): ResourceModel | undefined {
  return o === undefined || r === undefined ? undefined : t.models?.getResource(o, r);
}

function parseOrThrow(type: ValueType, text: string, model: ResourceModel | undefined, path: Lwm2mPath): Value {
  const parsed = parseValueText(type, text, model?.range);
  if (!parsed.ok) throw new EditProblem(`${path}${model ? ` (${model.name})` : ''}: ${parsed.error}`);
  return parsed.value;
}

function defaultOrThrow(type: ValueType, t: EditTarget, path: Lwm2mPath): Value {
  const v = defaultValue(type, (t.now ?? (() => Date.now() / 1000))());
  if (v === undefined) throw new EditProblem(`${path} is executable: it has no value`);
  return v;
}

/** Index just past the last record under `prefix`, or -1 when there is none. */
function afterLast(records: readonly Lwm2mRecord[], prefix: Lwm2mPath): number {
  for (let i = records.length - 1; i >= 0; i--) if (prefix.contains(records[i]!.path)) return i + 1;
  return -1;
}

/** Where a base path forbids adding at `level` (relative formats only hold what is under it). */
function checkBase(t: EditTarget, newPath: Lwm2mPath, what: string): void {
  if (!RELATIVE_FORMATS.has(canonicalFormat(t.format))) return;
  if (!t.basePath.contains(newPath)) {
    throw new EditProblem(`cannot add ${what} ${newPath}: this payload is for ${t.basePath} and can only hold what is under it (set the base path to ${newPath.parent()} first)`);
  }
}

export function applyEdit(t: EditTarget, e: ResolvedEdit): EditOutcome {
  const path = rowCheck(t, e.row);
  const records = [...t.records];
  switch (e.op) {
    case 'setValue': {
      const index = t.nodes.record[e.row]!;
      const rec = records[index];
      if (!rec || rec.value === null || rec.type === 'none') throw new EditProblem(`${path} has no value to edit`);
      const model = rec.modelled === false ? undefined : modelOf(t, path.objectId, path.resourceId);
      records[index] = clean(rec, rec.path, parseOrThrow(rec.type, e.text, model, rec.path));
      return { records, label: `Set ${rec.path}`, select: rec.path.toString() };
    }
    case 'remove': {
      const index = t.nodes.record[e.row]!;
      const leaf = t.nodes.subtreeEnd[e.row] === e.row + 1 && index >= 0;
      const kept = leaf ? records.filter((_, i) => i !== index) : records.filter((r) => !path.contains(r.path));
      if (kept.length === records.length) throw new EditProblem(`nothing to remove at ${path}`);
      return { records: kept, label: `Remove ${path}`, select: path.length > 1 ? path.parent().toString() : undefined };
    }
    case 'addInstance': {
      const o = path.objectId;
      if (o === undefined) throw new EditProblem('select an object (or something inside one) to add an instance');
      const used = new Set(records.filter((r) => r.path.objectId === o && r.path.instanceId !== undefined).map((r) => r.path.instanceId!));
      let id = e.id;
      if (id === undefined) for (id = 0; used.has(id); id++);
      if (used.has(id)) throw new EditProblem(`/${o}/${id} already exists`);
      const instance = new Lwm2mPath([o, id]);
      checkBase(t, instance, 'instance');
      let added: Lwm2mRecord[];
      const template = [...used][0];
      if (template !== undefined) {
        const from = new Lwm2mPath([o, template]);
        added = records.filter((r) => from.contains(r.path)).map((r) => clean(r, new Lwm2mPath([o, id!, ...r.path.ids.slice(2)])));
      } else {
        const model = t.models?.getObject(o);
        added = (model?.resources ?? [])
          .filter((r) => r.mandatory && r.type !== 'none' && r.operations !== 'E')
          .map((r) => ({ path: new Lwm2mPath(r.multiple ? [o, id!, r.id, 0] : [o, id!, r.id]), type: r.type, value: defaultOrThrow(r.type, t, instance) }));
        if (added.length === 0) added = [{ path: instance, type: 'none', value: null }];
      }
      const at = afterLast(records, new Lwm2mPath([o]));
      records.splice(at < 0 ? records.length : at, 0, ...added);
      return { records, label: `Add instance ${instance}`, select: instance.toString() };
    }
    case 'addResource': {
      const [o, i] = path.ids;
      if (o === undefined || i === undefined) throw new EditProblem('select an object instance (or something inside one) to add a resource');
      const instance = new Lwm2mPath([o, i]);
      const resource = instance.child(e.resourceId);
      if (records.some((r) => resource.contains(r.path))) throw new EditProblem(`${resource} already exists`);
      checkBase(t, resource, 'resource');
      const model = modelOf(t, o, e.resourceId);
      const type = model?.type ?? e.type;
      if (!type) throw new EditProblem(`no model describes ${resource}: choose its type`);
      if (type === 'none') throw new EditProblem(`${resource}${model ? ` (${model.name})` : ''} is executable: it has no value`);
      const target = model?.multiple ? resource.child(0) : resource;
      const value = e.text !== undefined ? parseOrThrow(type, e.text, model, target) : defaultOrThrow(type, t, target);
      const rec: Lwm2mRecord = { path: target, type, value };
      if (!model) rec.modelled = false;
      // drop a value-less placeholder for the empty instance
      const placeholder = records.findIndex((r) => r.value === null && r.path.equals(instance));
      if (placeholder >= 0) records.splice(placeholder, 1);
      let at = records.findIndex((r) => instance.contains(r.path) && r.path.resourceId !== undefined && r.path.resourceId > e.resourceId);
      if (at < 0) at = afterLast(records, instance);
      if (at < 0) at = afterLast(records, new Lwm2mPath([o]));
      records.splice(at < 0 ? records.length : at, 0, rec);
      return { records, label: `Add ${target}`, select: target.toString() };
    }
    case 'addResourceInstance': {
      const [o, i, r] = path.ids;
      if (o === undefined || i === undefined || r === undefined) throw new EditProblem('select a multiple resource to add a resource instance');
      const resource = new Lwm2mPath([o, i, r]);
      const under = records.filter((x) => resource.contains(x.path));
      if (under.some((x) => x.path.length === 3 && x.value !== null)) throw new EditProblem(`${resource} is a single-instance resource`);
      const model = modelOf(t, o, r);
      if (model && !model.multiple) throw new EditProblem(`${resource} (${model.name}) is a single-instance resource`);
      const sibling = under.find((x) => x.path.length === 4);
      const type = model?.type ?? sibling?.type;
      if (!type) throw new EditProblem(`no model or existing instance tells the type of ${resource}`);
      const used = new Set(under.filter((x) => x.path.length === 4).map((x) => x.path.resourceInstanceId!));
      let id = e.id;
      if (id === undefined) for (id = 0; used.has(id); id++);
      if (used.has(id)) throw new EditProblem(`${resource}/${id} already exists`);
      const target = resource.child(id);
      checkBase(t, target, 'resource instance');
      const value = e.text !== undefined ? parseOrThrow(type, e.text, model, target) : defaultOrThrow(type, t, target);
      const rec: Lwm2mRecord = { path: target, type, value };
      if (!model && sibling?.modelled === false) rec.modelled = false;
      const placeholder = records.findIndex((x) => x.value === null && x.path.equals(resource));
      let at: number;
      if (placeholder >= 0) {
        records.splice(placeholder, 1, rec);
      } else {
        at = afterLast(records, resource);
        records.splice(at < 0 ? records.length : at, 0, rec);
      }
      return { records, label: `Add ${target}`, select: target.toString() };
    }
  }
}

/** Re-encodes records in `format`; an EncodeError becomes an EditProblem. */
export function encodeRecords(records: readonly Lwm2mRecord[], format: number, basePath: Lwm2mPath, models?: ModelLookup): Uint8Array {
  try {
    return codecRegistry.encode(format, records, { path: basePath, models });
  } catch (e) {
    if (e instanceof EncodeError) throw new EditProblem(e.message);
    throw e;
  }
}

/** The deepest path that holds every record (root when none). */
export function commonPath(records: readonly Lwm2mRecord[]): Lwm2mPath {
  if (records.length === 0) return Lwm2mPath.ROOT;
  let ids = records[0]!.path.ids;
  for (const r of records) {
    let k = 0;
    while (k < ids.length && k < r.path.ids.length && ids[k] === r.path.ids[k]) k++;
    ids = ids.slice(0, k);
  }
  return new Lwm2mPath(ids);
}

/**
 * The request path to encode `records` in `format`: single-value formats need the resource;
 * TLV needs at least the object (and records of one object); others use `current` when it
 * holds every record, else the common path.
 */
export function targetBasePath(records: readonly Lwm2mRecord[], format: number, current: Lwm2mPath): Lwm2mPath {
  const f = canonicalFormat(format);
  const common = commonPath(records);
  if (f === ContentFormat.Tlv) {
    if (common.length === 0) {
      const objects = [...new Set(records.map((r) => r.path.objectId))].join(', ');
      throw new EditProblem(`TLV holds one object; this payload has objects ${objects}`);
    }
    if (current.length > 0 && records.every((r) => current.contains(r.path))) return current.length > 3 ? new Lwm2mPath(current.ids.slice(0, 3)) : current;
    return new Lwm2mPath(common.ids.slice(0, Math.min(common.length, 2)));
  }
  if (f === ContentFormat.Cbor || f === ContentFormat.Text || f === ContentFormat.Opaque) {
    if (records.length !== 1) throw new EditProblem(`${f === ContentFormat.Cbor ? 'CBOR' : f === ContentFormat.Text ? 'plain text' : 'opaque'} carries exactly one value; this payload has ${records.length}`);
    return records[0]!.path;
  }
  if (!current.isRoot() && records.every((r) => current.contains(r.path))) return current;
  return common;
}

// ----- copy formats ----------------------------------------------------------------------------

/** `const uint8_t payload[42] = { 0xc8, … };` with 12 bytes a line. */
export function cArray(bytes: Uint8Array, name = 'payload'): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 12) {
    lines.push('    ' + Array.from(bytes.subarray(i, i + 12), (b) => '0x' + b.toString(16).padStart(2, '0')).join(', ') + (i + 12 < bytes.length ? ',' : ''));
  }
  const ident = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'payload';
  return `/* ${bytes.length} bytes */\nconst uint8_t ${ident}[${bytes.length}] = {\n${lines.join('\n')}\n};\n`;
}

export function hexString(bytes: Uint8Array): string {
  return toHex(bytes);
}

/** A SenML JSON pack with one record per line. */
export function prettyJsonPack(json: Uint8Array): string {
  const text = new TextDecoder().decode(json);
  const top = scanJson(json);
  if (!top || top.kind !== 'array' || !top.items || top.end < 0) return text;
  const items = top.items.map((i) => new TextDecoder().decode(json.subarray(i.start, i.end)));
  return items.length === 0 ? '[]' : `[\n  ${items.join(',\n  ')}\n]\n`;
}
