// The traffic log webview: a filterable table of CoAP messages and a detail pane.
import type { FromTrafficWebview, ToTrafficWebview, TrafficDetail, TrafficRow } from './protocol';

declare function acquireVsCodeApi(): { postMessage(m: FromTrafficWebview): void; getState(): unknown; setState(s: unknown): void };

const vscode = acquireVsCodeApi();
const MAX_DOM_ROWS = 2000;

let rows: TrafficRow[] = [];
let capacity = 1000;
let paused = false;
let held: TrafficRow[] = [];
let selected: number | undefined;
const filter = { client: '', path: '', dir: '', text: '' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function button(id: string, icon: string, label: string, title: string): HTMLButtonElement {
  const b = el('button', { id, title, class: 'tool' }, el('span', { class: `codicon codicon-${icon}` }), label ? el('span', { class: 'label' }, label) : '');
  return b;
}

// ----- layout --------------------------------------------------------------------------------------

const clientSelect = el('select', { id: 'filter-client', title: 'Client' }, el('option', { value: '' }, 'All clients'));
const pathInput = el('input', { id: 'filter-path', type: 'text', placeholder: 'Path (e.g. /3/0)', title: 'Show messages whose path starts with this' });
const dirSelect = el('select', { id: 'filter-dir', title: 'Direction' }, el('option', { value: '' }, 'Both directions'), el('option', { value: 'in' }, '← In'), el('option', { value: 'out' }, '→ Out'));
const textInput = el('input', { id: 'filter-text', type: 'search', placeholder: 'Filter text', title: 'Text in code, summary, token, peer…' });
const pauseButton = button('pause', 'debug-pause', 'Pause', 'Pause the log (messages are kept and shown on resume)');
const clearButton = button('clear', 'clear-all', 'Clear', 'Clear the log');
const exportButton = button('export', 'save', 'Export JSON', 'Export the shown messages as JSON');
const count = el('span', { id: 'count', class: 'count' });
const toolbar = el('div', { class: 'toolbar' }, clientSelect, pathInput, dirSelect, textInput, pauseButton, clearButton, exportButton, count);

const tbody = el('tbody', { id: 'rows' });
const table = el(
  'table',
  { id: 'log', class: 'log' },
  el('thead', {}, el('tr', {}, ...['Time', '', 'Client', 'Type', 'Code', 'Path', 'Format', 'Summary'].map((h) => el('th', {}, h)))),
  tbody,
);
const tableWrap = el('div', { class: 'table-wrap', id: 'table-wrap' }, table);
const empty = el('div', { class: 'empty', id: 'empty' }, 'No CoAP messages yet. Start the server and let a client register.');

const detail = el('div', { class: 'detail hidden', id: 'detail' });
document.body.append(toolbar, tableWrap, empty, detail);

// ----- rendering ---------------------------------------------------------------------------------

function matches(r: TrafficRow): boolean {
  if (filter.client && r.endpoint !== filter.client) return false;
  if (filter.dir && r.dir !== filter.dir) return false;
  if (filter.path && !(r.path === filter.path || r.path.startsWith(filter.path.endsWith('/') ? filter.path : filter.path + '/') || r.path.startsWith(filter.path))) return false;
  if (filter.text) {
    const t = filter.text.toLowerCase();
    const hay = `${r.code} ${r.summary} ${r.token} ${r.peer} ${r.endpoint} ${r.type} ${r.format} ${r.flags} ${r.path}`.toLowerCase();
    if (!hay.includes(t)) return false;
  }
  return true;
}

function time(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function rowElement(r: TrafficRow): HTMLTableRowElement {
  const codeClass = r.code.startsWith('2.') ? 'ok' : r.code.startsWith('4.') || r.code.startsWith('5.') ? 'error' : r.type === 'bad' ? 'error' : '';
  const tr = el(
    'tr',
    { class: `row ${r.dir}${r.seq === selected ? ' selected' : ''}`, 'data-seq': String(r.seq) },
    el('td', { class: 'time' }, time(r.time)),
    el('td', { class: 'dir', title: r.dir === 'in' ? `from ${r.peer}` : `to ${r.peer}` }, el('span', { class: `codicon codicon-${r.dir === 'in' ? 'arrow-left' : 'arrow-right'}` })),
    el('td', { class: 'client', title: r.peer }, r.endpoint || r.peer),
    el('td', { class: 'type' }, r.type),
    el('td', { class: `code ${codeClass}` }, r.code),
    el('td', { class: 'path' }, r.path),
    el('td', { class: 'format' }, r.format),
    el('td', { class: 'summary', title: r.summary }, [r.flags ? `[${r.flags}] ` : '', r.summary].join('')),
  );
  return tr;
}

function renderAll(): void {
  const shown = rows.filter(matches).slice(-MAX_DOM_ROWS);
  tbody.replaceChildren(...shown.map(rowElement));
  afterRender(shown.length);
  scrollToEnd();
}

function append(newRows: TrafficRow[]): void {
  const atEnd = tableWrap.scrollTop + tableWrap.clientHeight >= tableWrap.scrollHeight - 30;
  const shown = newRows.filter(matches);
  if (shown.length) tbody.append(...shown.map(rowElement));
  while (tbody.childElementCount > MAX_DOM_ROWS) tbody.firstElementChild!.remove();
  // Rows dropped from the bounded log leave the table too.
  const oldest = rows.length ? rows[0]!.seq : Infinity;
  while (tbody.firstElementChild && Number((tbody.firstElementChild as HTMLElement).dataset.seq) < oldest) tbody.firstElementChild.remove();
  afterRender(tbody.childElementCount);
  if (atEnd) scrollToEnd();
}

function afterRender(shown: number): void {
  empty.classList.toggle('hidden', rows.length > 0);
  count.textContent = `${shown} of ${rows.length} message${rows.length === 1 ? '' : 's'}${paused ? ` · paused (${held.length} waiting)` : ''}`;
  vscode.postMessage({ type: 'state', shown, paused, filter: JSON.stringify(filter) });
}

function scrollToEnd(): void {
  tableWrap.scrollTop = tableWrap.scrollHeight;
}

function updateClients(): void {
  const clients = [...new Set(rows.map((r) => r.endpoint).filter(Boolean))].sort();
  const current = clientSelect.value;
  const have = [...clientSelect.options].map((o) => o.value).slice(1);
  if (have.join('\n') === clients.join('\n')) return;
  clientSelect.replaceChildren(el('option', { value: '' }, 'All clients'), ...clients.map((c) => el('option', { value: c }, c)));
  clientSelect.value = clients.includes(current) ? current : '';
}

function addRows(newRows: TrafficRow[]): void {
  rows.push(...newRows);
  if (rows.length > capacity) rows = rows.slice(rows.length - capacity);
  updateClients();
  append(newRows);
}

function showDetail(d: TrafficDetail): void {
  const r = rows.find((x) => x.seq === d.seq);
  const actions = el(
    'div',
    { class: 'actions' },
    button('open-inspector', 'inspect', 'Open in Payload Inspector', 'Open the payload in the payload inspector'),
    button('copy-hex', 'copy', 'Copy as hex', 'Copy the payload as hex'),
    button('save-payload', 'save-as', 'Save payload as…', 'Save the payload to a file'),
    button('close-detail', 'close', '', 'Close'),
  );
  const head = el('div', { class: 'detail-head' }, el('strong', {}, r ? `#${r.seq} ${r.dir === 'in' ? '←' : '→'} ${r.type} ${r.code} ${r.path}` : `#${d.seq}`), el('span', { class: 'muted' }, r ? ` ${r.peer} · mid ${r.mid} · token ${r.token || '(none)'} · ${r.size} B` : ''), actions);
  const opts = el('table', { class: 'options' }, el('tbody', {}, ...d.options.map((o) => el('tr', {}, el('td', { class: 'opt-name' }, o.name), el('td', {}, o.value)))));
  const parts: Node[] = [head, el('h4', {}, 'Options'), d.options.length ? opts : el('div', { class: 'muted' }, 'none')];
  parts.push(el('h4', {}, `Payload${r ? ` (${r.payloadSize} B${d.format !== undefined && r.format ? `, ${r.format}` : ''})` : ''}`));
  if (d.decoded) parts.push(el('pre', { class: 'decoded', id: 'decoded' }, d.decoded));
  if (d.decodeError) parts.push(el('div', { class: 'error-text' }, d.decodeError));
  if (d.text && !d.decoded) parts.push(el('pre', { class: 'text' }, d.text));
  if (d.hex) parts.push(el('pre', { class: 'hex' }, d.hex));
  else parts.push(el('div', { class: 'muted' }, 'no payload'));
  detail.replaceChildren(...parts);
  detail.classList.remove('hidden');
  const has = (r?.payloadSize ?? 0) > 0;
  for (const id of ['open-inspector', 'copy-hex', 'save-payload']) (document.getElementById(id) as HTMLButtonElement).disabled = !has;
}

// ----- events --------------------------------------------------------------------------------------

tbody.addEventListener('click', (ev) => {
  const tr = (ev.target as HTMLElement).closest('tr');
  if (!tr) return;
  selected = Number(tr.dataset.seq);
  for (const s of tbody.querySelectorAll('tr.selected')) s.classList.remove('selected');
  tr.classList.add('selected');
  vscode.postMessage({ type: 'select', seq: selected });
});

detail.addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest('button');
  if (!b || selected === undefined) return;
  if (b.id === 'open-inspector') vscode.postMessage({ type: 'openInInspector', seq: selected });
  if (b.id === 'copy-hex') vscode.postMessage({ type: 'copyHex', seq: selected });
  if (b.id === 'save-payload') vscode.postMessage({ type: 'savePayload', seq: selected });
  if (b.id === 'close-detail') detail.classList.add('hidden');
});

