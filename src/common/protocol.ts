/**
 * The payload inspector's webview protocol, imported by both sides (extension host and webview).
 *
 * - One discriminated union per direction: `ToWebviewMessage` (host → webview) and
 *   `FromWebviewMessage` (webview → host), both keyed by `type`.
 * - Requests: the webview sends `{type: 'request', id, method, params}` for a method of
 *   `InspectorRequests`; the host answers every request exactly once with a `reply` carrying
 *   either `result` or an `error` (`ProtocolError`). `createRequester` (webview side) and
 *   `handleRequest` (host side) keep the method → params → result typing.
 * - Handshake: the webview posts `ready` once its script runs (and again after being re-created
 *   when it was hidden); the host sends the first `state` only after `ready`.
 * - After rendering a state the webview posts `rendered`, which tests use to check what it shows.
 *
 * Bulk data travels as typed arrays, which VS Code transfers as binary buffers (engines ≥ 1.57)
 * rather than JSON: the payload `bytes`, the `segments`, and the node table packed into one
 * byte stream (`PackedTable`, see common/pack.ts).
 * - Large payloads arrive in two parts: the `state` carries the first screen of rows and bytes,
 *   a `stateRest` of the same revision right after it the rest (common/parts.ts splits and
 *   joins them). The webview shows the first part at once; its rows are the first rows of the
 *   whole table, so row numbers in requests mean the same before and after the rest arrives.
 */

import type { ValueType } from '../core/node';
import type { PackedTable } from './pack';

export type { PackedTable } from './pack';

// ----- the decoded model the webview shows ---------------------------------------------------

/**
 * Rows are in pre-order (a parent before its children, siblings in payload order). `parent` and
 * `subtreeEnd` follow from `level` and are sent empty: call `ensureStructure` (common/table.ts)
 * before reading them.
 */
export interface NodeTable {
  count: number;
  /** Path length: 0 a record at `/` (link format), 1 object, 2 instance, 3 resource, 4 resource instance. */
  level: Uint8Array;
  /** The last id of the row's path (unused at level 0). */
  id: Uint16Array;
  /** Parent row, or -1 (derived; see above). */
  parent: Int32Array;
  /** Index just past the row's subtree (derived; see above). */
  subtreeEnd: Int32Array;
  /** The decoded record this row shows (payload order), or -1 for a row that only groups others. */
  record: Int32Array;
  /** Index into `strings` of the model name, or `NO_STRING`. */
  name: Uint16Array;
  /** Index into `VALUE_TYPE_CODES`, or 255 for a row without a type. */
  type: Uint8Array;
  /** Index into `strings` of the units from the model, or `NO_STRING`. */
  units: Uint16Array;
  /** Byte range [start, end) the row covers (its own bytes and its children's), -1 when unknown. */
  start: Int32Array;
  end: Int32Array;
  /**
   * Implicit byte roles (TLV, compact for big payloads): [start, headerEnd) are the row's header
   * bytes and, for a row without children, [headerEnd, end) its value. -1 when the row's bytes
   * are described by explicit `segments` instead.
   */
  headerEnd: Int32Array;
  /** Bits of `RowFlag`. */
  flags: Uint8Array;
  /** Absolute time in seconds since 1970 (SenML, LwM2M JSON), NaN when none; empty when no row has one. */
  time: Float64Array;
  /** Value as editable text (opaque as hex, objlnk as `O:I`, time as seconds); '' for groups. */
  values: string[];
  /** Names and units. */
  strings: string[];
}

export const NO_STRING = 0xffff;

export const RowFlag = {
  /** No object model described the value: its type was guessed. */
  Unmodelled: 1,
  /** The value can be edited in place. */
  Editable: 2,
  /** A multiple-instance resource (its values are child rows). */
  Multiple: 4,
  /** The value text was shortened for display (a long opaque value). */
  Truncated: 8,
  /** The record has no value (path only, empty instance, deletion). */
  NoValue: 16,
} as const;

/** `NodeTable.type` codes. */
export const VALUE_TYPE_CODES: readonly ValueType[] = ['string', 'integer', 'unsigned integer', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'none'];
export const NO_TYPE = 255;

