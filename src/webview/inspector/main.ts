/**
 * The payload inspector webview: a toolbar (content format, base path, edit and copy actions),
 * a virtualised tree/table of decoded nodes and a virtualised annotated hex view that select
 * each other, an error banner and a details line. Talks to the extension host only through
 * the typed protocol in src/common/protocol.ts (`ready` first, then requests with replies).
 */
import { describeBytes } from '../../common/describe';
import {
  createRequester,
  NO_STRING,
  NO_TYPE,
  RequestError,
  RowFlag,
  VALUE_TYPE_CODES,
  type EditOperation,
  type FromWebviewMessage,
  type InspectorState,
  type NodeTable,
  type PackedTable,
  type RenderedInfo,
  type StateRest,
  type ToWebviewMessage,
} from '../../common/protocol';
import { unpackTable } from '../../common/pack';
import { isPartial, joinState } from '../../common/parts';
import { findRowByPath, hasChildren, pathCache, runAt, tableByteMap, visibleRows, type ByteMap } from '../../common/table';
import { isoTime, parseValueText } from '../../common/values';
import { button, h, hex2, icon, oneLine } from './dom';

interface VsCodeApi {
  postMessage(message: FromWebviewMessage): void;
  getState(): SavedState | undefined;
  setState(state: SavedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  selectedPath?: string;
  collapsedPaths?: string[];
  flat?: boolean;
}

const vscode = acquireVsCodeApi();
const post = (m: FromWebviewMessage) => vscode.postMessage(m);
const rpc = createRequester(post);

const ROW_H = 22;
const LINE_H = 20;
const OVERSCAN = 8;
const ROLE_CLASS = ['h', 'l', 'v', 's'];

// ----- state ----------------------------------------------------------------------------------

let state: InspectorState | undefined;
let table: NodeTable | undefined;
/** Row → path, built lazily (only rows that are shown need one). */
let pathOf: (row: number) => string = () => '';
let bytemap: ByteMap = { owner: new Int32Array(0), role: new Uint8Array(0) };
let collapsed = new Set<number>();
let visible: Int32Array = new Int32Array(0);
/** Position of each row in `visible`, -1 when hidden. */
let position = new Int32Array(0);
let selected = -1;
let cursor = -1;
let editing: { row: number; input: HTMLInputElement; message: HTMLElement } | undefined;
const saved: SavedState = vscode.getState() ?? {};
let flat = saved.flat ?? false;
let receivedAt = 0;
let transferMs = 0;
let typedArrays = false;
/** The state's first part is shown and its rest (`stateRest`) is still to come. */
let awaitingRest = false;
/** The packed rows of the state's first part (joined with the rest's when it arrives). */
let firstNodes: PackedTable | undefined;
/** While the rest is coming: the selected and collapsed paths not among the first rows. */
let unresolved: { path?: string; collapsed: string[] } | undefined;
/** How many messages the shown state came in, and when its first rows were painted. */
let parts = 1;
let firstPaintAt = 0;
let firstPaintSeen = false;
let bootMs = 0;

// ----- layout -----------------------------------------------------------------------------------

const app = document.getElementById('app')!;

const formatSelect = h('select', { id: 'format', class: 'format', 'aria-label': 'Content format' });
const formatReason = h('span', { id: 'format-reason', class: 'reason' });
const baseInput = h('input', { id: 'base-path', class: 'base-path', type: 'text', spellcheck: 'false', 'aria-label': 'Base path (request path)', size: 12 });
const baseReason = h('span', { id: 'base-reason', class: 'reason' });
const baseGroup = h('div', { class: 'tb-group', id: 'base-group' }, h('label', { for: 'base-path' }, 'Base path'), baseInput, baseReason);

const bAddInstance = button('add-instance', 'add', 'Instance', 'Add an object instance (Insert on an object)');
const bAddResource = button('add-resource', 'add', 'Resource', 'Add a resource to the selected instance (Insert)');
const bAddResInst = button('add-resource-instance', 'add', 'Res. instance', 'Add an instance to the selected multiple resource');
const bRemove = button('remove', 'trash', '', 'Remove the selected node (Delete)');
const bFlat = button('toggle-flat', 'list-flat', '', 'Show records in payload order / as a tree');
const bCopyJson = button('copy-senml', 'copy', 'SenML JSON', 'Copy the payload as SenML JSON');
const bCopyHex = button('copy-hex', 'copy', 'Hex', 'Copy the payload bytes as hex');
const bCopyC = button('copy-c', 'copy', 'C array', 'Copy the payload bytes as a C array');
const bConvert = button('convert', 'arrow-swap', 'Convert…', 'Convert to another content format and save as a new file');

const toolbar = h(
  'div',
  { class: 'toolbar', role: 'toolbar', 'aria-label': 'Payload inspector' },
  h('div', { class: 'tb-group' }, h('label', { for: 'format' }, 'Format'), formatSelect, formatReason),
  baseGroup,
  h('div', { class: 'tb-group tb-actions' }, bAddInstance, bAddResource, bAddResInst, bRemove, h('span', { class: 'tb-sep' }), bFlat),
  h('div', { class: 'tb-group tb-actions' }, bCopyJson, bCopyHex, bCopyC, bConvert),
);

const banner = h('div', { id: 'error-banner', class: 'banner error hidden', role: 'alert' });
const notes = h('div', { id: 'notes', class: 'banner notes hidden' });

const treeHead = h(
  'div',
  { class: 'grid-row head', role: 'row' },
  ...['Path', 'Name', 'Type', 'Value', 'Units', 'Time'].map((t) => h('div', { class: `cell ${t.toLowerCase()}`, role: 'columnheader' }, t)),
);
const treeRows = h('div', { class: 'rows', role: 'rowgroup' });
const treeBody = h('div', { class: 'body' }, treeRows);
const treeScroll = h('div', { id: 'tree', class: 'scroll tree', role: 'treegrid', tabindex: 0, 'aria-label': 'Decoded nodes', 'aria-multiselectable': 'false' }, treeHead, treeBody);

const hexHead = h(
  'div',
  { class: 'hex-line head', 'aria-hidden': 'true' },
  h('span', { class: 'off' }, 'Offset'),
  h('span', { class: 'bytes' }, ...Array.from({ length: 16 }, (_, i) => h('span', { class: 'b' }, hex2(i)))),
  h('span', { class: 'ascii' }, 'ASCII'),
);
const hexLines = h('div', { class: 'lines' });
const hexBody = h('div', { class: 'body' }, hexLines);
const hexScroll = h('div', { id: 'hex', class: 'scroll hex', role: 'grid', tabindex: 0, 'aria-label': 'Payload bytes' }, hexHead, hexBody);

const detailsNode = h('div', { id: 'details-node', class: 'details-part' });
const detailsByte = h('div', { id: 'details-byte', class: 'details-part' });
const statusLine = h('div', { id: 'status', class: 'details-part status', role: 'status', 'aria-live': 'polite' });
const legend = h(
  'div',
  { class: 'legend', 'aria-hidden': 'true' },
  h('span', { class: 'b h' }, 'header'),
  h('span', { class: 'b l' }, 'label'),
  h('span', { class: 'b v' }, 'value'),
  h('span', { class: 'b own' }, 'selected'),
);

function buildLayout(): void {
  app.replaceChildren(
    toolbar,
    banner,
    notes,
    h('div', { class: 'split' }, h('section', { class: 'pane tree-pane', 'aria-label': 'Nodes' }, treeScroll), h('section', { class: 'pane hex-pane', 'aria-label': 'Bytes' }, hexScroll, legend)),
    h('footer', { class: 'details' }, detailsNode, detailsByte, statusLine),
  );
  app.removeAttribute('aria-busy');
}

// ----- helpers ------------------------------------------------------------------------------------

function nodes(): NodeTable {
  return table!;
}

function status(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', error);
}

function persist(): void {
  // paths still looked for among rows that have not arrived yet count as well
  const collapsedPaths = [...collapsed].map(pathOf).concat(unresolved?.collapsed ?? []).slice(0, 500);
  vscode.setState({ selectedPath: unresolved?.path ?? (selected >= 0 ? pathOf(selected) : undefined), collapsedPaths, flat });
}

/** Typed arrays arrive as such from VS Code; tolerate plain arrays/objects too. */
function typed<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(v: unknown, Ctor: { from(a: ArrayLike<number>): T }): T {
  if (ArrayBuffer.isView(v)) return v as T;
  if (Array.isArray(v)) return Ctor.from(v);
  if (v && typeof v === 'object') return Ctor.from(Object.values(v as Record<string, number>));
  return Ctor.from([]);
}

function normalizePacked(p: PackedTable): PackedTable {
  return { ...p, rows: typed(p.rows, Uint8Array), times: typed(p.times, Float64Array) };
}

function normalize(s: InspectorState): InspectorState {
  s.bytes = typed(s.bytes, Uint8Array);
  s.segments = typed(s.segments, Int32Array);
  s.nodes = normalizePacked(s.nodes);
  return s;
}

function normalizeRest(r: StateRest): StateRest {
  return { ...r, bytes: typed(r.bytes, Uint8Array), segments: typed(r.segments, Int32Array), nodes: normalizePacked(r.nodes) };
}

function typeOf(row: number): string {
  const t = nodes().type[row]!;
  return t === NO_TYPE ? '' : VALUE_TYPE_CODES[t]!;
}

function nameOf(row: number): string {
  const n = nodes().name[row]!;
  return n !== NO_STRING ? nodes().strings[n]! : '';
}

function displayValue(row: number): string {
  const t = nodes();
  const flags = t.flags[row]!;
  if (t.record[row]! < 0) return '';
  if (flags & RowFlag.NoValue) return '(no value)';
  const v = oneLine(t.values[row]!);
  if (typeOf(row) === 'time' && /^-?\d+$/.test(v)) return `${v} (${isoTime(Number(v))})`;
  if (typeOf(row) === 'string' || typeOf(row) === 'corelnk') return v;
  return v;
}

/** Tree depth: every level between a row and its object has a row, so it follows from the level. */
function depthOf(row: number): number {
  return Math.max(0, nodes().level[row]! - 1);
}

function recompute(): void {
  visible = visibleRows(nodes(), collapsed, flat);
  position = new Int32Array(nodes().count).fill(-1);
  visible.forEach((r, k) => (position[r] = k));
}

// ----- tree ---------------------------------------------------------------------------------------

function rowElement(row: number, k: number): HTMLElement {
  const t = nodes();
  const flags = t.flags[row]!;
  const kids = !flat && hasChildren(t, row);
  const open = kids && !collapsed.has(row);
  const el = h('div', {
    class: `grid-row row${row === selected ? ' selected' : ''}${t.record[row]! < 0 ? ' group' : ''}`,
    role: 'row',
    id: `row-${row}`,
    'data-row': row,
    'aria-rowindex': k + 2,
    'aria-level': flat ? 1 : depthOf(row) + 1,
    'aria-selected': row === selected ? 'true' : 'false',
    'aria-expanded': kids ? (open ? 'true' : 'false') : undefined,
  });
  const pathCell = h('div', { class: 'cell path', role: 'gridcell' });
  if (!flat) {
    const indent = h('span', { class: `indent d${Math.min(depthOf(row), 4)}` });
    pathCell.append(indent, kids ? h('span', { class: `twistie codicon codicon-chevron-${open ? 'down' : 'right'}`, 'data-toggle': row }) : h('span', { class: 'twistie' }));
  }
  const level = t.level[row]!;
  const kindIcon = level === 1 ? 'symbol-class' : level === 2 ? 'symbol-object' : flags & RowFlag.Multiple ? 'symbol-array' : level === 0 ? 'link' : 'symbol-field';
  pathCell.append(icon(kindIcon), h('span', { class: 'path-text' }, pathOf(row)));
  if (flags & RowFlag.Unmodelled) pathCell.append(icon('question', 'No object model describes this value: its type was guessed'));
  const typeCell = h('div', { class: 'cell type', role: 'gridcell' }, typeOf(row));
  const valueCell = h('div', { class: `cell value${flags & RowFlag.NoValue ? ' dim' : ''}${flags & RowFlag.Editable && state!.editable ? ' editable' : ''}`, role: 'gridcell', 'data-value': row });
  if (editing && editing.row === row) valueCell.append(editing.input, editing.message);
  else valueCell.textContent = displayValue(row);
  const units = t.units[row]!;
  const time = t.time[row] ?? NaN;
  el.append(
    pathCell,
    h('div', { class: 'cell name', role: 'gridcell', title: nameOf(row) || undefined }, nameOf(row)),
    typeCell,
    valueCell,
    h('div', { class: 'cell units', role: 'gridcell' }, units !== NO_STRING ? t.strings[units]! : ''),
    h('div', { class: 'cell time', role: 'gridcell' }, Number.isNaN(time) ? '' : isoTime(time)),
  );
  return el;
}

function renderTree(): void {
  if (!state) return;
  const total = visible.length;
  treeBody.style.height = `${total * ROW_H}px`;
  const top = Math.max(0, treeScroll.scrollTop - ROW_H);
  const height = treeScroll.clientHeight || 600;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(total, Math.ceil((top + height) / ROW_H) + OVERSCAN);
  treeRows.style.transform = `translateY(${first * ROW_H}px)`;
  const frag = document.createDocumentFragment();
  for (let k = first; k < last; k++) frag.append(rowElement(visible[k]!, k));
  treeRows.replaceChildren(frag);
  treeScroll.setAttribute('aria-rowcount', String(total + 1));
  if (selected >= 0 && position[selected]! >= first && position[selected]! < last) treeScroll.setAttribute('aria-activedescendant', `row-${selected}`);
  else treeScroll.removeAttribute('aria-activedescendant');
  if (editing && editing.input.isConnected && document.activeElement !== editing.input) editing.input.focus();
}

function revealRow(row: number): void {
  const k = position[row]!;
  if (k < 0) return;
  const top = k * ROW_H;
  const head = treeHead.offsetHeight || ROW_H;
  const view = treeScroll.clientHeight - head;
  if (top < treeScroll.scrollTop) treeScroll.scrollTop = top;
  else if (top + ROW_H > treeScroll.scrollTop + view) treeScroll.scrollTop = top + ROW_H - view;
}

function expandTo(row: number): void {
  let changed = false;
  for (let p = nodes().parent[row]!; p >= 0; p = nodes().parent[p]!) if (collapsed.delete(p)) changed = true;
  if (changed) recompute();
}

/** Selects a row; `fromBytes` when the hex view asked (it keeps its cursor). */
function select(row: number, options: { reveal?: boolean; fromBytes?: boolean } = {}): void {
  if (!state || row < 0 || row >= nodes().count) return;
  if (editing && editing.row !== row) cancelEdit();
  selected = row;
  if (unresolved) unresolved.path = undefined;
  if (!flat) expandTo(row);
  else if (position[row]! < 0) {
    flat = false;
    recompute();
  }
  if (options.reveal !== false) revealRow(row);
  if (!options.fromBytes) {
    const start = nodes().start[row]!;
    if (start >= 0) {
      cursor = start;
      revealByte(start);
    }
  }
  post({ type: 'selection', row, path: pathOf(row) });
  persist();
  updateButtons();
  renderTree();
  renderHex();
  renderDetails();
}

function selectPath(path: string): void {
  const row = findRowByPath(nodes(), path);
  if (row >= 0) select(row);
  else if (awaitingRest) (unresolved ??= { collapsed: [] }).path = path;
}

function toggle(row: number, open?: boolean): void {
  if (!hasChildren(nodes(), row)) return;
  const isOpen = !collapsed.has(row);
  if (open === isOpen) return;
  if (isOpen) collapsed.add(row);
  else collapsed.delete(row);
  recompute();
  persist();
  renderTree();
}

// ----- hex ----------------------------------------------------------------------------------------

function byteClass(i: number, selStart: number, selEnd: number): string {
  const role = bytemap.role[i]!;
  let c = role === 255 ? 'b' : `b ${ROLE_CLASS[role]}`;
  if (i >= selStart && i < selEnd) c += bytemap.owner[i] === selected ? ' own' : ' sel';
  if (i === cursor) c += ' cur';
  const err = state!.error;
  if (err && i >= err.context[0] && i < err.context[1]) c += i === err.offset ? ' err' : ' errctx';
  return c;
}

function renderHex(): void {
  if (!state) return;
  const bytes = state.bytes;
  const lines = Math.max(1, Math.ceil(bytes.length / 16));
  hexBody.style.height = `${lines * LINE_H}px`;
  const top = Math.max(0, hexScroll.scrollTop - LINE_H);
  const height = hexScroll.clientHeight || 600;
  const first = Math.max(0, Math.floor(top / LINE_H) - OVERSCAN);
  const last = Math.min(lines, Math.ceil((top + height) / LINE_H) + OVERSCAN);
  hexLines.style.transform = `translateY(${first * LINE_H}px)`;
  const selStart = selected >= 0 ? nodes().start[selected]! : -1;
  const selEnd = selected >= 0 ? nodes().end[selected]! : -1;
  let html = '';
  if (bytes.length === 0) html = '<div class="hex-line empty">(empty payload)</div>';
  for (let line = first; line < last && bytes.length > 0; line++) {
    const base = line * 16;
    let hexPart = '';
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      const i = base + j;
      if (i >= bytes.length) {
        hexPart += '<span class="b pad">  </span>';
        continue;
      }
      const b = bytes[i]!;
      const cls = byteClass(i, selStart, selEnd);
      hexPart += `<span class="${cls}" data-i="${i}">${hex2(b)}</span>`;
      const ch = b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      ascii += `<span class="${cls}" data-i="${i}">${ch === '<' ? '&lt;' : ch === '&' ? '&amp;' : ch === '>' ? '&gt;' : ch}</span>`;
    }
    html += `<div class="hex-line" role="row"><span class="off">${base.toString(16).padStart(8, '0')}</span><span class="bytes">${hexPart}</span><span class="ascii">${ascii}</span></div>`;
  }
  hexLines.innerHTML = html;
}

