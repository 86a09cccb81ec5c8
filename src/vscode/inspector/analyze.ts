/**
 * The inspector's model of a payload: decode it with the codec registry, build the node table
 * (object → instance → resource → resource instance, names and units from the models) and
 * annotate every byte (TLV headers, CBOR heads, SenML labels, values) with the row it belongs
 * to. Also: choosing the content format of a file and guessing a TLV base path.
 * Pure (no `vscode`): unit-tested in plain Node and used by the extension host.
 */
import { ContentFormat, FORMATS, canonicalFormat, formatName } from '../../core/contentFormat';
import { codecRegistry, detectFormat } from '../../core/codec/registry';
import { utf8Decode } from '../../core/codec/bytes';
import { DecodeError } from '../../core/errors';
import type { ModelLookup, ObjectModel, ResourceModel } from '../../core/model/types';
import type { Lwm2mRecord, ValueType } from '../../core/node';
import { Lwm2mPath } from '../../core/path';
import { NO_STRING, NO_TYPE, RowFlag, SegmentRole, VALUE_TYPE_CODES, type DecodeErrorInfo, type FormatChoice, type NodeTable } from '../../common/protocol';
import { valueText } from '../../common/values';
import { walkCbor, walkTlv, scanJson, type CborNode, type JsonNode, type TlvItem } from './wire';

/** Models with an optional listing (the ModelRegistry has one), for base-path guessing. */
export type InspectorModels = ModelLookup & { list?(): ObjectModel[] };

/** Formats whose payload does not name its paths: they need the request (base) path. */
export const RELATIVE_FORMATS: ReadonlySet<number> = new Set([ContentFormat.Text, ContentFormat.Opaque, ContentFormat.Cbor, ContentFormat.Tlv]);

const LABELS: Record<number, string> = {
  0: 'Plain text',
  40: 'CoRE Link Format',
  42: 'Opaque',
  60: 'CBOR (single value)',
  110: 'SenML JSON',
  112: 'SenML CBOR',
  11542: 'LwM2M TLV',
  11543: 'LwM2M JSON',
  11544: 'LwM2M CBOR',
};

export function formatLabel(format: number): string {
  const c = canonicalFormat(format);
  return `${LABELS[c] ?? formatName(c)} (${c})`;
}

/** Content formats the codec registry can decode, for the format picker. */
export function formatChoices(): FormatChoice[] {
  return FORMATS.filter((f) => codecRegistry.get(f.number)).map((f) => ({ format: f.number, name: f.name, label: formatLabel(f.number), relative: RELATIVE_FORMATS.has(f.number) }));
}

/** File-name endings that fix the content format, longest first. */
export const EXTENSION_FORMATS: readonly [string, number][] = [
  ['.senml.cbor', ContentFormat.SenmlCbor],
  ['.senml.json', ContentFormat.SenmlJson],
  ['.lwm2m.cbor', ContentFormat.Lwm2mCbor],
  ['.lwm2m.json', ContentFormat.Lwm2mJson],
  ['.senmlc', ContentFormat.SenmlCbor],
  ['.senmlj', ContentFormat.SenmlJson],
  ['.tlv', ContentFormat.Tlv],
  ['.link', ContentFormat.Link],
  ['.wlnk', ContentFormat.Link],
];

/** The extension a file of `format` gets (for Convert to… and Save As). */
export function extensionFor(format: number): string {
  switch (canonicalFormat(format)) {
    case ContentFormat.Tlv:
      return '.tlv';
    case ContentFormat.SenmlJson:
      return '.senml.json';
    case ContentFormat.SenmlCbor:
      return '.senml.cbor';
    case ContentFormat.Lwm2mJson:
      return '.lwm2m.json';
    case ContentFormat.Lwm2mCbor:
      return '.lwm2m.cbor';
    case ContentFormat.Cbor:
      return '.cbor';
    case ContentFormat.Link:
      return '.link';
    case ContentFormat.Text:
      return '.txt';
    default:
      return '.bin';
  }
}