export const SegmentRole = {
  /** TLV type/identifier/length bytes, CBOR item heads (map/array/string headers). */
  Header: 0,
  /** SenML labels and JSON member names, LwM2M CBOR path keys. */
  Label: 1,
  /** The value bytes. */
  Value: 2,
  /** Punctuation and containers that belong to no single node (the SenML pack array, commas). */
  Structure: 3,
} as const;
export type SegmentRoleCode = (typeof SegmentRole)[keyof typeof SegmentRole];

export interface DecodeErrorInfo {
  message: string;
  /** Byte offset where decoding failed (may equal the payload length: "end of payload"). */
  offset: number;
  expected: string;
  found: string;
  /** JSON pointer for JSON formats. */
  pointer?: string;
  /** Bytes highlighted around the failure, [start, end). */
  context: [number, number];
}

export interface FormatChoice {
  format: number;
  name: string;
  label: string;
  /** Needs a base path (TLV, text, opaque, CBOR). */
  relative: boolean;
}

/**
 * Everything the webview shows; sent after every change (revision increases), for a large
 * payload in two parts (`bytes`, `segments` and `nodes` hold the first part; `StateRest` the rest).
 */
export interface InspectorState {
  revision: number;
  title: string;
  /** The payload bytes as they are now (after edits): all, or the first part of them. */
  bytes: Uint8Array;
  /** Length of the whole payload (more than `bytes.length` when a `stateRest` follows). */
  byteLength: number;
  format: number;
  formatName: string;
  /** How the format was chosen: detected (with the reason) or set by the user. */
  formatReason: string;
  formatChosen: boolean;
  formats: FormatChoice[];
  basePath: string;
  /** Whether this format uses the base path. */
  usesBasePath: boolean;
  basePathReason: string;
  /** The node table (or its first rows), packed for the transfer: `unpackTable` (common/pack.ts) restores it. */
  nodes: PackedTable;
  /**
   * Byte annotations besides the rows' implicit ones (`NodeTable.headerEnd`): flat quadruples
   * [start, end, role, row] sorted by start; row -1 for structure. `allSegments` merges both.
   * In a first part: the annotations that start inside its `bytes`.
   */
  segments: Int32Array;
  error?: DecodeErrorInfo;
  notes: string[];
  /** Whether values can be edited (a decode error or an unencodable format makes it read-only). */
  editable: boolean;
  readonlyReason?: string;
  /** Milliseconds the host spent decoding and building this state. */
  analyzeMs: number;
  /** When the host posted this state (ms since 1970), to measure the transfer. */
  sentAt: number;
}

/** The rest of a state sent in two parts: what follows the first part's rows, bytes and segments. */
export interface StateRest {
  revision: number;
  /** Rows from where the first part's rows end. */
  nodes: PackedTable;
  /** Bytes from where the first part's bytes end. */
  bytes: Uint8Array;
  /** The annotations that start where the first part's bytes end or later. */
  segments: Int32Array;
  /** When the host posted it (ms since 1970). */
  sentAt: number;
}

// ----- requests (webview → host → reply) -------------------------------------------------------

export type EditOperation =
  | { op: 'setValue'; row: number; text: string }
  | { op: 'remove'; row: number }
  /** Adds an instance to the object of `row` (or, without a row, asks for the object). */
  | { op: 'addInstance'; row?: number; id?: number }
  /** Adds a resource to the instance of `row`; without `resourceId` the host asks which. */
  | { op: 'addResource'; row: number; resourceId?: number; text?: string }
  /** Adds a resource instance to the multiple resource of `row`. */
  | { op: 'addResourceInstance'; row: number; id?: number; text?: string };

export type CopyKind = 'senml-json' | 'hex' | 'c-array';

/** Method → params and result of every request the webview can make. */
export interface InspectorRequests {
  /** Applies an edit (an undoable change of the payload). `revision` must be the shown one. */
  edit: { params: { revision: number; edit: EditOperation }; result: { revision: number; select?: string } };
  /** Reinterprets the bytes in another content format (a view setting, not an edit). */
  setFormat: { params: { format: number }; result: { revision: number } };
  setBasePath: { params: { path: string }; result: { revision: number } };
  /** Copies the payload to the clipboard; returns the text's length. */
  copy: { params: { as: CopyKind }; result: { length: number } };
  /** Converts into another format and saves a new file (asks for what is not given). */
  convert: { params: { format?: number; target?: string }; result: { uri?: string } };
}

