import * as vscode from 'vscode';
import { codecRegistry, detectFormat } from '../core/codec/registry';
import { codeToString, type CoapOption } from '../core/coap/message';
import { OptionNumber as Opt, blockSize, decodeBlock, decodeUint, getStringOptions, getUintOption, optionName } from '../core/coap/options';
import { formatPeer } from '../core/coap/peer';
import { ContentFormat, formatName } from '../core/contentFormat';
import { recordsToJson } from '../core/json';
import type { ModelLookup } from '../core/model/types';
import { formatValue } from '../core/node';
import { Lwm2mPath } from '../core/path';
import type { TrafficEntry } from '../core/server/traffic';
import type { FromTrafficWebview, ToTrafficWebview, TrafficDetail, TrafficRow } from '../webview/traffic/protocol';
import { Disposable } from './dispose';
import type { ServerController } from './serverController';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** Opens payload bytes in the payload inspector (provided by the inspector module). */
export type OpenInInspector = (bytes: Uint8Array, hints: { format?: number; path?: string; title?: string }) => Promise<vscode.Uri>;

const METHODS: Record<number, string> = { 1: 'GET', 2: 'POST', 3: 'PUT', 4: 'DELETE', 5: 'FETCH', 6: 'PATCH', 7: 'iPATCH' };
const CODE_NAMES: Record<string, string> = {
  '2.01': 'Created', '2.02': 'Deleted', '2.03': 'Valid', '2.04': 'Changed', '2.05': 'Content', '2.31': 'Continue',
  '4.00': 'Bad Request', '4.01': 'Unauthorized', '4.02': 'Bad Option', '4.03': 'Forbidden', '4.04': 'Not Found', '4.05': 'Method Not Allowed',
  '4.06': 'Not Acceptable', '4.08': 'Request Entity Incomplete', '4.12': 'Precondition Failed', '4.13': 'Request Entity Too Large',
  '4.15': 'Unsupported Content-Format', '5.00': 'Internal Server Error', '5.01': 'Not Implemented', '5.03': 'Service Unavailable',
};

interface Kept {
  entry: TrafficEntry;
  row: TrafficRow;
  /** The LwM2M path the payload belongs to, and its format. */
  path: string;
  format: number | undefined;
}

/**
 * The Traffic Log panel: every CoAP message of the server (time, direction, client, type, code,
 * path, format, one-line decoded summary) in a webview with filters, pause, clear, JSON export and
 * a detail pane (options, decoded payload, Open in Payload Inspector, Copy as hex, Save payload as…).
 */