function revealByte(i: number): void {
  const top = Math.floor(i / 16) * LINE_H;
  const head = hexHead.offsetHeight || LINE_H;
  const view = hexScroll.clientHeight - head;
  if (top < hexScroll.scrollTop) hexScroll.scrollTop = top;
  else if (top + LINE_H > hexScroll.scrollTop + view) hexScroll.scrollTop = top + LINE_H - Math.max(LINE_H, view);
}

function setCursor(i: number): void {
  if (!state || state.bytes.length === 0) return;
  cursor = Math.max(0, Math.min(state.bytes.length - 1, i));
  revealByte(cursor);
  const owner = bytemap.owner[cursor]!;
  if (owner >= 0 && owner !== selected) select(owner, { fromBytes: true });
  else {
    renderHex();
    renderDetails();
  }
}

/** The run of bytes [start, end) with the same owner and role as byte `i`, and that role. */
function segmentAt(i: number): [number, number, number] | undefined {
  return runAt(bytemap, i);
}

// ----- details, toolbar, banners ------------------------------------------------------------------

function renderDetails(): void {
  if (!state) return;
  const t = nodes();
  if (selected >= 0) {
    const start = t.start[selected]!;
    const end = t.end[selected]!;
    const span = start >= 0 ? ` · bytes ${start}–${end - 1} (${end - start} byte${end - start === 1 ? '' : 's'})` : ' · no bytes of its own';
    const name = nameOf(selected);
    const type = typeOf(selected);
    detailsNode.textContent = `${pathOf(selected)}${name ? ` ${name}` : ''}${type ? ` · ${type}` : ''}${t.flags[selected]! & RowFlag.Unmodelled ? ' · no model' : ''}${span}`;
  } else detailsNode.textContent = `${t.count} node${t.count === 1 ? '' : 's'}`;
  if (cursor >= 0 && cursor < state.bytes.length) {
    const seg = segmentAt(cursor);
    const what = seg ? describeBytes(state.format, seg[2], state.bytes, seg[0], seg[1]) : 'not part of any node';
    detailsByte.textContent = `byte ${cursor} (0x${cursor.toString(16)}) = 0x${hex2(state.bytes[cursor]!)} · ${what}`;
  } else detailsByte.textContent = `${state.byteLength} bytes`;
}