/** The file name without any of the payload extensions (`device.senml.json` → `device`). */
export function stemOf(fileName: string): string {
  const lower = fileName.toLowerCase();
  for (const [ext] of EXTENSION_FORMATS) if (lower.endsWith(ext)) return fileName.slice(0, -ext.length);
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** Picks the content format of a file: from its name when that says, else from its bytes. */
export function chooseFormat(fileName: string, bytes: Uint8Array): { format: number; reason: string } {
  const lower = fileName.toLowerCase();
  for (const [ext, format] of EXTENSION_FORMATS) {
    if (lower.endsWith(ext)) return { format, reason: `from the file name (*${ext})` };
  }
  const detected = detectFormat(bytes);
  if (lower.endsWith('.cbor') && (detected.format === ContentFormat.Opaque || detected.format === ContentFormat.Text || detected.format === ContentFormat.Tlv)) {
    const item = walkCbor(bytes);
    if (item && item.end === bytes.length && item.major !== 4 && item.major !== 5) {
      return { format: ContentFormat.Cbor, reason: 'one CBOR item that is not a map or array (*.cbor): a single value' };
    }
  }
  return { format: detected.format, reason: `detected: ${detected.reason}` };
}

// ----- base path guessing for TLV ------------------------------------------------------------

function lengthFits(type: ValueType, len: number): boolean {
  switch (type) {
    case 'integer':
    case 'unsigned integer':
    case 'time':
      return len === 1 || len === 2 || len === 4 || len === 8;
    case 'float':
      return len === 4 || len === 8;
    case 'boolean':
      return len === 1;
    case 'objlnk':
      return len === 4;
    case 'none':
      return len === 0;
    default:
      return true;
  }
}

function scoreObject(model: ObjectModel, resources: readonly TlvItem[], bytes: Uint8Array): number {
  let score = 0;
  for (const r of resources) {
    const m = model.resources.find((x) => x.id === r.id);
    if (!m) {
      score -= 2;
      continue;
    }
    const multiple = r.kind === 2;
    if (multiple !== m.multiple) score -= 1;
    const leaves = multiple ? (r.children ?? []) : [r];
    const fits = leaves.every((l) => lengthFits(m.type, l.end - l.valueStart) && (m.type !== 'string' || utf8Decode(bytes, l.valueStart, Math.min(l.end, bytes.length)) !== undefined));
    score += fits ? 2 : 0;
  }
  return score;
}

/**
 * Guesses the request path of a TLV payload from the resource ids it holds: the object whose
 * model fits them best (ids present, multiple or not, value lengths that suit the types).
 */
export function guessTlvBasePath(bytes: Uint8Array, models: InspectorModels | undefined, fileName = ''): { path: Lwm2mPath; reason: string } | undefined {
  // The first 64 KB tell enough (and keep this fast for megabyte payloads).
  const { items } = walkTlv(bytes.subarray(0, Math.min(bytes.length, 65536)));
  if (items.length === 0) return undefined;
  const top = items[0]!.kind;
  let all: TlvItem[];
  let instance: number | undefined;
  if (top === 0) {
    all = items.filter((i) => i.kind === 0 && !i.truncated).flatMap((i) => i.children ?? []);
  } else if (top === 2 || top === 3) {
    all = items.filter((i) => !i.truncated);
    instance = 0;
  } else return undefined;
  // one representative per resource id and kind
  const seen = new Set<number>();
  const resources = all.filter((r) => {
    const k = r.id * 4 + r.kind;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const candidates = new Map<number, ObjectModel>();
  for (const m of models?.list?.() ?? []) candidates.set(m.id, m); // latest version per id wins
  let best: ObjectModel | undefined;
  let bestScore = -Infinity;
  let ties = 0;
  // Among equal fits, one named by the file (`temperature.tlv`, `3303-0.tlv`) wins.
  const words = new Set(fileName.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0));
  const named = (m: ObjectModel) => words.has(String(m.id)) || m.name.toLowerCase().split(/[^a-z0-9]+/).some((w) => w.length > 3 && words.has(w));
  for (const m of candidates.values()) {
    const s = scoreObject(m, resources, bytes) + (named(m) ? 0.5 : 0);
    if (s > bestScore) {
      best = m;
      bestScore = s;
      ties = 1;
    } else if (s === bestScore) ties++;
  }
  const ids = [...new Set(resources.map((r) => r.id))].sort((a, b) => a - b);
  const idText = ids.length > 8 ? `${ids.slice(0, 8).join(', ')}, …` : ids.join(', ');
  if (!best || bestScore <= 0) {
    return { path: new Lwm2mPath(instance === undefined ? [0] : [0, 0]), reason: `no object model fits resources ${idText}: set the base path` };
  }
  const path = new Lwm2mPath(instance === undefined ? [best.id] : [best.id, instance]);
  const tie = ties > 1 ? ` (first of ${ties} objects that fit equally)` : named(best) ? ' (named by the file)' : '';
  return { path, reason: `guessed: resources ${idText} fit object ${best.id} ${best.name}${tie}` };
}

// ----- decoding and the node table -------------------------------------------------------------

export interface AnalyzeInput {
  bytes: Uint8Array;
  format: number;
  basePath: Lwm2mPath;
  models?: InspectorModels;
  /** Opaque values longer than this are shown shortened and cannot be edited in place. */
  maxValueBytes?: number;
}

export interface Analysis {
  records: Lwm2mRecord[];
  notes: string[];
  error?: DecodeErrorInfo;
  nodes: NodeTable;
  segments: Int32Array;
  /** Each row's path (host side, for edits). */
  rowPaths: Lwm2mPath[];
}

interface TreeNode {
  level: number;
  id: number;
  ids: readonly number[];
  record: number;
  children: TreeNode[];
  row: number;
}

function errorInfo(e: DecodeError, length: number): DecodeErrorInfo {
  const offset = Math.max(0, Math.min(e.offset, length));
  const context: [number, number] = offset >= length ? [Math.max(0, length - 8), length] : [Math.max(0, offset - 8), Math.min(length, offset + 8)];
  const info: DecodeErrorInfo = { message: e.message, offset, expected: e.expected, found: e.found, context };
  if (e.pointer !== undefined) info.pointer = e.pointer;
  return info;
}

/** Records of the complete leaves before a TLV wire error (the codec reports none then). */
function recoverTlv(bytes: Uint8Array, base: Lwm2mPath, models: ModelLookup | undefined): Lwm2mRecord[] {
  const out: Lwm2mRecord[] = [];
  const ids = base.ids;
  const leaf = (item: TlvItem, parent: number[]) => {
    if (item.truncated || parent.some((x) => x === undefined)) return;
    try {
      const r = codecRegistry.decode(ContentFormat.Tlv, bytes.subarray(item.start, item.end), { path: new Lwm2mPath(parent), models });
      for (const rec of r.records) {
        if (rec.span) rec.span = [rec.span[0] + item.start, rec.span[1] + item.start];
        out.push(rec);
      }
    } catch {
      // a leaf that does not decode on its own is left out
    }
  };
  const resource = (item: TlvItem, o: number, i: number) => {
    if (item.kind === 3) leaf(item, [o, i]);
    else if (item.kind === 2) for (const c of item.children ?? []) leaf(c, [o, i, item.id]);
  };
  for (const item of walkTlv(bytes).items) {
    if (item.kind === 0 && ids.length >= 1) for (const c of item.children ?? []) resource(c, ids[0]!, item.id);
    else if ((item.kind === 2 || item.kind === 3) && ids.length >= 2) resource(item, ids[0]!, ids[1]!);
    else if (item.kind === 1 && ids.length >= 3) leaf(item, [ids[0]!, ids[1]!, ids[2]!]);
  }
  return out;
}

/**
 * Records of the complete SenML JSON records / LwM2M JSON entries before a JSON syntax error
 * (JSON.parse reports none): the complete prefix, closed, decoded again.
 */
function recoverJson(bytes: Uint8Array, format: number, base: Lwm2mPath, models: ModelLookup | undefined): Lwm2mRecord[] {
  const top = scanJson(bytes);
  let items: JsonNode[] | undefined;
  let close = '';
  if (top?.kind === 'array') {
    items = top.items;
    close = ']';
  } else if (top?.kind === 'object') {
    const members = top.members ?? [];
    const e = members[members.length - 1];
    if (e?.key === 'e' && e.value.kind === 'array') {
      items = e.value.items;
      close = ']}';
    }
  }
  const complete = (items ?? []).filter((i) => i.end >= 0);
  if (complete.length === 0) return [];
  const end = complete[complete.length - 1]!.end;
  const tail = new TextEncoder().encode(close);
  const prefix = new Uint8Array(end + tail.length);
  prefix.set(bytes.subarray(0, end));
  prefix.set(tail, end);
  try {
    return codecRegistry.decode(format, prefix, { path: base, models }).records;
  } catch (e) {
    return e instanceof DecodeError ? e.partial : [];
  }
}

/** Decodes, builds the node table and annotates the bytes. Never throws for bad payloads. */
export function analyze(input: AnalyzeInput): Analysis {
  const { bytes, format, basePath, models } = input;
  let records: Lwm2mRecord[] = [];
  const notes: string[] = [];
  let error: DecodeErrorInfo | undefined;
  try {
    const r = codecRegistry.decode(format, bytes, { path: basePath, models });
    records = r.records;
    notes.push(...r.notes);
  } catch (e) {
    if (e instanceof DecodeError) {
      records = e.partial;
      error = errorInfo(e, bytes.length);
      const f = canonicalFormat(format);
      if (records.length === 0 && f === ContentFormat.Tlv) records = recoverTlv(bytes, basePath, models);
      if (records.length === 0 && (f === ContentFormat.SenmlJson || f === ContentFormat.SenmlEtchJson || f === ContentFormat.Lwm2mJson)) records = recoverJson(bytes, f, basePath, models);
      notes.push(records.length === 0 ? 'nothing decoded before the failure' : `${records.length} value${records.length === 1 ? '' : 's'} decoded before the failure`);
    } else {
      const message = e instanceof Error ? e.message : String(e);
      error = { message, offset: 0, expected: 'a payload this format can decode', found: message, context: [0, Math.min(bytes.length, 8)] };
    }
  }
  const tree = buildTree(records);
  const table = flatten(tree.roots, records, models, input.maxValueBytes ?? 4096);
  const segments = annotate(canonicalFormat(format), bytes, records, table, tree.groups, basePath);
  finishSpans(table.nodes, segments);
  return { records, notes, error, nodes: table.nodes, segments, rowPaths: table.paths };
}

/** A number naming a path of 1..3 ids (containers never go deeper): exact below 2^53. */
function groupKey(ids: readonly number[], n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) k = k * 65536 + ids[i]!;
  return k * 4 + n;
}

function stringKey(ids: readonly number[]): string {
  let s = '';
  for (const id of ids) s += '/' + id;
  return s;
}

/**
 * The children of a node that never gets any (a value, a link): one shared, frozen array instead
 * of an empty one per value (a 1 MB payload has 100 k+ of them). Only group nodes get children.
 */
const NO_CHILDREN = Object.freeze([]) as unknown as TreeNode[];

/** Groups records into a tree; `groups` maps container paths (1..3 ids) to their nodes. */
function buildTree(records: readonly Lwm2mRecord[]): { roots: TreeNode[]; groups: Map<number, TreeNode> } {
  const roots: TreeNode[] = [];
  const groups = new Map<number, TreeNode>();
  let last: TreeNode | undefined;
  const ensure = (ids: readonly number[], n: number): TreeNode => {
    // records come grouped: most share the parent of the record before
    if (last && last.level === n) {
      let same = true;
      for (let i = 0; i < n && same; i++) same = last.ids[i] === ids[i];
      if (same) return last;
    }
    const k = groupKey(ids, n);
    let node = groups.get(k);
    if (!node) {
      node = { level: n, id: ids[n - 1]!, ids: ids.slice(0, n), record: -1, children: [], row: -1 };
      groups.set(k, node);
      (n === 1 ? roots : ensure(ids, n - 1).children).push(node);
    }
    return node;
  };
  for (let i = 0; i < records.length; i++) {
    const ids = records[i]!.path.ids;
    const n = ids.length;
    if (n === 0) {
      roots.push({ level: 0, id: 0, ids, record: i, children: NO_CHILDREN, row: -1 });
      continue;
    }
    const parent = n === 1 ? undefined : ensure(ids, n - 1);
    last = parent;
    const siblings = parent ? parent.children : roots;
    // Objects, instances and value-less resources (an empty multiple resource) can group rows.
    if (n <= 2 || (n === 3 && records[i]!.value === null)) {
      const k = groupKey(ids, n);
      const existing = groups.get(k);
      if (n <= 2 && existing && existing.record < 0) {
        existing.record = i;
        continue;
      }
      const node: TreeNode = { level: n, id: ids[n - 1]!, ids, record: i, children: [], row: -1 };
      siblings.push(node);
      if (!existing) groups.set(k, node);
    } else siblings.push({ level: n, id: ids[n - 1]!, ids, record: i, children: NO_CHILDREN, row: -1 });
  }
  return { roots, groups };
}

function flatten(roots: TreeNode[], records: readonly Lwm2mRecord[], models: ModelLookup | undefined, maxValueBytes: number): { nodes: NodeTable; paths: Lwm2mPath[] } {
  let count = 0;
  const countAll = (list: TreeNode[]) => {
    for (const n of list) {
      count++;
      countAll(n.children);
    }
  };
  countAll(roots);
  const nodes: NodeTable = {
    count,
    level: new Uint8Array(count),
    id: new Uint16Array(count),
    parent: new Int32Array(count),
    subtreeEnd: new Int32Array(count),
    record: new Int32Array(count),
    name: new Uint16Array(count).fill(NO_STRING),
    type: new Uint8Array(count).fill(NO_TYPE),
    units: new Uint16Array(count).fill(NO_STRING),
    start: new Int32Array(count).fill(-1),
    end: new Int32Array(count).fill(-1),
    headerEnd: new Int32Array(count).fill(-1),
    flags: new Uint8Array(count),
    time: new Float64Array(count).fill(NaN),
    values: new Array<string>(count),
    strings: [],
  };
  const paths = new Array<Lwm2mPath>(count);
  const stringIndex = new Map<string, number>();
  const str = (s: string): number => {
    let i = stringIndex.get(s);
    if (i === undefined) {
      if (nodes.strings.length >= NO_STRING) return NO_STRING;
      i = nodes.strings.length;
      nodes.strings.push(s);
      stringIndex.set(s, i);
    }
    return i;
  };
  const objectCache = new Map<number, ObjectModel | undefined>();
  const resourceCache = new Map<number, ResourceModel | undefined>();
  const objectModel = (o: number) => {
    if (!objectCache.has(o)) objectCache.set(o, models?.getObject(o));
    return objectCache.get(o);
  };
  const resourceModel = (o: number, r: number) => {
    const k = o * 65536 + r;
    if (!resourceCache.has(k)) resourceCache.set(k, models?.getResource(o, r));
    return resourceCache.get(k);
  };
  const codes = new Map<ValueType, number>(VALUE_TYPE_CODES.map((t, i) => [t, i]));
  const typeCode = (t: ValueType) => codes.get(t) ?? NO_TYPE;

  let row = 0;
  const visit = (n: TreeNode, parent: number) => {
    const i = row++;
    n.row = i;
    nodes.level[i] = n.level;
    nodes.id[i] = n.level === 0 ? 0 : n.id;
    nodes.parent[i] = parent;
    nodes.record[i] = n.record;
    paths[i] = n.record >= 0 ? records[n.record]!.path : Lwm2mPath.checked(n.ids.slice());
    const o = n.ids[0];
    const r = n.ids[2];
    let flags = 0;
    if (n.level === 1) {
      const m = objectModel(o!);
      if (m) nodes.name[i] = str(m.name);
    } else if (n.level >= 3) {
      const m = resourceModel(o!, r!);
      if (m) {
        nodes.name[i] = str(m.name);
        if (m.units) nodes.units[i] = str(m.units);
        if (n.level === 3 && m.multiple) flags |= RowFlag.Multiple;
        if (n.record < 0) nodes.type[i] = typeCode(m.type);
      }
    }
    let value = '';
    if (n.record >= 0) {
      const rec = records[n.record]!;
      if (n.level > 0 || rec.type !== 'none') nodes.type[i] = typeCode(rec.type);
      if (rec.modelled === false) flags |= RowFlag.Unmodelled;
      if (rec.time !== undefined) nodes.time[i] = rec.time;
      if (rec.value === null) flags |= RowFlag.NoValue;
      else if (rec.value instanceof Uint8Array && rec.value.length > maxValueBytes) {
        value = valueText(rec.value.subarray(0, maxValueBytes)) + '…';
        flags |= RowFlag.Truncated;
      } else {
        value = valueText(rec.value);
        if (rec.type !== 'none') flags |= RowFlag.Editable;
      }
    }
    nodes.values[i] = value;
    for (const c of n.children) visit(c, i);
    if (n.level === 3 && n.children.length > 0) {
      flags |= RowFlag.Multiple;
      if (nodes.type[i] === NO_TYPE) nodes.type[i] = nodes.type[i + 1]!;
    }
    nodes.flags[i] = flags;
    nodes.subtreeEnd[i] = row;
  };
  for (const n of roots) visit(n, -1);
  if (!records.some((r) => r.time !== undefined)) nodes.time = new Float64Array(0);
  return { nodes, paths };
}

// ----- byte annotation ---------------------------------------------------------------------------

class Segments {
  private data = new Int32Array(1024);
  private n = 0;
  add(start: number, end: number, role: number, row: number): void {
    if (end <= start) return;
    if (this.n + 4 > this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const d = this.data;
    d[this.n++] = start;
    d[this.n++] = end;
    d[this.n++] = role;
    d[this.n++] = row;
  }
  /** Quadruples sorted by start (outer before inner). */
  finish(): Int32Array {
    const d = this.data;
    const count = this.n / 4;
    let sorted = true;
    for (let i = 1; i < count && sorted; i++) sorted = d[(i - 1) * 4]! <= d[i * 4]!;
    if (sorted) return d.slice(0, this.n);
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => d[a * 4]! - d[b * 4]! || d[b * 4 + 1]! - d[a * 4 + 1]!);
    const out = new Int32Array(this.n);
    order.forEach((k, i) => out.set(d.subarray(k * 4, k * 4 + 4), i * 4));
    return out;
  }
}

/** Lookups from records and paths to rows. */
function rowIndex(nodes: NodeTable, paths: readonly Lwm2mPath[], groups: Map<number, TreeNode>) {
  let records = 0;
  for (let i = 0; i < nodes.count; i++) records = Math.max(records, nodes.record[i]! + 1);
  const recordRow = new Int32Array(records).fill(-1);
  for (let i = 0; i < nodes.count; i++) if (nodes.record[i]! >= 0) recordRow[nodes.record[i]!] = i;
  let leafRows: Map<string, number[]> | undefined;
  const ofPath = (ids: readonly number[]) => (ids.length >= 1 && ids.length <= 3 ? (groups.get(groupKey(ids, ids.length))?.row ?? -1) : -1);
  return {
    ofRecord: (r: number) => (r >= 0 && r < recordRow.length ? recordRow[r]! : -1),
    ofPath,
    /** The next unused leaf row for a path (time series repeat paths). */
    takeLeaf: (ids: readonly number[]) => {
      if (!leafRows) {
        leafRows = new Map();
        for (let i = 0; i < nodes.count; i++) {
          if (nodes.record[i]! < 0 || nodes.level[i]! < 3) continue;
          const k = paths[i]!.toString();
          const list = leafRows.get(k);
          if (list) list.push(i);
          else leafRows.set(k, [i]);
        }
      }
      return leafRows.get(stringKey(ids))?.shift() ?? ofPath(ids);
    },
  };
}

function annotate(format: number, bytes: Uint8Array, records: readonly Lwm2mRecord[], table: { nodes: NodeTable; paths: Lwm2mPath[] }, groups: Map<number, TreeNode>, base: Lwm2mPath): Int32Array {
  const seg = new Segments();
  const rows = rowIndex(table.nodes, table.paths, groups);
  switch (format) {
    case ContentFormat.Tlv:
      annotateTlv(bytes, base, records, rows, seg, table.nodes);
      break;
    case ContentFormat.SenmlCbor:
    case ContentFormat.SenmlEtchCbor: {
      const top = walkCbor(bytes);
      if (top) {
        seg.add(top.start, top.headEnd, SegmentRole.Structure, -1);
        (top.children ?? []).forEach((item, i) => annotateCborRecord(item, rows.ofRecord(i), seg));
      }
      break;
    }
    case ContentFormat.Lwm2mCbor: {
      const top = walkCbor(bytes);
      if (top) annotateLwm2mCbor(top, [], rows, seg);
      break;
    }
    case ContentFormat.Cbor: {
      const item = walkCbor(bytes);
      if (item) annotateCborValue(item, rows.ofRecord(0), seg);
      break;
    }
    case ContentFormat.SenmlJson:
    case ContentFormat.SenmlEtchJson: {
      const top = scanJson(bytes);
      if (top?.kind === 'array') {
        jsonFrame(top, SegmentRole.Structure, -1, seg);
        (top.items ?? []).forEach((item, i) => annotateJsonRecord(item, rows.ofRecord(i), seg));
      }
      break;
    }
    case ContentFormat.Lwm2mJson: {
      const top = scanJson(bytes);
      if (top?.kind === 'object') {
        jsonFrame(top, SegmentRole.Structure, -1, seg);
        for (const m of top.members ?? []) {
          seg.add(m.keyStart, m.keyEnd, SegmentRole.Label, -1);
          if (m.key === 'e' && m.value.kind === 'array') {
            jsonFrame(m.value, SegmentRole.Structure, -1, seg);
            (m.value.items ?? []).forEach((item, i) => annotateJsonRecord(item, rows.ofRecord(i), seg));
          } else seg.add(m.value.start, end(m.value, bytes), SegmentRole.Value, -1);
        }
      }
      break;
    }
    default:
      records.forEach((r, i) => {
        if (r.span) seg.add(r.span[0], r.span[1], SegmentRole.Value, rows.ofRecord(i));
      });
  }
  return seg.finish();
}

function end(n: { end: number }, bytes: Uint8Array): number {
  return n.end < 0 ? bytes.length : n.end;
}

function annotateTlv(bytes: Uint8Array, base: Lwm2mPath, records: readonly Lwm2mRecord[], rows: ReturnType<typeof rowIndex>, seg: Segments, nodes: NodeTable): void {
  // The TLV codec emits its records in wire order with spans starting at their TLV, so wire
  // items and records are matched by walking both in order. The walk reads the headers in
  // place (as `walkTlv` does, stopping at the first malformed record, but without building an
  // item per record: a 1 MB payload has 100 k+ of them).
  let next = 0;
  const ids = base.ids;
  const path: number[] = [];
  const item = (kind: number, start: number, valueStart: number, declaredEnd: number) => {
    const leaf = kind === 1 || kind === 3;
    let row = -1;
    while (next < records.length && (records[next]!.span?.[0] ?? -1) < start) next++;
    const rec = records[next];
    if (rec && rec.span?.[0] === start && (leaf || rec.value === null)) row = rows.ofRecord(next++);
    else if (!leaf && path.every((x) => x !== undefined)) row = rows.ofPath(path);
    const end = Math.min(declaredEnd, bytes.length);
    if (row >= 0 && nodes.headerEnd[row]! < 0) {
      // implicit: the row's header and (for a leaf) value, without a segment each
      nodes.start[row] = start;
      nodes.headerEnd[row] = valueStart;
      nodes.end[row] = leaf ? end : valueStart;
    } else {
      seg.add(start, valueStart, SegmentRole.Header, row);
      if (leaf) seg.add(valueStart, end, SegmentRole.Value, row);
    }
  };
  /** Walks the records in [from, to) and inside containers; false once a record is malformed or cut short. */
  const walk = (from: number, to: number, top: boolean): boolean => {
    let p = from;
    while (p < to) {
      const start = p;
      const type = bytes[p++]!;
      const kind = type >> 6;
      const idLen = type & 0x20 ? 2 : 1;
      const lenType = (type >> 3) & 3;
      if (p + idLen + lenType > to) return false;
      const id = idLen === 1 ? bytes[p]! : (bytes[p]! << 8) | bytes[p + 1]!;
      p += idLen;
      let length = type & 7;
      if (lenType > 0) {
        length = 0;
        for (let k = 0; k < lenType; k++) length = (length << 8) | bytes[p++]!;
      }
      const end = p + length;
      if (top) {
        path.length = 0;
        if (kind === 0) path.push(ids[0]!, id);
        else if (kind === 1) path.push(ids[0]!, ids[1]!, ids[2]!, id);
        else path.push(ids[0]!, ids[1]!, id);
      } else path.push(id);
      item(kind, start, p, end);
      const inner = kind === 1 || kind === 3 || walk(p, Math.min(end, to), false);
      if (!top) path.pop();
      if (end > to || !inner) return false;
      p = end;
    }
    return true;
  };
  walk(0, bytes.length, true);
}

/** A value item: strings get a header and value bytes, tags a header and their content. */
function annotateCborValue(n: CborNode, row: number, seg: Segments): void {
  const stop = n.end < 0 ? n.headEnd : n.end;
  switch (n.major) {
    case 2:
    case 3:
      seg.add(n.start, n.headEnd, SegmentRole.Header, row);
      if (n.children) for (const c of n.children) annotateCborValue(c, row, seg);
      else seg.add(n.headEnd, stop, SegmentRole.Value, row);
      return;
    case 4:
    case 5:
      seg.add(n.start, n.headEnd, SegmentRole.Header, row);
      for (const c of n.children ?? []) annotateCborValue(c, row, seg);
      return;
    case 6:
      seg.add(n.start, n.headEnd, SegmentRole.Header, row);
      for (const c of n.children ?? []) annotateCborValue(c, row, seg);
      return;
    default:
      seg.add(n.start, stop, SegmentRole.Value, row);
  }
}

/** One SenML record: the map head, its labels and their values. */
function annotateCborRecord(map: CborNode, row: number, seg: Segments): void {
  if (map.major !== 5) {
    annotateCborValue(map, row, seg);
    return;
  }
  seg.add(map.start, map.headEnd, SegmentRole.Header, row);
  const kids = map.children ?? [];
  for (let k = 0; k < kids.length; k += 2) {
    const label = kids[k]!;
    seg.add(label.start, label.end < 0 ? label.headEnd : label.end, SegmentRole.Label, row);
    const value = kids[k + 1];
    if (value) annotateCborValue(value, row, seg);
  }
  if (map.info === 31 && map.end > 0) seg.add(map.end - 1, map.end, SegmentRole.Header, row);
}

/** LwM2M CBOR: nested maps keyed by ids (or arrays of ids); leaves are values. */
function annotateLwm2mCbor(map: CborNode, ids: number[], rows: ReturnType<typeof rowIndex>, seg: Segments): void {
  const own = ids.length === 0 ? -1 : rows.ofPath(ids);
  if (map.major !== 5) {
    annotateCborValue(map, ids.length === 0 ? -1 : rows.takeLeaf(ids), seg);
    return;
  }
  seg.add(map.start, map.headEnd, SegmentRole.Header, own);
  const kids = map.children ?? [];
  for (let k = 0; k < kids.length; k += 2) {
    const keyItem = kids[k]!;
    let next = ids;
    if (keyItem.major === 0) next = [...ids, keyItem.arg];
    else if (keyItem.major === 4) next = [...ids, ...(keyItem.children ?? []).filter((c) => c.major === 0).map((c) => c.arg)];
    const value = kids[k + 1];
    const isLeaf = !value || value.major !== 5;
    const row = next.length === 0 || next.length > 4 ? -1 : isLeaf ? rows.takeLeaf(next) : rows.ofPath(next);
    seg.add(keyItem.start, keyItem.end < 0 ? keyItem.headEnd : keyItem.end, SegmentRole.Label, row);
    if (!value) continue;
    if (isLeaf) annotateCborValue(value, row, seg);
    else annotateLwm2mCbor(value, next, rows, seg);
  }
}

/** Brackets, commas and colons of a JSON container. */
function jsonFrame(n: JsonNode, role: number, row: number, seg: Segments): void {
  seg.add(n.start, n.start + 1, role, row);
  if (n.end > 0) seg.add(n.end - 1, n.end, role, row);
  for (const p of n.punctuation ?? []) seg.add(p, p + 1, role, row);
}

function annotateJsonRecord(n: JsonNode, row: number, seg: Segments): void {
  if (n.kind !== 'object') {
    seg.add(n.start, n.end < 0 ? n.start + 1 : n.end, SegmentRole.Value, row);
    return;
  }
  jsonFrame(n, SegmentRole.Header, row, seg);
  for (const m of n.members ?? []) {
    seg.add(m.keyStart, m.keyEnd, SegmentRole.Label, row);
    seg.add(m.value.start, m.value.end < 0 ? m.value.start + 1 : m.value.end, SegmentRole.Value, row);
  }
}

/** Row spans: each row's own segments, widened by its children's spans. */
function finishSpans(nodes: NodeTable, segments: Int32Array): void {
  for (let s = 0; s + 3 < segments.length; s += 4) {
    const row = segments[s + 3]!;
    if (row < 0) continue;
    const a = segments[s]!;
    const b = segments[s + 1]!;
    if (nodes.start[row]! < 0 || a < nodes.start[row]!) nodes.start[row] = a;
    if (b > nodes.end[row]!) nodes.end[row] = b;
  }
  for (let i = nodes.count - 1; i >= 0; i--) {
    const p = nodes.parent[i]!;
    if (p < 0 || nodes.start[i]! < 0) continue;
    if (nodes.start[p]! < 0 || nodes.start[i]! < nodes.start[p]!) nodes.start[p] = nodes.start[i]!;
    if (nodes.end[i]! > nodes.end[p]!) nodes.end[p] = nodes.end[i]!;
  }
}
