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

/**
 * The state of a payload, in one part when it is small (by `over`), else a first part with
 * `first.rows` rows and `first.bytes` bytes and the rest. Bulk arrays are copies that own their
 * buffers (VS Code sends the whole buffer behind a view).
 */
export function splitState(head: StateHead, table: NodeTable, bytes: Uint8Array, segments: Int32Array, first: PartLimits = FIRST_PART, over: PartLimits = SPLIT_OVER): StateParts {
  if (table.count <= over.rows && bytes.length <= over.bytes) {
    return { state: { ...head, bytes, byteLength: bytes.length, nodes: packTable(table), segments } };
  }
  const rowCut = Math.min(table.count, first.rows);
  const byteCut = Math.min(bytes.length, first.bytes);
  const segCut = firstSegmentFrom(segments, byteCut) * 4;
  return {
    state: { ...head, bytes: bytes.slice(0, byteCut), byteLength: bytes.length, nodes: packTable(table, 0, rowCut), segments: segments.slice(0, segCut) },
    rest: { revision: head.revision, nodes: packTable(table, rowCut), bytes: bytes.slice(byteCut), segments: segments.slice(segCut), sentAt: head.sentAt },
  };
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
