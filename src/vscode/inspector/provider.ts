/**
 * The payload inspector's CustomEditorProvider: documents, webview panels, the message protocol
 * (ready handshake, requests with replies), the custom-document contract (edits, undo/redo,
 * save, save as, revert, backup) and the prompts behind edits and conversions.
 */
import * as vscode from 'vscode';
import { canonicalFormat, ContentFormat } from '../../core/contentFormat';
import type { ValueType } from '../../core/node';
import { VALUE_TYPES } from '../../core/node';
import { Lwm2mPath } from '../../core/path';
import {
  handleRequest,
  RequestError,
  type CopyKind,
  type EditOperation,
  type FromWebviewMessage,
  type InspectorState,
  type RenderedInfo,
  type RequestHandlers,
  type RequestMessage,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type ToWebviewMessage,
} from '../../common/protocol';
import { parseValueText, valueText, defaultValue } from '../../common/values';
import { Disposable } from '../dispose';
import { extensionFor, formatChoices, formatLabel, stemOf, type InspectorModels } from './analyze';
import { PayloadDocument, type PayloadHints, type PayloadSettings } from './document';
import { cArray, EditProblem, encodeRecords, hexString, prettyJsonPack, targetBasePath, type ResolvedEdit } from './edits';
import { inspectorHtml, inspectorResourceRoots } from './html';

export const INSPECTOR_VIEW_TYPE = 'lwm2m.payloadInspector';
/** The same editor for any file, offered in "Open With…" (and the default for nothing). */
export const INSPECTOR_ANY_VIEW_TYPE = 'lwm2m.payloadInspector.any';

const SETTINGS_KEY = 'lwm2m.inspector.fileSettings';
const MAX_REMEMBERED = 200;

/** One webview showing a document. */
class InspectorPanel extends Disposable {
  ready = false;
  readonly createdAt = Date.now();
  analysisStartedAt = 0;
  analyzedAt = 0;
  readyAt = 0;
  rendered: RenderedInfo | undefined;
  selection: { row: number; path: string } | undefined;
  private readonly renderWaiters: { revision: number; resolve: (r: RenderedInfo) => void }[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly document: PayloadDocument,
    private readonly handlers: RequestHandlers,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    super();
    this.register(panel.webview.onDidReceiveMessage((m: FromWebviewMessage) => void this.receive(m)));
    this.register(document.onDidChangeState(() => this.sendState()));
  }

  post(m: ToWebviewMessage): void {
    void this.panel.webview.postMessage(m).then(undefined, () => undefined);
  }

  /**
   * Posts the state; a large payload's in two parts: the first screen at once, the rest in a
   * task of its own (packed there unless it was ready), so the first message leaves first.
   */
  sendState(): void {
    if (!this.ready) return;
    const doc = this.document;
    const revision = doc.revision;
    this.post({ type: 'state', state: { ...doc.firstPart(), sentAt: Date.now() } });
    setTimeout(() => {
      if (doc.revision !== revision) return; // a newer state went out meanwhile
      const rest = doc.rest();
      if (rest) this.post({ type: 'stateRest', rest: { ...rest, sentAt: Date.now() } });
    }, 0);
  }

  private async receive(m: FromWebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.readyAt = Date.now();
        this.sendState();
        return;
      case 'rendered':
        if (!this.rendered) this.log?.info(`inspector ${this.document.title}: webview ready after ${this.readyAt - this.createdAt} ms, state ${m.info.transferMs} ms in transit, rendered in ${m.info.renderMs} ms (host analysis ${this.document.analyzeMs} ms)`);
        this.rendered = m.info;
        for (let i = this.renderWaiters.length - 1; i >= 0; i--) {
          const w = this.renderWaiters[i]!;
          if (m.info.revision >= w.revision) {
            this.renderWaiters.splice(i, 1);
            w.resolve(m.info);
          }
        }
        return;
      case 'selection':
        this.selection = { row: m.row, path: m.path };
        return;
      case 'request': {
        const reply = await handleRequest(m, this.handlers);
        if (!reply.ok && reply.error.code === 'failed') this.log?.error(`inspector ${m.method} failed: ${reply.error.message}`);
        this.post(reply);
        return;
      }
    }
  }

  whenRendered(revision: number): Promise<RenderedInfo> {
    if (this.rendered && this.rendered.revision >= revision) return Promise.resolve(this.rendered);
    return new Promise((resolve) => this.renderWaiters.push({ revision, resolve }));
  }
}