export class TrafficLogPanel extends Disposable {
  static current: TrafficLogPanel | undefined;
  private readonly panel: vscode.WebviewPanel;
  private readonly kept = new Map<number, Kept>();
  /** token hex → request path, to name the path of responses and notifications. */
  private readonly tokens = new Map<string, { path: string; format?: number }>();
  private pending: TrafficRow[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;
  /** What the webview reported (for tests): rows shown, paused, filter text. */
  webviewState: { shown: number; paused: boolean; filter: string } = { shown: 0, paused: false, filter: '' };
  private readonly onDidReceiveEmitter = this.register(new vscode.EventEmitter<FromTrafficWebview>());
  /** Messages from the webview (tests wait on these). */
  readonly onDidReceive = this.onDidReceiveEmitter.event;

  static show(extensionUri: vscode.Uri, controller: ServerController, models: ModelLookup, openInInspector: OpenInInspector | undefined, log: vscode.LogOutputChannel): TrafficLogPanel {
    if (TrafficLogPanel.current) {
      TrafficLogPanel.current.panel.reveal();
      return TrafficLogPanel.current;
    }
    TrafficLogPanel.current = new TrafficLogPanel(extensionUri, controller, models, openInInspector, log);
    return TrafficLogPanel.current;
  }

  private constructor(
    extensionUri: vscode.Uri,
    private readonly controller: ServerController,
    private readonly models: ModelLookup,
    private readonly openInInspector: OpenInInspector | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.panel = this.register(vscode.window.createWebviewPanel('lwm2m.trafficLog', 'LwM2M Traffic', vscode.ViewColumn.Active, webviewOptions(extensionUri)));
    this.panel.iconPath = new vscode.ThemeIcon('pulse');
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, 'traffic', 'LwM2M Traffic');
    this.register(this.panel.onDidDispose(() => this.dispose()));
    this.register(this.panel.webview.onDidReceiveMessage((m: FromTrafficWebview) => void this.onMessage(m)));
    this.register(controller.onTraffic((e) => this.add(e)));
    this.register(controller.onDidChangeServer(() => this.resync()));
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  override dispose(): void {
    if (TrafficLogPanel.current === this) TrafficLogPanel.current = undefined;
    super.dispose();
  }

  /** Rows currently kept (for tests). */
  rows(): TrafficRow[] {
    return [...this.kept.values()].map((k) => k.row);
  }

  /** Sends a message as if the webview had (tests drive the panel's actions with it). */
  handle(m: FromTrafficWebview): Promise<unknown> {
    return this.onMessage(m);
  }

  private capacity(): number {
    return this.controller.server?.traffic.capacity ?? 1000;
  }

  private resync(): void {
    this.kept.clear();
    this.tokens.clear();
    this.pending = [];
    const entries = this.controller.server?.traffic.entries() ?? [];
    const rows = entries.map((e) => this.toRow(e));
    void this.post({ type: 'rows', rows, reset: true, capacity: this.capacity() });
  }

  private add(e: TrafficEntry): void {
    if (!this.ready) return;
    this.pending.push(this.toRow(e));
    const cap = this.capacity();
    if (this.kept.size > cap) {
      const drop = this.kept.size - cap;
      let i = 0;
      for (const key of this.kept.keys()) {
        if (i++ >= drop) break;
        this.kept.delete(key);
      }
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const rows = this.pending;
        this.pending = [];
        void this.post({ type: 'rows', rows, reset: false, capacity: this.capacity() });
      }, 100);
    }
  }

  private post(m: ToTrafficWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }

  private async onMessage(m: FromTrafficWebview): Promise<unknown> {
    this.onDidReceiveEmitter.fire(m);
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.resync();
        return;
      case 'state':
        this.webviewState = { shown: m.shown, paused: m.paused, filter: m.filter };
        return;
      case 'select': {
        const detail = this.detail(m.seq);
        if (detail) await this.post({ type: 'detail', detail });
        return detail;
      }
      case 'clear':
        this.controller.server?.traffic.clear();
        this.kept.clear();
        await this.post({ type: 'cleared' });
        return;
      case 'export':
        return this.export(m.seqs);
      case 'copyHex': {
        const k = this.kept.get(m.seq);
        if (!k) return;
        const hex = Buffer.from(payloadOf(k.entry)).toString('hex');
        await vscode.env.clipboard.writeText(hex);
        vscode.window.setStatusBarMessage(`Copied ${payloadOf(k.entry).length} bytes as hex`, 3000);
        return hex;
      }
      case 'savePayload':
        return this.savePayload(m.seq);
      case 'openInInspector': {
        const k = this.kept.get(m.seq);
        if (!k) return;
        if (!this.openInInspector) {
          void vscode.window.showInformationMessage('The payload inspector is not available in this build.');
          return;
        }
        return this.openInInspector(new Uint8Array(payloadOf(k.entry)), {
          ...(k.format !== undefined ? { format: k.format } : {}),
          ...(k.path ? { path: k.path } : {}),
          title: `${k.row.code} ${k.path} #${k.row.seq}`,
        });
      }
    }
  }

  /** Saves a message's payload to `target`, or to a file the user picks. */
  async savePayload(seq: number, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const k = this.kept.get(seq);
    if (!k) return undefined;
    const ext = k.format !== undefined ? extensionFor(k.format) : 'bin';
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        title: 'Save payload as',
        defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.cwd()), `payload-${seq}.${ext}`),
      }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, payloadOf(k.entry));
    return uri;
  }

  /** Exports messages (all kept when `seqs` is empty) as JSON to `target`, or to a file the user picks. */
  async export(seqs: number[], target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const chosen = seqs.length ? seqs.map((s) => this.kept.get(s)).filter((k): k is Kept => !!k) : [...this.kept.values()];
    const json = JSON.stringify(
      chosen.map((k) => ({ ...k.row, time: new Date(k.row.time).toISOString(), options: optionsOf(k.entry), payload: Buffer.from(payloadOf(k.entry)).toString('hex') })),
      null,
      2,
    );
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        title: 'Export traffic as JSON',
        filters: { JSON: ['json'] },
        defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.cwd()), 'lwm2m-traffic.json'),
      }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(json + '\n'));
    this.log.info(`traffic: exported ${chosen.length} message(s) to ${uri.fsPath}`);
    return uri;
  }

  // ----- rows ------------------------------------------------------------------------------------

  private toRow(e: TrafficEntry): TrafficRow {
    const peer = formatPeer(e.peer);
    const endpoint = this.controller.store.endpointAt(e.peer) ?? '';
    if (e.kind === 'malformed') {
      const row: TrafficRow = { seq: e.seq, time: e.time, dir: e.direction, peer, endpoint, type: 'bad', code: '', mid: 0, token: '', path: '', format: '', size: e.bytes.length, payloadSize: 0, summary: `malformed: ${e.reason}`, flags: '' };
      this.kept.set(e.seq, { entry: e, row, path: '', format: undefined });
      return row;
    }
    const token = e.token.toString('hex');
    const codeText = codeToString(e.code);
    const isRequest = e.code >= 1 && e.code <= 31;
    const uriPath = getStringOptions(e.options, Opt.UriPath);
    const query = getStringOptions(e.options, Opt.UriQuery);
    const cf = getUintOption(e.options, Opt.ContentFormat);
    const accept = getUintOption(e.options, Opt.Accept);
    const observe = getUintOption(e.options, Opt.Observe);
    let path = '';
    let format = cf;
    if (isRequest) {
      path = '/' + uriPath.join('/');
      if (token) this.tokens.set(token, { path, format: accept });
      if (this.tokens.size > 5000) this.tokens.delete(this.tokens.keys().next().value!);
    } else if (e.code !== 0) {
      const req = this.tokens.get(token);
      path = req?.path ?? '';
      format = cf ?? (e.payload.length ? req?.format : undefined);
    }
    const lwm2mPath = stripRoot(path, this.controller.store.get(endpoint)?.registration.rootPath);
    const code = isRequest ? (METHODS[e.code] ?? codeText) : e.code === 0 ? '' : `${codeText} ${CODE_NAMES[codeText] ?? ''}`.trim();
    const flags = [observe !== undefined ? (isRequest ? `observe=${observe}` : `notify #${observe}`) : '', e.duplicate ? 'duplicate' : '', e.retransmission ? 'retransmission' : ''].filter(Boolean).join(' ');
    const row: TrafficRow = {
      seq: e.seq,
      time: e.time,
      dir: e.direction,
      peer,
      endpoint: endpoint || endpointFromRegister(uriPath, query),
      type: e.type,
      code,
      mid: e.mid,
      token,
      path: lwm2mPath,
      format: cf !== undefined ? formatName(cf) : accept !== undefined ? `accept ${formatName(accept)}` : '',
      size: e.size,
      payloadSize: e.payload.length,
      summary: this.summary(e, isRequest, uriPath, query, lwm2mPath, format),
      flags,
    };
    this.kept.set(e.seq, { entry: e, row, path: lwm2mPath, format });
    return row;
  }

  private summary(e: TrafficEntry & { kind: 'message' }, isRequest: boolean, uriPath: string[], query: string[], path: string, format: number | undefined): string {
    if (e.code === 0) return e.type === 'RST' ? 'reset' : 'empty ACK';
    const parts: string[] = [];
    if (isRequest && uriPath[0] === 'rd') parts.push(uriPath.length === 1 ? 'Register' : e.code === 4 ? 'De-register' : 'Update');
    if (isRequest && uriPath[0] === 'dp') parts.push('Send');
    if (query.length) parts.push(query.join('&'));
    const block = getUintOption(e.options, Opt.Block2) ?? getUintOption(e.options, Opt.Block1);
    if (block !== undefined) {
      const b = decodeBlock(e.options.find((o) => o.number === Opt.Block2 || o.number === Opt.Block1)!.value);
      parts.push(`block ${b.num}${b.more ? '+' : ''} (${blockSize(b.szx)} B)`);
    }
    if (e.payload.length) parts.push(this.payloadSummary(e.payload, format, path));
    return parts.join(' · ');
  }

  private payloadSummary(payload: Buffer, format: number | undefined, path: string): string {
    if (format === ContentFormat.Link || format === undefined) {
      const text = payload.toString('utf8');
      if (/^[\x20-\x7e\r\n\t]*$/.test(text)) return text.length > 100 ? text.slice(0, 100) + '…' : text;
      if (format === undefined) format = detectFormat(payload).format;
    }
    if (payload.length > 8192) return `${payload.length} B ${formatName(format)}`;
    try {
      const p = path && /^(\/\d+){0,4}$/.test(path) ? Lwm2mPath.parse(path) : Lwm2mPath.ROOT;
      const { records } = codecRegistry.decode(format, payload, { path: p, models: this.models });
      if (records.length === 0) return `${payload.length} B ${formatName(format)}`;
      const first = records
        .slice(0, 3)
        .map((r) => {
          const name = r.path.resourceId !== undefined ? this.models.getResource(r.path.objectId!, r.path.resourceId)?.name : undefined;
          const v = r.value instanceof Uint8Array ? `0x${formatValue(r.value).slice(0, 16)}` : formatValue(r.value);
          return `${name ?? r.path.toString()}=${v.length > 40 ? v.slice(0, 40) + '…' : v}`;
        })
        .join(', ');
      return records.length > 3 ? `${first} … (${records.length} values)` : first;
    } catch (err) {
      return `${payload.length} B ${formatName(format)} (not decodable: ${(err as Error).message.slice(0, 80)})`;
    }
  }

  private detail(seq: number): TrafficDetail | undefined {
    const k = this.kept.get(seq);
    if (!k) return undefined;
    const payload = payloadOf(k.entry);
    const detail: TrafficDetail = { seq, options: optionsOf(k.entry), hex: hexDump(payload) };
    const text = Buffer.from(payload).toString('utf8');
    if (payload.length && /^[\x20-\x7e\r\n\t\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd')) detail.text = text;
    if (k.entry.kind === 'malformed') {
      detail.decodeError = k.entry.reason;
      return detail;
    }
    if (payload.length) {
      const format = k.format ?? detectFormat(payload).format;
      detail.format = format;
      try {
        const p = k.path && /^(\/\d+){0,4}$/.test(k.path) ? Lwm2mPath.parse(k.path) : Lwm2mPath.ROOT;
        const { records, notes } = codecRegistry.decode(format, payload, { path: p, models: this.models });
        const doc = recordsToJson(records, { format, path: p, models: this.models });
        detail.decoded = JSON.stringify(notes.length ? { ...doc, notes } : doc, null, 2);
      } catch (err) {
        detail.decodeError = `${formatName(format)}: ${(err as Error).message}`;
      }
    }
    return detail;
  }
}

function payloadOf(e: TrafficEntry): Uint8Array {
  return e.kind === 'malformed' ? e.bytes : e.payload;
}

function optionsOf(e: TrafficEntry): { name: string; value: string }[] {
  if (e.kind === 'malformed') return [];
  return e.options.map((o) => ({ name: optionName(o.number), value: optionText(o) }));
}

const UINT = new Set<number>([Opt.Observe, Opt.UriPort, Opt.MaxAge, Opt.Size1, Opt.Size2]);

function optionText(o: CoapOption): string {
  if (o.number === Opt.ContentFormat || o.number === Opt.Accept) {
    const n = decodeUint(o.value);
    return `${n} (${formatName(n)})`;
  }
  if (UINT.has(o.number)) return String(decodeUint(o.value));
  if (o.number === Opt.Block1 || o.number === Opt.Block2) {
    const b = decodeBlock(o.value);
    return `num ${b.num}, more ${b.more ? 1 : 0}, size ${blockSize(b.szx)}`;
  }
  const text = o.value.toString('utf8');
  return o.value.length > 0 && /^[\x20-\x7e]*$/.test(text) ? text : `0x${o.value.toString('hex')}`;
}

function hexDump(b: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.min(b.length, 64 * 1024); i += 16) {
    const chunk = b.subarray(i, i + 16);
    const hex = [...chunk].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...chunk].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${i.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (b.length > 64 * 1024) lines.push(`… ${b.length - 64 * 1024} more bytes`);
  return lines.join('\n');
}

function stripRoot(path: string, root: string | undefined): string {
  if (!root || root === '/' || !path.startsWith(root)) return path;
  return path.slice(root.length) || '/';
}

function endpointFromRegister(uriPath: string[], query: string[]): string {
  if (uriPath.length !== 1 || uriPath[0] !== 'rd') return '';
  return query.find((q) => q.startsWith('ep='))?.slice(3) ?? '';
}

function extensionFor(format: number): string {
  switch (format) {
    case ContentFormat.Tlv:
      return 'tlv';
    case ContentFormat.SenmlJson:
      return 'senml.json';
    case ContentFormat.SenmlCbor:
      return 'senml.cbor';
    case ContentFormat.Lwm2mCbor:
      return 'lwm2m.cbor';
    case ContentFormat.Lwm2mJson:
      return 'lwm2m.json';
    case ContentFormat.Cbor:
      return 'cbor';
    case ContentFormat.Link:
      return 'link';
    case ContentFormat.Text:
      return 'txt';
    default:
      return 'bin';
  }
}