export type RequestMethod = keyof InspectorRequests;
export type RequestParams<M extends RequestMethod> = InspectorRequests[M]['params'];
export type RequestResult<M extends RequestMethod> = InspectorRequests[M]['result'];

export type RequestMessage = {
  [M in RequestMethod]: { type: 'request'; id: number; method: M; params: RequestParams<M> };
}[RequestMethod];

export interface ProtocolError {
  message: string;
  /** `stale`: the edit was for an older revision; `invalid`: bad input; `failed`: anything else. */
  code: 'stale' | 'invalid' | 'failed' | 'cancelled';
}

export type ReplyMessage = { type: 'reply'; id: number; ok: true; result: unknown } | { type: 'reply'; id: number; ok: false; error: ProtocolError };

/** What the webview reports after showing a state (tests read it). */
export interface RenderedInfo {
  revision: number;
  rows: number;
  visibleRows: number;
  /** The first rendered tree rows as shown: [path, name, type, value]. */
  sample: [string, string, string, string][];
  errorShown?: string;
  formatShown: string;
  /** Milliseconds from receiving the state (its last part) to the paint of all of it. */
  renderMs: number;
  /** Milliseconds from the host posting the state (its last part) to the webview receiving it. */
  transferMs: number;
  /** How many messages the state came in (1, or 2 for a large payload). */
  parts: number;
  /** When the first rows were on screen (ms since 1970, webview clock): before the rest arrived when in parts. */
  firstPaintAt: number;
  /** Milliseconds from the webview page's start to its script posting `ready` (loading its styles and script). */
  bootMs: number;
  /** Tree rows and hex lines in the DOM (the lists are virtualised: about a screen of each). */
  domRows: number;
  domHexLines: number;
  /** Whether the bulk columns arrived as typed arrays (binary transfer). */
  typedArrays: boolean;
}

// ----- the two unions ------------------------------------------------------------------------

export type ToWebviewMessage =
  | { type: 'state'; state: InspectorState }
  /** The rest of the state of this revision (large payloads; see `StateRest`). */
  | { type: 'stateRest'; rest: StateRest }
  /** Select (and reveal) the row with this path. */
  | { type: 'select'; path: string }
  /** Shows a short message in the webview's status line. */
  | { type: 'status'; text: string }
  | ReplyMessage;

export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'rendered'; info: RenderedInfo }
  | { type: 'selection'; row: number; path: string }
  | RequestMessage;

// ----- helpers for both sides ----------------------------------------------------------------

export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: ProtocolError['code'] = 'failed',
  ) {
    super(message);
  }
}

/**
 * Webview side: sends typed requests and resolves them with the host's replies.
 * Feed every incoming `reply` to `onReply`.
 */
export function createRequester(post: (m: FromWebviewMessage) => void) {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: RequestError) => void }>();
  return {
    request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
      const id = next++;
      return new Promise<RequestResult<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        post({ type: 'request', id, method, params } as RequestMessage);
      });
    },
    onReply(m: ReplyMessage): void {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new RequestError(m.error.message, m.error.code));
    },
    get pendingCount(): number {
      return pending.size;
    },
  };
}

export type RequestHandlers = { [M in RequestMethod]: (params: RequestParams<M>) => Promise<RequestResult<M>> | RequestResult<M> };

/** Host side: runs the handler for a request and always produces exactly one reply. */
export async function handleRequest(m: RequestMessage, handlers: RequestHandlers): Promise<ReplyMessage> {
  try {
    const handler = handlers[m.method] as (p: unknown) => Promise<unknown> | unknown;
    const result = await handler(m.params);
    return { type: 'reply', id: m.id, ok: true, result };
  } catch (e) {
    const code = e instanceof RequestError ? e.code : 'failed';
    return { type: 'reply', id: m.id, ok: false, error: { message: e instanceof Error ? e.message : String(e), code } };
  }
}