function updateToolbar(): void {
  const s = state!;
  formatSelect.replaceChildren(...s.formats.map((f) => h('option', { value: f.format, selected: f.format === s.format }, f.label)));
  formatSelect.value = String(s.format);
  formatReason.textContent = s.formatReason;
  formatReason.title = s.formatReason;
  baseGroup.classList.toggle('hidden', !s.usesBasePath);
  if (document.activeElement !== baseInput) baseInput.value = s.basePath;
  baseReason.textContent = s.basePathReason;
  baseReason.title = s.basePathReason;
  bFlat.querySelector('.codicon')!.className = `codicon codicon-${flat ? 'list-tree' : 'list-flat'}`;
  bFlat.setAttribute('aria-pressed', flat ? 'true' : 'false');
  updateButtons();
}

function updateButtons(): void {
  const s = state;
  const can = !!s && s.editable;
  const level = selected >= 0 ? nodes().level[selected]! : -1;
  const multiple = selected >= 0 && (nodes().flags[selected]! & RowFlag.Multiple) !== 0;
  bAddInstance.disabled = !can || level < 1;
  bAddResource.disabled = !can || level < 2;
  bAddResInst.disabled = !can || !(level === 3 && multiple) && level !== 4;
  bRemove.disabled = !can || selected < 0;
  const title = can ? '' : ` — read-only: ${s?.readonlyReason ?? ''}`;
  for (const b of [bAddInstance, bAddResource, bAddResInst, bRemove]) b.title = (b.getAttribute('aria-label') ?? '') + (b.disabled ? title : '');
  bCopyJson.disabled = !s || !!s.error;
  bConvert.disabled = !s || !!s.error;
}