/** What the extension (and its tests) can do with the inspector. */
export interface InspectorApi {
  readonly viewType: string;
  /** Opens bytes in a new untitled inspector; resolves with its URI once it is shown. */
  openPayloadInInspector(bytes: Uint8Array, options?: PayloadHints): Promise<vscode.Uri>;
  /** For tests: the state last built for a document, and what its webview rendered. */
  readonly testing: {
    document(uri: vscode.Uri): PayloadDocument | undefined;
    state(uri: vscode.Uri): InspectorState | undefined;
    /** Resolves when a webview of the document has rendered `revision` (default: the current one). */
    whenRendered(uri: vscode.Uri, revision?: number, timeoutMs?: number): Promise<RenderedInfo>;
    /** When the first panel of the document was created and its webview said `ready` (ms since 1970). */
    timings(uri: vscode.Uri): { createdAt: number; analysisStartedAt: number; analyzedAt: number; readyAt: number } | undefined;
    /** Makes a request exactly as the webview does (same handlers, same replies). */
    request<M extends RequestMethod>(uri: vscode.Uri, method: M, params: RequestParams<M>): Promise<RequestResult<M>>;
  };
}

export class PayloadInspectorProvider extends Disposable implements vscode.CustomEditorProvider<PayloadDocument> {
  private readonly onDidChangeEmitter = this.register(new vscode.EventEmitter<vscode.CustomDocumentEditEvent<PayloadDocument>>());
  readonly onDidChangeCustomDocument = this.onDidChangeEmitter.event;

