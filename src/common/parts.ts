/**
 * A large payload's state in two parts: the first screen of rows and bytes, sent at once, and
 * the rest, sent right after it (see protocol.ts). The host splits (`splitState`), the webview
 * joins (`joinState`). Rows are split at a row and bytes at a byte, independently: the first
 * part's rows are the first rows of the whole table and its segments those that start inside
 * its bytes, so joining gives back exactly the whole. Pure; round-trip tested.
 */
import { packTable } from './pack';
import type { InspectorState, NodeTable, StateRest } from './protocol';

/** What goes into the first part of a large payload's state. */
export interface PartLimits {
  /** Rows in the first part (a screen is about 40). */
  rows: number;
  /** Bytes in the first part (a screen of hex is about 800). */
  bytes: number;
}

export const FIRST_PART: PartLimits = { rows: 512, bytes: 16 * 1024 };

/** Payloads with fewer rows and bytes than this go in one message. */
export const SPLIT_OVER: PartLimits = { rows: 4 * FIRST_PART.rows, bytes: 4 * FIRST_PART.bytes };

/** The fields of a state besides its bulk data. */
export type StateHead = Omit<InspectorState, 'bytes' | 'byteLength' | 'nodes' | 'segments'>;

export interface StateParts {
  state: InspectorState;
  rest?: StateRest;
}

/** Index (in quadruples) of the first segment that starts at or after `at` (segments are sorted by start). */
function firstSegmentFrom(segments: Int32Array, at: number): number {
  let lo = 0;
  let hi = segments.length >> 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid * 4]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where a state is cut into its first part and the rest: rows, bytes, segment values (quadruples × 4). */
export interface PartCut {
  rows: number;
  bytes: number;
  segments: number;
}

/** Where to cut the state of a payload, or undefined to send it in one part (small by `over`). */
export function partCut(table: NodeTable, bytes: Uint8Array, segments: Int32Array, first: PartLimits = FIRST_PART, over: PartLimits = SPLIT_OVER): PartCut | undefined {
  if (table.count <= over.rows && bytes.length <= over.bytes) return undefined;
  const byteCut = Math.min(bytes.length, first.bytes);
  return { rows: Math.min(table.count, first.rows), bytes: byteCut, segments: firstSegmentFrom(segments, byteCut) * 4 };
}

/**
 * The state as the first message carries it: whole without a cut, else the first rows, bytes and
 * segments. Bulk arrays of a part are copies that own their buffers (VS Code sends the whole
 * buffer behind a view).
 */
export function firstPart(head: StateHead, table: NodeTable, bytes: Uint8Array, segments: Int32Array, cut: PartCut | undefined): InspectorState {
  if (!cut) return { ...head, bytes, byteLength: bytes.length, nodes: packTable(table), segments };
  return { ...head, bytes: bytes.slice(0, cut.bytes), byteLength: bytes.length, nodes: packTable(table, 0, cut.rows), segments: segments.slice(0, cut.segments) };
}

/** What the first part leaves out. */
export function restPart(revision: number, table: NodeTable, bytes: Uint8Array, segments: Int32Array, cut: PartCut): StateRest {
  return { revision, nodes: packTable(table, cut.rows), bytes: bytes.slice(cut.bytes), segments: segments.slice(cut.segments), sentAt: 0 };
}

/** Both parts at once (see `partCut`, `firstPart`, `restPart`). */
export function splitState(head: StateHead, table: NodeTable, bytes: Uint8Array, segments: Int32Array, first: PartLimits = FIRST_PART, over: PartLimits = SPLIT_OVER): StateParts {
  const cut = partCut(table, bytes, segments, first, over);
  const state = firstPart(head, table, bytes, segments, cut);
  return cut ? { state, rest: restPart(head.revision, table, bytes, segments, cut) } : { state };
}

/** Whether a state still waits for its rest. */
export function isPartial(state: InspectorState): boolean {
  return state.bytes.length < state.byteLength || state.nodes.from + state.nodes.count < state.nodes.total;
}

/** The whole payload's bytes and segments from a first part and its rest. */
export function joinState(state: InspectorState, rest: StateRest): { bytes: Uint8Array; segments: Int32Array } {
  const bytes = new Uint8Array(state.bytes.length + rest.bytes.length);
  bytes.set(state.bytes);
  bytes.set(rest.bytes, state.bytes.length);
  const segments = new Int32Array(state.segments.length + rest.segments.length);
  segments.set(state.segments);
  segments.set(rest.segments, state.segments.length);
  return { bytes, segments };
}