function updateBanners(): void {
  const s = state!;
  if (s.error) {
    const e = s.error;
    const go = h('button', { class: 'link-button', type: 'button', id: 'goto-error' }, `Show byte ${e.offset}`);
    go.addEventListener('click', () => {
      setCursor(Math.min(e.offset, s.bytes.length - 1));
      hexScroll.focus();
    });
    const where = e.offset >= s.bytes.length ? `at the end of the payload (byte ${e.offset})` : `at byte ${e.offset} (0x${e.offset.toString(16)})`;
    banner.replaceChildren(
      icon('error'),
      h('span', { class: 'msg' }, `Cannot decode as ${s.formatName} ${where}${e.pointer !== undefined ? `, ${e.pointer}` : ''}: expected ${e.expected}, found ${e.found}.`),
      go,
      h('span', { class: 'sub' }, s.usesBasePath ? ' Check the format and base path.' : ' Check the content format.'),
    );
    banner.classList.remove('hidden');
  } else banner.classList.add('hidden');
  if (s.notes.length > 0) {
    notes.replaceChildren(icon('info'), h('span', {}, s.notes.join(' · ')));
    notes.classList.remove('hidden');
  } else notes.classList.add('hidden');
}

// ----- editing ------------------------------------------------------------------------------------

function startEdit(row: number): void {
  if (!state?.editable || !(nodes().flags[row]! & RowFlag.Editable)) {
    if (state && !state.editable) status(`Read-only: ${state.readonlyReason ?? ''}`, true);
    return;
  }
  const type = VALUE_TYPE_CODES[nodes().type[row]!]!;
  const input = h('input', { class: 'edit', type: 'text', spellcheck: 'false', 'aria-label': `New value for ${pathOf(row)} (${type})` });
  input.value = nodes().values[row]!;
  const message = h('div', { class: 'edit-message hidden', role: 'alert' });
  editing = { row, input, message };
  const validate = () => {
    const r = parseValueText(type, input.value);
    input.setAttribute('aria-invalid', r.ok ? 'false' : 'true');
    message.textContent = r.ok ? '' : r.error;
    message.classList.toggle('hidden', r.ok);
    return r.ok;
  };
  input.addEventListener('input', validate);
  input.addEventListener('keydown', (e) => {
    e.stopPropagation();
    if (e.key === 'Escape') {
      e.preventDefault();
      cancelEdit();
      treeScroll.focus();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (validate()) void commitEdit();
    }
  });
  input.addEventListener('blur', () => {
    setTimeout(() => {
      if (editing?.input === input && document.activeElement !== input && !input.dataset.busy) cancelEdit();
    }, 150);
  });
  renderTree();
  input.focus();
  input.select();
}