const onFilter = () => {
  filter.client = clientSelect.value;
  filter.path = pathInput.value.trim();
  filter.dir = dirSelect.value;
  filter.text = textInput.value.trim();
  vscode.setState({ filter });
  renderAll();
};
clientSelect.addEventListener('change', onFilter);
dirSelect.addEventListener('change', onFilter);
pathInput.addEventListener('input', onFilter);
textInput.addEventListener('input', onFilter);

pauseButton.addEventListener('click', () => {
  paused = !paused;
  pauseButton.replaceChildren(el('span', { class: `codicon codicon-${paused ? 'debug-continue' : 'debug-pause'}` }), el('span', { class: 'label' }, paused ? 'Resume' : 'Pause'));
  pauseButton.classList.toggle('active', paused);
  if (!paused && held.length) {
    const h = held;
    held = [];
    addRows(h);
  } else afterRender(tbody.childElementCount);
});
clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
exportButton.addEventListener('click', () => vscode.postMessage({ type: 'export', seqs: rows.filter(matches).map((r) => r.seq) }));

window.addEventListener('message', (ev: MessageEvent<ToTrafficWebview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'rows':
      capacity = m.capacity;
      if (m.reset) {
        rows = m.rows.slice(-capacity);
        held = [];
        updateClients();
        renderAll();
      } else if (paused) {
        held.push(...m.rows);
        if (held.length > capacity) held = held.slice(held.length - capacity);
        afterRender(tbody.childElementCount);
      } else addRows(m.rows);
      break;
    case 'detail':
      showDetail(m.detail);
      break;
    case 'cleared':
      rows = [];
      held = [];
      detail.classList.add('hidden');
      renderAll();
      break;
  }
});

const saved = vscode.getState() as { filter?: typeof filter } | undefined;
if (saved?.filter) {
  Object.assign(filter, saved.filter);
  pathInput.value = filter.path;
  dirSelect.value = filter.dir;
  textInput.value = filter.text;
}
vscode.postMessage({ type: 'ready' });