  private readonly documents = new Map<string, PayloadDocument>();
  private readonly panels = new Set<InspectorPanel>();
  private activePanel: InspectorPanel | undefined;
  /** Bytes and hints for untitled documents opened through `openPayloadInInspector`. */
  private readonly pending = new Map<string, { bytes: Uint8Array; hints: PayloadHints }>();
  private untitledCounter = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly getModels: () => InspectorModels,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    super();
  }

  static register(context: vscode.ExtensionContext, getModels: () => InspectorModels, log?: vscode.LogOutputChannel): PayloadInspectorProvider {
    const provider = new PayloadInspectorProvider(context, getModels, log);
    const options = { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true };
    context.subscriptions.push(
      provider,
      vscode.window.registerCustomEditorProvider(INSPECTOR_VIEW_TYPE, provider, options),
      vscode.window.registerCustomEditorProvider(INSPECTOR_ANY_VIEW_TYPE, provider, options),
    );
    return provider;
  }

  private models(): InspectorModels {
    return this.getModels();
  }

  // ----- remembered per-file settings --------------------------------------------------------

  private rememberedSettings(uri: vscode.Uri): Partial<PayloadSettings> | undefined {
    return this.context.workspaceState.get<Record<string, PayloadSettings>>(SETTINGS_KEY, {})[uri.toString()];
  }

  private remember(uri: vscode.Uri, settings: PayloadSettings): void {
    if (uri.scheme === 'untitled') return;
    const all = { ...this.context.workspaceState.get<Record<string, PayloadSettings>>(SETTINGS_KEY, {}) };
    delete all[uri.toString()];
    all[uri.toString()] = settings;
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED))) delete all[k];
    void this.context.workspaceState.update(SETTINGS_KEY, all);
  }

  // ----- CustomEditorProvider -------------------------------------------------------------------

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<PayloadDocument> {
    const pending = this.pending.get(uri.toString());
    const doc = await PayloadDocument.create(
      uri,
      openContext,
      {
        models: () => this.models(),
        remembered: this.rememberedSettings(uri),
        remember: (u, s) => this.remember(u, s),
        hints: pending?.hints,
      },
      pending?.bytes,
    );
    const key = uri.toString();
    this.documents.set(key, doc);
    doc.onDidEdit((e) => this.onDidChangeEmitter.fire(e));
    doc.onDidDispose(() => {
      if (this.documents.get(key) === doc) this.documents.delete(key);
      this.pending.delete(key);
    });
    if (uri.scheme === 'file') {
      const dir = vscode.Uri.joinPath(uri, '..');
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, uri.path.slice(uri.path.lastIndexOf('/') + 1)));
      watcher.onDidChange(() => void doc.reloadFromDisk());
      doc.onDidDispose(() => watcher.dispose());
    }
    return doc;
  }

  async resolveCustomEditor(document: PayloadDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: inspectorResourceRoots(this.context.extensionUri) };
    const session: InspectorPanel = new InspectorPanel(panel, document, this.handlersFor(document, (): InspectorPanel | undefined => session), this.log);
    this.panels.add(session);
    if (panel.active) this.activePanel = session;
    panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.activePanel = session;
      else if (this.activePanel === session) this.activePanel = undefined;
    });
    panel.onDidDispose(() => {
      this.panels.delete(session);
      if (this.activePanel === session) this.activePanel = undefined;
      session.dispose();
    });
    panel.webview.html = inspectorHtml(panel.webview, this.context.extensionUri);
    // Decode while the webview loads, so the state is ready when it says `ready`; the rest of a
    // large payload's state is packed in a later task (a `ready` that arrives first goes first).
    setTimeout(() => {
      session.analysisStartedAt = Date.now();
      void document.firstPart();
      session.analyzedAt = Date.now();
      setTimeout(() => void document.rest(), 0);
    }, 0);
  }

  saveCustomDocument(document: PayloadDocument, cancellation: vscode.CancellationToken): Promise<void> {
    return document.save(cancellation);
  }

  saveCustomDocumentAs(document: PayloadDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Promise<void> {
    return document.saveAs(destination, cancellation);
  }

  revertCustomDocument(document: PayloadDocument): Promise<void> {
    return document.revert();
  }

  backupCustomDocument(document: PayloadDocument, context: vscode.CustomDocumentBackupContext): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  // ----- requests -----------------------------------------------------------------------------

  private handlersFor(doc: PayloadDocument, panel: () => InspectorPanel | undefined): RequestHandlers {
    return {
      edit: async ({ revision, edit }) => {
        if (revision !== doc.revision) throw new RequestError(`the payload changed (revision ${doc.revision}, not ${revision}); try again`, 'stale');
        const resolved = await this.resolveEdit(doc, edit);
        const select = doc.edit(resolved);
        return select === undefined ? { revision: doc.revision } : { revision: doc.revision, select };
      },
      setFormat: ({ format }) => {
        doc.setFormat(format);
        return { revision: doc.revision };
      },
      setBasePath: ({ path }) => {
        doc.setBasePath(path);
        return { revision: doc.revision };
      },
      copy: async ({ as }) => {
        const text = this.copyText(doc, as);
        await vscode.env.clipboard.writeText(text);
        panel()?.post({ type: 'status', text: `Copied ${as === 'hex' ? 'hex' : as === 'c-array' ? 'a C array' : 'SenML JSON'} (${text.length} characters)` });
        return { length: text.length };
      },
      convert: ({ format, target }) => this.convert(doc, format, target),
    };
  }

  private cancelled(): never {
    throw new RequestError('cancelled', 'cancelled');
  }

  /** Asks people for whatever an edit from the webview leaves open. */
  private async resolveEdit(doc: PayloadDocument, edit: EditOperation): Promise<ResolvedEdit> {
    const a = doc.analysis;
    switch (edit.op) {
      case 'setValue':
      case 'remove':
        return edit;
      case 'addInstance': {
        let row = edit.row;
        if (row === undefined) {
          const objects = a.rowPaths.map((p, i) => ({ p, i })).filter((x) => x.p.length === 1);
          if (objects.length === 0) throw new RequestError('there is no object to add an instance to', 'invalid');
          row = objects[0]!.i;
        }
        return edit.id === undefined ? { op: 'addInstance', row } : { op: 'addInstance', row, id: edit.id };
      }
      case 'addResourceInstance':
        return edit;
      case 'addResource': {
        if (edit.resourceId !== undefined) return { op: 'addResource', row: edit.row, resourceId: edit.resourceId, ...(edit.text !== undefined ? { text: edit.text } : {}) };
        const path = a.rowPaths[edit.row];
        if (!path || path.length < 2) throw new RequestError('select an object instance to add a resource to', 'invalid');
        const [o, i] = path.ids as [number, number];
        const instance = new Lwm2mPath([o, i]);
        const present = new Set(a.records.filter((r) => instance.contains(r.path) && r.path.resourceId !== undefined).map((r) => r.path.resourceId!));
        const model = this.models().getObject(o);
        type Pick = vscode.QuickPickItem & { id?: number };
        const items: Pick[] = (model?.resources ?? [])
          .filter((r) => !present.has(r.id) && r.type !== 'none')
          .map((r) => ({ label: `${r.id} ${r.name}`, description: `${r.type}${r.multiple ? ', multiple' : ''}${r.mandatory ? ', mandatory' : ''}${r.units ? `, ${r.units}` : ''}`, id: r.id }));
        items.push({ label: '$(edit) Another resource id…' });
        const pick = await vscode.window.showQuickPick(items, { title: `Add a resource to ${instance}${model ? ` (${model.name})` : ''}`, placeHolder: 'Resource' });
        if (!pick) this.cancelled();
        let resourceId = pick.id;
        if (resourceId === undefined) {
          const text = await vscode.window.showInputBox({
            title: `Add a resource to ${instance}`,
            prompt: 'Resource id (0..65534)',
            validateInput: (v) => (/^\d{1,5}$/.test(v.trim()) && Number(v) < 65535 ? (present.has(Number(v)) ? `${instance}/${Number(v)} already exists` : undefined) : 'a number 0..65534'),
          });
          if (text === undefined) this.cancelled();
          resourceId = Number(text.trim());
        }
        const rmodel = this.models().getResource(o, resourceId);
        let type: ValueType | undefined = rmodel?.type;
        if (!type) {
          const t = await vscode.window.showQuickPick(
            VALUE_TYPES.filter((x) => x !== 'none'),
            { title: `${instance}/${resourceId}: no model describes it`, placeHolder: 'Value type' },
          );
          if (!t) this.cancelled();
          type = t as ValueType;
        }
        const valueType: ValueType = type;
        const initial = valueText(defaultValue(valueType, Date.now() / 1000) ?? null);
        const text = await vscode.window.showInputBox({
          title: `${instance}/${resourceId}${rmodel ? ` ${rmodel.name}` : ''} (${valueType})`,
          prompt: 'Value',
          value: initial,
          validateInput: (v) => {
            const p = parseValueText(valueType, v, rmodel?.range);
            return p.ok ? undefined : p.error;
          },
        });
        if (text === undefined) this.cancelled();
        return { op: 'addResource', row: edit.row, resourceId, text, type: valueType };
      }
    }
  }

  private copyText(doc: PayloadDocument, as: CopyKind): string {
    if (as === 'hex') return hexString(doc.bytes);
    if (as === 'c-array') return cArray(doc.bytes, stemOf(doc.title).replace(/[^A-Za-z0-9_]/g, '_') || 'payload');
    const a = doc.analysis;
    if (a.error) throw new RequestError('the payload does not decode: nothing to copy as SenML JSON', 'invalid');
    try {
      const bytes = canonicalFormat(doc.settings.format) === ContentFormat.SenmlJson ? doc.bytes : encodeRecords(a.records, ContentFormat.SenmlJson, targetBasePath(a.records, ContentFormat.SenmlJson, doc.basePath), this.models());
      return prettyJsonPack(bytes);
    } catch (e) {
      if (e instanceof EditProblem) throw new RequestError(e.message, 'invalid');
      throw e;
    }
  }

  /** Converts a document into another format and writes a new file. */
  async convert(doc: PayloadDocument, format?: number, target?: string): Promise<{ uri?: string }> {
    const a = doc.analysis;
    if (a.error) throw new RequestError('the payload does not decode completely: nothing to convert', 'invalid');
    const current = canonicalFormat(doc.settings.format);
    if (format === undefined) {
      const pick = await vscode.window.showQuickPick(
        formatChoices()
          .filter((f) => f.format !== current && f.format !== ContentFormat.Link)
          .map((f) => ({ label: f.label, description: extensionFor(f.format), format: f.format })),
        { title: `Convert ${doc.title} (${formatLabel(current)}) to…`, placeHolder: 'Content format' },
      );
      if (!pick) this.cancelled();
      format = pick.format;
    }
    let bytes: Uint8Array;
    let base: Lwm2mPath;
    try {
      base = targetBasePath(a.records, format, doc.basePath);
      bytes = encodeRecords(a.records, format, base, this.models());
    } catch (e) {
      if (e instanceof EditProblem) throw new RequestError(`cannot convert to ${formatLabel(format)}: ${e.message}`, 'invalid');
      throw e;
    }
    let uri: vscode.Uri | undefined;
    if (target) uri = vscode.Uri.parse(target);
    else {
      const folder = doc.uri.scheme === 'untitled' ? vscode.workspace.workspaceFolders?.[0]?.uri : vscode.Uri.joinPath(doc.uri, '..');
      const name = stemOf(doc.title) + extensionFor(format);
      uri = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, title: `Convert to ${formatLabel(format)}`, saveLabel: 'Convert' });
      if (!uri) this.cancelled();
    }
    await vscode.workspace.fs.writeFile(uri, bytes);
    this.remember(uri, { format, formatReason: `converted from ${formatLabel(current)}`, formatChosen: true, basePath: base.toString(), basePathReason: `converted from ${doc.title}` });
    if (!target) await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_ANY_VIEW_TYPE);
    return { uri: uri.toString() };
  }

  async pickFormat(doc: PayloadDocument): Promise<void> {
    const current = canonicalFormat(doc.settings.format);
    const pick = await vscode.window.showQuickPick(
      formatChoices().map((f) => ({ label: f.label, description: f.format === current ? 'current' : f.relative ? 'needs a base path' : '', format: f.format })),
      { title: 'Read the payload as…', placeHolder: `now: ${formatLabel(current)} — ${doc.settings.formatReason}` },
    );
    if (pick) doc.setFormat(pick.format);
  }

  async pickBasePath(doc: PayloadDocument): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: 'Base path (the request path the payload belongs to)',
      value: doc.settings.basePath,
      validateInput: (v) => {
        try {
          Lwm2mPath.parse(v);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (text !== undefined) doc.setBasePath(text);
  }

  // ----- for commands and other code ------------------------------------------------------------

  /** The document of the active inspector, if one is focused. */
  get activeDocument(): PayloadDocument | undefined {
    return this.activePanel?.document;
  }

  request<M extends RequestMethod>(doc: PayloadDocument, method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const panel = [...this.panels].find((p) => p.document === doc);
    const handlers = this.handlersFor(doc, () => panel);
    return handleRequest({ type: 'request', id: 0, method, params } as RequestMessage, handlers).then((reply) => {
      if (reply.ok) return reply.result as RequestResult<M>;
      throw new RequestError(reply.error.message, reply.error.code);
    });
  }

  selectIn(doc: PayloadDocument, path: string): void {
    for (const p of this.panels) if (p.document === doc) p.post({ type: 'select', path });
  }

  async openPayload(bytes: Uint8Array, hints: PayloadHints = {}): Promise<vscode.Uri> {
    const n = ++this.untitledCounter;
    const format = hints.format !== undefined ? canonicalFormat(hints.format) : undefined;
    const base = (hints.title ?? 'payload').replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'payload';
    const name = `${base} ${n}${format !== undefined ? extensionFor(format) : '.bin'}`;
    const uri = vscode.Uri.from({ scheme: 'untitled', path: name });
    this.pending.set(uri.toString(), { bytes, hints });
    await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_ANY_VIEW_TYPE);
    return uri;
  }

  api(): InspectorApi {
    return {
      viewType: INSPECTOR_VIEW_TYPE,
      openPayloadInInspector: (bytes, options) => this.openPayload(bytes, options),
      testing: {
        document: (uri) => this.documents.get(uri.toString()),
        state: (uri) => this.documents.get(uri.toString())?.state(),
        whenRendered: (uri, revision, timeoutMs = 15_000) => {
          const doc = this.documents.get(uri.toString());
          const waitFor = async (): Promise<RenderedInfo> => {
            const started = Date.now();
            for (;;) {
              const d = this.documents.get(uri.toString()) ?? doc;
              const panels = [...this.panels].filter((p) => p.document === d);
              if (d && panels.length > 0) return Promise.race(panels.map((p) => p.whenRendered(revision ?? d.revision)));
              if (Date.now() - started > timeoutMs) throw new Error(`no inspector for ${uri.toString()}`);
              await new Promise((r) => setTimeout(r, 20));
            }
          };
          return Promise.race([
            waitFor(),
            new Promise<RenderedInfo>((_, reject) => setTimeout(() => reject(new Error(`the inspector of ${uri.toString()} did not render within ${timeoutMs} ms`)), timeoutMs)),
          ]);
        },
        timings: (uri) => {
          const p = [...this.panels].find((x) => x.document.uri.toString() === uri.toString());
          return p && { createdAt: p.createdAt, analysisStartedAt: p.analysisStartedAt, analyzedAt: p.analyzedAt, readyAt: p.readyAt };
        },
        request: (uri, method, params) => {
          const doc = this.documents.get(uri.toString());
          if (!doc) return Promise.reject(new Error(`no inspector document for ${uri.toString()}`));
          return this.request(doc, method, params);
        },
      },
    };
  }
}