function cancelEdit(): void {
  if (!editing) return;
  editing = undefined;
  renderTree();
}

async function commitEdit(): Promise<void> {
  if (!editing || !state) return;
  const { row, input, message } = editing;
  input.dataset.busy = '1';
  try {
    const r = await rpc.request('edit', { revision: state.revision, edit: { op: 'setValue', row, text: input.value } });
    editing = undefined;
    if (r.select) selectPath(r.select);
    treeScroll.focus();
    renderTree();
    status(selected >= 0 ? `Set ${pathOf(selected)}` : 'Set');
  } catch (e) {
    delete input.dataset.busy;
    message.textContent = e instanceof Error ? e.message : String(e);
    message.classList.remove('hidden');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

async function requestEdit(edit: EditOperation): Promise<void> {
  if (!state) return;
  try {
    const r = await rpc.request('edit', { revision: state.revision, edit });
    if (r.select) selectPath(r.select);
    treeScroll.focus();
  } catch (e) {
    if (e instanceof RequestError && e.code === 'cancelled') return;
    status(e instanceof Error ? e.message : String(e), true);
  }
}

async function run<T>(work: () => Promise<T>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (e instanceof RequestError && e.code === 'cancelled') return;
    status(e instanceof Error ? e.message : String(e), true);
  }
}

// ----- events ------------------------------------------------------------------------------------

treeScroll.addEventListener('scroll', () => renderTree(), { passive: true });
hexScroll.addEventListener('scroll', () => renderHex(), { passive: true });
new ResizeObserver(() => {
  renderTree();
  renderHex();
}).observe(document.body);

treeRows.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const toggleRow = target.closest<HTMLElement>('[data-toggle]');
  const rowEl = target.closest<HTMLElement>('[data-row]');
  if (!rowEl) return;
  const row = Number(rowEl.dataset.row);
  if (toggleRow) toggle(row);
  if (target.closest('input')) return;
  select(row, { reveal: false });
  treeScroll.focus();
});
treeRows.addEventListener('dblclick', (e) => {
  const rowEl = (e.target as HTMLElement).closest<HTMLElement>('[data-row]');
  if (!rowEl) return;
  const row = Number(rowEl.dataset.row);
  if ((e.target as HTMLElement).closest('[data-value]')) startEdit(row);
  else toggle(row);
});

