/**
 * Reading the inspector's node table (`NodeTable`) and byte annotations (`segments`): paths,
 * plain row objects, the byte → row map of the hex view, and the rows to show for a tree with
 * collapsed groups. Pure; used by the webview, the host and the tests.
 */
import { NO_STRING, NO_TYPE, RowFlag, SegmentRole, VALUE_TYPE_CODES, type NodeTable } from './protocol';

/** One row as a plain object (for tests and details panels). */
export interface RowView {
  row: number;
  path: string;
  level: number;
  name?: string;
  type?: string;
  value: string;
  units?: string;
  time?: number;
  record: number;
  span?: [number, number];
  flags: number;
}

/**
 * Fills in `parent` and `subtreeEnd` from `level` when they were not sent (rows are in pre-order:
 * a row's parent is the nearest row before it one level up; objects and `/` rows are roots).
 */
export function ensureStructure(t: NodeTable): NodeTable {
  if (t.parent.length === t.count && t.subtreeEnd.length === t.count) return t;
  const parent = new Int32Array(t.count);
  const subtreeEnd = new Int32Array(t.count);
  const last = [-1, -1, -1, -1, -1];
  for (let i = 0; i < t.count; i++) {
    const level = t.level[i]!;
    parent[i] = level >= 2 ? last[level - 1]! : -1;
    if (level > 0) {
      last[level] = i;
      for (let k = level + 1; k < last.length; k++) last[k] = -1;
    }
  }
  // a subtree ends at the next row that is not deeper (or at a root)
  const open: number[] = [];
  for (let i = 0; i < t.count; i++) {
    const level = t.level[i]!;
    while (open.length > 0 && (level <= 1 || t.level[open[open.length - 1]!]! >= level)) subtreeEnd[open.pop()!] = i;
    open.push(i);
  }
  for (const r of open) subtreeEnd[r] = t.count;
  t.parent = parent;
  t.subtreeEnd = subtreeEnd;
  return t;
}

/** The LwM2M path of every row, computed once per table. */
export function rowPaths(t: NodeTable): string[] {
  ensureStructure(t);
  const out = new Array<string>(t.count);
  for (let i = 0; i < t.count; i++) {
    const level = t.level[i]!;
    if (level === 0) out[i] = '/';
    else {
      const p = t.parent[i]!;
      out[i] = (p >= 0 && t.level[p]! > 0 ? out[p]! : '') + '/' + t.id[i]!;
    }
  }
  return out;
}

export function rowView(t: NodeTable, row: number, paths?: readonly string[]): RowView {
  ensureStructure(t);
  const view: RowView = {
    row,
    path: paths ? paths[row]! : rowPaths(t)[row]!,
    level: t.level[row]!,
    value: t.values[row] ?? '',
    record: t.record[row]!,
    flags: t.flags[row]!,
  };
  const name = t.name[row]!;
  if (name !== NO_STRING) view.name = t.strings[name];
  const type = t.type[row]!;
  if (type !== NO_TYPE) view.type = VALUE_TYPE_CODES[type];
  const units = t.units[row]!;
  if (units !== NO_STRING) view.units = t.strings[units];
  const time = t.time[row];
  if (time !== undefined && !Number.isNaN(time)) view.time = time;
  if (t.start[row]! >= 0) view.span = [t.start[row]!, t.end[row]!];
  return view;
}

/** Every row as a plain object, in table (pre-)order. */
export function tableRows(t: NodeTable): RowView[] {
  const paths = rowPaths(t);
  return Array.from({ length: t.count }, (_, i) => rowView(t, i, paths));
}

/** The rows that show a decoded record, in payload order. */
export function recordRows(t: NodeTable): number[] {
  const rows: number[] = [];
  for (let i = 0; i < t.count; i++) if (t.record[i]! >= 0) rows.push(i);
  return rows.sort((a, b) => t.record[a]! - t.record[b]!);
}

/**
 * The rows to list: every row whose ancestors are all expanded (`collapsed` holds collapsed
 * rows). In `flat` mode, the record rows in payload order.
 */
export function visibleRows(t: NodeTable, collapsed: ReadonlySet<number>, flat = false): Int32Array {
  ensureStructure(t);
  if (flat) return Int32Array.from(recordRows(t));
  const out = new Int32Array(t.count);
  let n = 0;
  for (let i = 0; i < t.count; ) {
    out[n++] = i;
    i = collapsed.has(i) ? t.subtreeEnd[i]! : i + 1;
  }
  return out.subarray(0, n);
}

export function hasChildren(t: NodeTable, row: number): boolean {
  ensureStructure(t);
  return t.subtreeEnd[row]! > row + 1;
}

export function isEditable(t: NodeTable, row: number): boolean {
  return (t.flags[row]! & RowFlag.Editable) !== 0;
}

/** For each byte: the row that owns it (-1: none) and its `SegmentRole` (255: not annotated). */
export interface ByteMap {
  owner: Int32Array;
  role: Uint8Array;
}

/**
 * Every byte annotation as quadruples [start, end, role, row] sorted by start: the rows'
 * implicit header/value ranges (`headerEnd`) merged with the explicit `segments`.
 */
