/**
 * The node table on the wire. In code-server the extension host reaches the webview at roughly
 * 10–15 MB/s, and arrays of many small strings are slow to pass (140 k strings ≈ 0.4 s), so a
 * table is sent packed: one byte stream of varint-coded rows (≈ 11 bytes a row instead of ≈ 40
 * in columns), every value in one string, times only where present. `unpackTable` restores the
 * `NodeTable` columns (and derives `parent`/`subtreeEnd`). Pure; round-trip tested.
 *
 * A big table can be packed in parts (consecutive row ranges, each decodable on its own), so the
 * first screen of rows travels ahead of the rest: `unpackTable(first)` is the table of the first
 * rows alone, `unpackTable(first, rest)` the whole table.
 */
import { NO_STRING, type NodeTable } from './protocol';
import { ensureStructure } from './table';

export interface PackedTable {
  /** Index of the first row packed here: 0, or where the previous part ended. */
  from: number;
  /** Rows packed here. */
  count: number;
  /** Rows of the whole table (more than `from + count` when later parts follow). */
  total: number;
  /** Rows, varint-coded (see `packTable`). */
  rows: Uint8Array;
  /** All value texts, concatenated (lengths are in `rows`). */
  text: string;
  /** Times of the rows that have one, in row order. */
  times: Float64Array;
  /** Names and units of the whole table (every part carries them all). */
  strings: string[];
}

/** The table was unpacked from parts that do not follow each other from row 0. */
export class PackError extends Error {
  override readonly name = 'PackError';
}

const HAS_RECORD = 8;
const RECORD_JUMPS = 16;
const HAS_TIME = 32;
const HAS_HEADER = 64;
const HAS_SPAN = 128;

class Writer {
  buf = new Uint8Array(1 << 16);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.n));
    this.buf = bigger;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }
  /** Unsigned LEB128 for 0 ≤ v < 2^53. */
  uint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.n++] = v;
  }
  int(v: number): void {
    this.uint(v < 0 ? -2 * v - 1 : 2 * v);
  }
}

/**
 * Packs rows [from, to) (default: all). Row layout: flags byte (level in bits 0–2, then HAS_RECORD, RECORD_JUMPS, HAS_TIME,
 * HAS_HEADER, HAS_SPAN), RowFlag byte, type byte, then varints: id (level > 0), record (when it
 * is not the previous record + 1), name + 1, units + 1 (0 = none), start as the difference to
 * the previous row's start, end − start, headerEnd − start, the value's length in `text`.
 */
export function packTable(t: NodeTable, from = 0, to = t.count): PackedTable {
  const w = new Writer();
  const texts: string[] = [];
  const times: number[] = [];
  let lastRecord = -1;
  let lastStart = 0;
  from = Math.max(0, Math.min(from, t.count));
  to = Math.max(from, Math.min(to, t.count));
  for (let i = from; i < to; i++) {
    const level = t.level[i]!;
    const record = t.record[i]!;
    const time = t.time[i];
    const hasTime = time !== undefined && !Number.isNaN(time);
    const start = t.start[i]!;
    const header = t.headerEnd[i]!;
    let head = level;
    if (record >= 0) {
      head |= HAS_RECORD;
      if (record !== lastRecord + 1) head |= RECORD_JUMPS;
    }
    if (hasTime) head |= HAS_TIME;
    if (start >= 0) head |= HAS_SPAN;
    if (start >= 0 && header >= 0) head |= HAS_HEADER;
    w.byte(head);
    w.byte(t.flags[i]!);
    w.byte(t.type[i]!);
    if (level > 0) w.uint(t.id[i]!);
    if (record >= 0) {
      if (record !== lastRecord + 1) w.uint(record);
      lastRecord = record;
    }
    const name = t.name[i]!;
    const units = t.units[i]!;
    w.uint(name === NO_STRING ? 0 : name + 1);
    w.uint(units === NO_STRING ? 0 : units + 1);
    if (start >= 0) {
      w.int(start - lastStart);
      lastStart = start;
      w.uint(Math.max(0, t.end[i]! - start));
      if (header >= 0) w.uint(header - start);
    }
    const value = t.values[i] ?? '';
    w.uint(value.length);
    if (value.length > 0) texts.push(value);
    if (hasTime) times.push(time);
  }
  return { from, count: to - from, total: t.count, rows: w.buf.slice(0, w.n), text: texts.join(''), times: Float64Array.from(times), strings: t.strings };
}

/**
 * Restores the table from its packed parts, which must follow each other from row 0 (the table
 * of the first rows when parts are still to come). Throws PackError otherwise.
 */
export function unpackTable(...parts: PackedTable[]): NodeTable {
  let count = 0;
  for (const p of parts) {
    if (p.from !== count) throw new PackError(`packed rows start at ${p.from}, expected ${count}`);
    count += p.count;
  }
  const first = parts[0];
  const t: NodeTable = {
    count,
    level: new Uint8Array(count),
    id: new Uint16Array(count),
    parent: new Int32Array(0),
    subtreeEnd: new Int32Array(0),
    record: new Int32Array(count).fill(-1),
    name: new Uint16Array(count).fill(NO_STRING),
    type: new Uint8Array(count),
    units: new Uint16Array(count).fill(NO_STRING),
    start: new Int32Array(count).fill(-1),
    end: new Int32Array(count).fill(-1),
    headerEnd: new Int32Array(count).fill(-1),
    flags: new Uint8Array(count),
    time: parts.some((p) => p.times.length > 0) ? new Float64Array(count).fill(NaN) : new Float64Array(0),
    values: new Array<string>(count),
    strings: first?.strings ?? [],
  };
  for (const p of parts) unpackPart(p, t);
  return ensureStructure(t);
}

function unpackPart(p: PackedTable, t: NodeTable): void {
  const b = p.rows;
  let k = 0;
  const uint = (): number => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const byte = b[k++]!;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) return v;
      scale *= 0x80;
    }
  };
  const int = (): number => {
    const z = uint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  };
  let lastRecord = -1;
  let lastStart = 0;
  let textAt = 0;
  let timeAt = 0;
  for (let i = p.from; i < p.from + p.count; i++) {
    const head = b[k++]!;
    const level = head & 7;
    t.level[i] = level;
    t.flags[i] = b[k++]!;
    t.type[i] = b[k++]!;
    if (level > 0) t.id[i] = uint();
    if (head & HAS_RECORD) {
      const record = head & RECORD_JUMPS ? uint() : lastRecord + 1;
      t.record[i] = record;
      lastRecord = record;
    }
    const name = uint();
    if (name > 0) t.name[i] = name - 1;
    const units = uint();
    if (units > 0) t.units[i] = units - 1;
    if (head & HAS_SPAN) {
      const start = lastStart + int();
      lastStart = start;
      t.start[i] = start;
      t.end[i] = start + uint();
      if (head & HAS_HEADER) t.headerEnd[i] = start + uint();
    }
    const len = uint();
    t.values[i] = len === 0 ? '' : p.text.slice(textAt, (textAt += len));
    if (head & HAS_TIME) t.time[i] = p.times[timeAt++]!;
  }
}