treeScroll.addEventListener('keydown', (e) => {
  if (!state || (e.target as HTMLElement).tagName === 'INPUT') return;
  const t = nodes();
  const k = selected >= 0 ? position[selected]! : -1;
  const page = Math.max(1, Math.floor(treeScroll.clientHeight / ROW_H) - 2);
  const go = (to: number) => {
    if (visible.length === 0) return;
    select(visible[Math.max(0, Math.min(visible.length - 1, to))]!);
  };
  switch (e.key) {
    case 'ArrowDown':
      go(k + 1);
      break;
    case 'ArrowUp':
      go(k < 0 ? 0 : k - 1);
      break;
    case 'PageDown':
      go(k + page);
      break;
    case 'PageUp':
      go(k - page);
      break;
    case 'Home':
      go(0);
      break;
    case 'End':
      go(visible.length - 1);
      break;
    case 'ArrowRight':
      if (selected < 0) go(0);
      else if (!flat && hasChildren(t, selected)) {
        if (collapsed.has(selected)) toggle(selected, true);
        else select(selected + 1);
      }
      break;
    case 'ArrowLeft':
      if (selected < 0) break;
      if (!flat && hasChildren(t, selected) && !collapsed.has(selected)) toggle(selected, false);
      else if (t.parent[selected]! >= 0) select(t.parent[selected]!);
      break;
    case 'Enter':
    case 'F2':
      if (selected < 0) break;
      if (t.flags[selected]! & RowFlag.Editable) startEdit(selected);
      else toggle(selected);
      break;
    case 'Delete':
      if (selected >= 0 && state.editable) void requestEdit({ op: 'remove', row: selected });
      break;
    case 'Insert':
      if (selected >= 0 && state.editable) {
        const level = t.level[selected]!;
        if (level === 1) void requestEdit({ op: 'addInstance', row: selected });
        else if (level >= 2) void requestEdit({ op: 'addResource', row: selected });
      }
      break;
    case ' ':
      if (selected >= 0) toggle(selected);
      break;
    default:
      return;
  }
  e.preventDefault();
});