export function allSegments(t: NodeTable, segments: Int32Array): Int32Array {
  ensureStructure(t);
  let implicit = 0;
  for (let i = 0; i < t.count; i++) if (t.headerEnd[i]! >= 0) implicit += t.subtreeEnd[i] === i + 1 ? 2 : 1;
  if (implicit === 0) return segments;
  const out = new Int32Array((implicit + segments.length / 4) * 4);
  let n = 0;
  let s = 0;
  const flushUntil = (pos: number) => {
    while (s + 3 < segments.length && segments[s]! <= pos) {
      out.set(segments.subarray(s, s + 4), n);
      n += 4;
      s += 4;
    }
  };
  for (let i = 0; i < t.count; i++) {
    const h = t.headerEnd[i]!;
    if (h < 0) continue;
    const start = t.start[i]!;
    flushUntil(start - 1);
    out[n++] = start;
    out[n++] = h;
    out[n++] = SegmentRole.Header;
    out[n++] = i;
    if (t.subtreeEnd[i] === i + 1 && t.end[i]! > h) {
      out[n++] = h;
      out[n++] = t.end[i]!;
      out[n++] = SegmentRole.Value;
      out[n++] = i;
    }
  }
  flushUntil(Infinity);
  return out.subarray(0, n);
}

/** The per-byte map straight from the rows' implicit ranges and the explicit segments. */
export function tableByteMap(t: NodeTable, segments: Int32Array, length: number): ByteMap {
  ensureStructure(t);
  const owner = new Int32Array(length).fill(-1);
  const role = new Uint8Array(length).fill(255);
  for (let i = 0; i < t.count; i++) {
    const h = t.headerEnd[i]!;
    if (h < 0) continue;
    const start = Math.max(0, t.start[i]!);
    const headerEnd = Math.min(length, h);
    if (headerEnd > start) {
      owner.fill(i, start, headerEnd);
      role.fill(SegmentRole.Header, start, headerEnd);
    }
    const end = Math.min(length, t.end[i]!);
    if (t.subtreeEnd[i] === i + 1 && end > headerEnd) {
      owner.fill(i, headerEnd, end);
      role.fill(SegmentRole.Value, headerEnd, end);
    }
  }
  const explicit = buildByteMap(segments, length);
  for (let b = 0; b < length; b++) {
    if (explicit.role[b] !== 255) {
      owner[b] = explicit.owner[b]!;
      role[b] = explicit.role[b]!;
    }
  }
  return { owner, role };
}

/** The run [start, end) of bytes around `i` with the same owner and role, and that role. */
export function runAt(map: ByteMap, i: number): [number, number, number] | undefined {
  if (i < 0 || i >= map.role.length || map.role[i] === 255) return undefined;
  const o = map.owner[i];
  const r = map.role[i]!;
  let a = i;
  let b = i + 1;
  while (a > 0 && map.owner[a - 1] === o && map.role[a - 1] === r) a--;
  while (b < map.role.length && map.owner[b] === o && map.role[b] === r) b++;
  return [a, b, r];
}

/** A memoising row → path function (paths are built only for rows that are shown). */
export function pathCache(t: NodeTable): (row: number) => string {
  ensureStructure(t);
  const cache = new Array<string | undefined>(t.count);
  const pathOf = (row: number): string => {
    const hit = cache[row];
    if (hit !== undefined) return hit;
    const level = t.level[row]!;
    const parent = t.parent[row]!;
    const path = level === 0 ? '/' : (parent >= 0 && t.level[parent]! > 0 ? pathOf(parent) : '') + '/' + t.id[row]!;
    cache[row] = path;
    return path;
  };
  return pathOf;
}

/** The first row with this path (`/3/0/1`), found by walking the tree: no paths are built. */
export function findRowByPath(t: NodeTable, path: string): number {
  ensureStructure(t);
  const trimmed = path.replace(/\/$/, '');
  if (trimmed === '') {
    for (let i = 0; i < t.count; i++) if (t.level[i] === 0) return i;
    return -1;
  }
  const ids = trimmed.split('/').slice(1).map(Number);
  let from = 0;
  let to = t.count;
  let found = -1;
  for (let depth = 0; depth < ids.length; depth++) {
    found = -1;
    for (let i = from; i < to; i = Math.max(i + 1, t.subtreeEnd[i]!)) {
      if (t.level[i] === depth + 1 && t.id[i] === ids[depth]) {
        found = i;
        break;
      }
    }
    if (found < 0) return -1;
    from = found + 1;
    to = t.subtreeEnd[found]!;
  }
  return found;
}

/** Builds the per-byte map from sorted quadruples (`allSegments`). */
export function buildByteMap(segments: Int32Array, length: number): ByteMap {
  const owner = new Int32Array(length).fill(-1);
  const role = new Uint8Array(length).fill(255);
  for (let s = 0; s + 3 < segments.length; s += 4) {
    const start = Math.max(0, segments[s]!);
    const end = Math.min(length, segments[s + 1]!);
    const r = segments[s + 2]!;
    const row = segments[s + 3]!;
    if (end > start) {
      owner.fill(row, start, end);
      role.fill(r, start, end);
    }
  }
  return { owner, role };
}

/** The byte ranges [start, end) and roles that belong to `row` itself (not to its children). */
export function rowSegments(t: NodeTable, segments: Int32Array, row: number): [number, number, number][] {
  const all = allSegments(t, segments);
  const out: [number, number, number][] = [];
  for (let s = 0; s + 3 < all.length; s += 4) if (all[s + 3] === row) out.push([all[s]!, all[s + 1]!, all[s + 2]!]);
  return out;
}

/** Index of the row with this path (first match), or -1. */
export function findRow(t: NodeTable, path: string, paths?: readonly string[]): number {
  const all = paths ?? rowPaths(t);
  return all.indexOf(path);
}