hexLines.addEventListener('click', (e) => {
  const el = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
  if (!el) return;
  setCursor(Number(el.dataset.i));
  hexScroll.focus();
});

hexScroll.addEventListener('keydown', (e) => {
  if (!state) return;
  const page = Math.max(1, Math.floor(hexScroll.clientHeight / LINE_H) - 2) * 16;
  const c = cursor < 0 ? 0 : cursor;
  switch (e.key) {
    case 'ArrowRight':
      setCursor(c + 1);
      break;
    case 'ArrowLeft':
      setCursor(c - 1);
      break;
    case 'ArrowDown':
      setCursor(c + 16);
      break;
    case 'ArrowUp':
      setCursor(c - 16);
      break;
    case 'PageDown':
      setCursor(c + page);
      break;
    case 'PageUp':
      setCursor(c - page);
      break;
    case 'Home':
      setCursor(e.ctrlKey || e.metaKey ? 0 : c - (c % 16));
      break;
    case 'End':
      setCursor(e.ctrlKey || e.metaKey ? state.bytes.length - 1 : c - (c % 16) + 15);
      break;
    case 'Enter':
      if (selected >= 0) treeScroll.focus();
      break;
    default:
      return;
  }
  e.preventDefault();
});

formatSelect.addEventListener('change', () => void run(() => rpc.request('setFormat', { format: Number(formatSelect.value) })));
const applyBase = () => {
  if (state && baseInput.value.trim() !== state.basePath) {
    void rpc.request('setBasePath', { path: baseInput.value }).catch((e: unknown) => {
      baseInput.setAttribute('aria-invalid', 'true');
      status(e instanceof Error ? e.message : String(e), true);
    });
  }
};
baseInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    applyBase();
  } else if (e.key === 'Escape' && state) baseInput.value = state.basePath;
});
baseInput.addEventListener('change', applyBase);
baseInput.addEventListener('input', () => baseInput.removeAttribute('aria-invalid'));

bAddInstance.addEventListener('click', () => void requestEdit({ op: 'addInstance', row: selected }));
bAddResource.addEventListener('click', () => void requestEdit({ op: 'addResource', row: selected }));
bAddResInst.addEventListener('click', () => void requestEdit({ op: 'addResourceInstance', row: selected }));
bRemove.addEventListener('click', () => void requestEdit({ op: 'remove', row: selected }));
bFlat.addEventListener('click', () => {
  flat = !flat;
  recompute();
  persist();
  updateToolbar();
  if (selected >= 0) revealRow(selected);
  renderTree();
});
bCopyJson.addEventListener('click', () => void run(() => rpc.request('copy', { as: 'senml-json' })));
bCopyHex.addEventListener('click', () => void run(() => rpc.request('copy', { as: 'hex' })));
bCopyC.addEventListener('click', () => void run(() => rpc.request('copy', { as: 'c-array' })));
bConvert.addEventListener('click', () => void run(() => rpc.request('convert', {})));

// ----- messages ----------------------------------------------------------------------------------

function applyState(next: InspectorState): void {
  const first = !state;
  // a path still awaited from the rest of the previous state wins over the row shown meanwhile
  const prevPath = unresolved?.path ?? (selected >= 0 ? pathOf(selected) : saved.selectedPath);
  const prevCollapsed = state ? [...collapsed].map(pathOf).concat(unresolved?.collapsed ?? []) : (saved.collapsedPaths ?? []);
  state = normalize(next);
  table = unpackTable(state.nodes);
  firstNodes = state.nodes;
  awaitingRest = isPartial(state);
  parts = 1;
  if (first) buildLayout();
  show(prevPath, prevCollapsed, first);
  updateToolbar();
  updateBanners();
  if (awaitingRest) status(`Loading: the first ${table.count.toLocaleString('en')} of ${state.nodes.total.toLocaleString('en')} rows are shown…`);
  else if (statusLine.textContent?.startsWith('Loading: ')) status('');
  if (first && selected >= 0) treeScroll.focus();
  const revision = state.revision;
  requestAnimationFrame(() => {
    if (state?.revision === revision && !firstPaintSeen) {
      firstPaintSeen = true;
      firstPaintAt = Date.now();
    }
    if (!awaitingRest) postRendered(revision);
  });
}

/** The rest of a state that came in two parts: the whole table, bytes and segments. */
function applyRest(next: StateRest): void {
  if (!state || !awaitingRest || next.revision !== state.revision) return;
  const rest = normalizeRest(next);
  const wantPath = unresolved?.path ?? (selected >= 0 ? pathOf(selected) : undefined);
  const wantCollapsed = [...collapsed].map(pathOf).concat(unresolved?.collapsed ?? []);
  const joined = joinState(state, rest);
  table = unpackTable(firstNodes!, rest.nodes);
  state = { ...state, bytes: joined.bytes, segments: joined.segments };
  awaitingRest = false;
  parts = 2;
  show(wantPath, wantCollapsed, false);
  updateButtons();
  if (statusLine.textContent?.startsWith('Loading: ')) status('');
  const revision = state.revision;
  requestAnimationFrame(() => postRendered(revision));
}

/**
 * Shows the current table and bytes: the byte map, collapsed rows and the selection (by path,
 * `wantPath`), then renders. Paths not found while the rest of the rows is still coming are
 * kept in `unresolved` and looked for again when it arrives.
 */
function show(wantPath: string | undefined, wantCollapsed: readonly string[], first: boolean): void {
  const t = table!;
  const s = state!;
  pathOf = pathCache(t);
  treeScroll.classList.toggle('no-time', t.time.length === 0);
  bytemap = tableByteMap(t, s.segments, s.bytes.length);
  collapsed = new Set();
  const missing: string[] = [];
  for (const p of new Set(wantCollapsed)) {
    const r = findRowByPath(t, p);
    if (r >= 0 && hasChildren(t, r)) collapsed.add(r);
    else if (r < 0) missing.push(p);
  }
  recompute();
  if (editing && editing.row >= t.count) editing = undefined;
  selected = wantPath !== undefined ? findRowByPath(t, wantPath) : -1;
  unresolved = awaitingRest ? { path: selected < 0 ? wantPath : undefined, collapsed: missing } : undefined;
  if (selected < 0 && t.count > 0 && first) selected = visible[0] ?? -1;
  if (cursor >= s.bytes.length) cursor = s.bytes.length - 1;
  renderTree();
  renderHex();
  renderDetails();
}

/** Tells the host (and the tests) what is shown, once a state has arrived whole. */
function postRendered(revision: number): void {
  if (!state || state.revision !== revision) return;
  const sample: RenderedInfo['sample'] = [];
  for (const el of Array.from(treeRows.children).slice(0, 12)) {
    const cells = Array.from(el.querySelectorAll<HTMLElement>('.cell'));
    sample.push([cells[0]?.querySelector('.path-text')?.textContent ?? '', cells[1]?.textContent ?? '', cells[2]?.textContent ?? '', cells[3]?.textContent ?? '']);
  }
  const info: RenderedInfo = {
    revision,
    rows: nodes().count,
    visibleRows: visible.length,
    sample,
    formatShown: formatSelect.selectedOptions[0]?.textContent ?? '',
    renderMs: Math.round(performance.now() - receivedAt),
    transferMs,
    typedArrays,
    parts,
    firstPaintAt,
    bootMs,
    domRows: treeRows.childElementCount,
    domHexLines: hexLines.childElementCount,
  };
  if (!banner.classList.contains('hidden')) info.errorShown = banner.textContent ?? '';
  post({ type: 'rendered', info });
}

function fail(e: unknown): void {
  app.replaceChildren(h('div', { class: 'banner error', role: 'alert' }, icon('error'), `The inspector could not show this payload: ${e instanceof Error ? e.message : String(e)}`));
}

window.addEventListener('message', (event: MessageEvent<ToWebviewMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'state':
      receivedAt = performance.now();
      transferMs = Date.now() - m.state.sentAt;
      typedArrays = ArrayBuffer.isView(m.state.bytes) && ArrayBuffer.isView(m.state.nodes.rows);
      firstPaintSeen = false;
      try {
        applyState(m.state);
      } catch (e) {
        fail(e);
      }
      break;
    case 'stateRest':
      if (!state || m.rest.revision !== state.revision) break;
      receivedAt = performance.now();
      transferMs = Date.now() - m.rest.sentAt;
      typedArrays &&= ArrayBuffer.isView(m.rest.bytes) && ArrayBuffer.isView(m.rest.nodes.rows);
      try {
        applyRest(m.rest);
      } catch (e) {
        fail(e);
      }
      break;
    case 'select':
      selectPath(m.path);
      break;
    case 'status':
      status(m.text);
      break;
    case 'reply':
      rpc.onReply(m);
      break;
  }
});

bootMs = Math.round(performance.now());
post({ type: 'ready' });
