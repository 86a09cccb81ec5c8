/**
 * The custom document behind the payload inspector: the payload bytes, how they are read
 * (content format and base path) and the decoded analysis. Every edit replaces the bytes with
 * the re-encoded records, so undo/redo, save, revert and backup all work on bytes.
 */
import * as vscode from 'vscode';
import { ContentFormat, canonicalFormat, formatName } from '../../core/contentFormat';
import { Lwm2mPath, PathError } from '../../core/path';
import { packTable, type PackedTable } from '../../common/pack';
import { firstPart, partCut, restPart, type PartCut, type StateHead } from '../../common/parts';
import { RequestError, type InspectorState, type StateRest } from '../../common/protocol';
import { Disposable } from '../dispose';
import { RELATIVE_FORMATS, analyze, chooseFormat, formatChoices, formatLabel, guessTlvBasePath, type Analysis, type InspectorModels } from './analyze';
import { applyEdit, EditProblem, encodeRecords, type ResolvedEdit } from './edits';
import { decodeBackup, encodeBackup, type PayloadSettings } from './backup';

export type { PayloadSettings } from './backup';

/** What other code passes when it opens bytes (traffic log, Decode Hex…). */
export interface PayloadHints {
  format?: number;
  path?: string;
  title?: string;
}

/**
 * A plain Uint8Array that owns its buffer: VS Code transfers typed arrays to webviews as binary
 * only when their constructor is a standard typed array (not Node's Buffer), and it sends the
 * whole underlying ArrayBuffer, so views into bigger buffers are copied.
 */
function plainBytes(b: Uint8Array): Uint8Array {
  if (b.constructor === Uint8Array && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  return new Uint8Array(b);
}

function parsePath(text: string): Lwm2mPath | undefined {
  try {
    return Lwm2mPath.parse(text);
  } catch {
    return undefined;
  }
}

export interface DocumentDeps {
  models: () => InspectorModels;
  /** Settings remembered for this file, if any (format chosen by the user, base path). */
  remembered?: Partial<PayloadSettings>;
  remember?: (uri: vscode.Uri, settings: PayloadSettings) => void;
  hints?: PayloadHints;
}

export class PayloadDocument extends Disposable implements vscode.CustomDocument {
  private readonly onDidChangeStateEmitter = this.register(new vscode.EventEmitter<void>());
  /** Fires after anything the webview shows changed (edit, undo, revert, format, base path). */
  readonly onDidChangeState = this.onDidChangeStateEmitter.event;
  private readonly onDidEditEmitter = this.register(new vscode.EventEmitter<vscode.CustomDocumentEditEvent<PayloadDocument>>());
  /** Undoable edits, forwarded by the provider to VS Code. */
  readonly onDidEdit = this.onDidEditEmitter.event;
  private readonly onDidDisposeEmitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this.onDidDisposeEmitter.event;

  private bytesNow: Uint8Array;
  private settingsNow: PayloadSettings;
  private analysisNow: Analysis | undefined;
  private packedNow: PackedTable | undefined;
  /** This revision's state as posted: where it is cut, its first part and (packed when asked) its rest. */
  private cutNow: { cut: PartCut | undefined } | undefined;
  private firstNow: InspectorState | undefined;
  private restNow: StateRest | undefined;
  private analyzeMsNow = 0;
  private revisionNow = 1;
  /** Bytes as last read from or written to disk (to tell our own saves from outside changes). */
  private diskBytes: Uint8Array | undefined;
  /** Edits since the last save (undo subtracts, redo adds); 0 = clean. */
  private editDepth = 0;

  private constructor(
    readonly uri: vscode.Uri,
    bytes: Uint8Array,
    settings: PayloadSettings,
    private readonly deps: DocumentDeps,
  ) {
    super();
    this.bytesNow = plainBytes(bytes);
    this.settingsNow = settings;
  }

  static async create(uri: vscode.Uri, context: vscode.CustomDocumentOpenContext, deps: DocumentDeps, initial?: Uint8Array): Promise<PayloadDocument> {
    let bytes: Uint8Array;
    let settings: PayloadSettings | undefined;
    let fromDisk = false;
    if (context.backupId) {
      const restored = decodeBackup(await vscode.workspace.fs.readFile(vscode.Uri.parse(context.backupId)));
      bytes = restored.bytes;
      settings = restored.settings;
    } else if (initial) bytes = initial;
    else if (context.untitledDocumentData) bytes = context.untitledDocumentData;
    else if (uri.scheme === 'untitled') bytes = new Uint8Array(0);
    else {
      bytes = await vscode.workspace.fs.readFile(uri);
      fromDisk = true;
    }
    settings ??= PayloadDocument.initialSettings(uri, bytes, deps);
    const doc = new PayloadDocument(uri, bytes, settings, deps);
    if (fromDisk) doc.diskBytes = bytes;
    if (context.backupId) doc.editDepth = 1;
    return doc;
  }

  private static initialSettings(uri: vscode.Uri, bytes: Uint8Array, deps: DocumentDeps): PayloadSettings {
    const name = uri.path.slice(uri.path.lastIndexOf('/') + 1);
    const hints = deps.hints ?? {};
    const remembered = deps.remembered ?? {};
    let format: number;
    let formatReason: string;
    let formatChosen = false;
    if (hints.format !== undefined) {
      format = canonicalFormat(hints.format);
      formatReason = 'given with the payload (Content-Format)';
    } else if (remembered.formatChosen && remembered.format !== undefined) {
      format = remembered.format;
      formatReason = 'chosen by you for this file';
      formatChosen = true;
    } else ({ format, reason: formatReason } = chooseFormat(name, bytes));
    const settings: PayloadSettings = { format, formatReason, formatChosen, basePath: '/', basePathReason: '' };
    const hinted = hints.path !== undefined ? parsePath(hints.path) : undefined;
    if (hinted) {
      settings.basePath = hinted.toString();
      settings.basePathReason = 'the request path of the message';
    } else if (remembered.basePath !== undefined) {
      settings.basePath = remembered.basePath;
      settings.basePathReason = 'set by you for this file';
    } else PayloadDocument.defaultBasePath(settings, bytes, deps.models(), name);
    return settings;
  }

  /** Fills in a base path for formats that need one and have none. */
  private static defaultBasePath(s: PayloadSettings, bytes: Uint8Array, models: InspectorModels, fileName = ''): void {
    if (!RELATIVE_FORMATS.has(s.format)) {
      s.basePathReason = 'not used: this format names its own paths';
      return;
    }
    if (s.format === ContentFormat.Tlv) {
      const guess = guessTlvBasePath(bytes, models, fileName);
      if (guess) {
        s.basePath = guess.path.toString();
        s.basePathReason = guess.reason;
        return;
      }
    }
    s.basePathReason = `${formatName(s.format)} carries no paths: set the ${s.format === ContentFormat.Tlv ? 'object or instance' : 'resource'} it belongs to`;
  }

  get bytes(): Uint8Array {
    return this.bytesNow;
  }
  get settings(): PayloadSettings {
    return { ...this.settingsNow };
  }
  get revision(): number {
    return this.revisionNow;
  }
  get isDirty(): boolean {
    return this.editDepth !== 0;
  }
  get basePath(): Lwm2mPath {
    try {
      return Lwm2mPath.parse(this.settingsNow.basePath);
    } catch {
      return Lwm2mPath.ROOT;
    }
  }

  get analysis(): Analysis {
    if (!this.analysisNow) {
      const started = performance.now();
      try {
        this.analysisNow = analyze({ bytes: this.bytesNow, format: this.settingsNow.format, basePath: this.basePath, models: this.deps.models() });
      } catch (e) {
        // a bug in the inspector must not leave the webview waiting: show it as the error
        const message = e instanceof Error ? e.message : String(e);
        const empty = analyze({ bytes: new Uint8Array(0), format: ContentFormat.Opaque, basePath: Lwm2mPath.parse('/0/0/0') });
        this.analysisNow = { ...empty, records: [], error: { message, offset: 0, expected: 'a payload the inspector can show', found: message, context: [0, 0] } };
      }
      this.analyzeMsNow = performance.now() - started;
    }
    return this.analysisNow;
  }

  /** Milliseconds the last analysis took. */
  get analyzeMs(): number {
    return Math.round(this.analyzeMsNow * 10) / 10;
  }

  private packed(): PackedTable {
    return (this.packedNow ??= packTable(this.analysis.nodes));
  }

  get title(): string {
    if (this.deps.hints?.title) return this.deps.hints.title;
    return this.uri.path.slice(this.uri.path.lastIndexOf('/') + 1);
  }

  /** Why values cannot be edited now, or undefined when they can. */
  get readonlyReason(): string | undefined {
    const a = this.analysis;
    if (a.error) return 'the payload does not decode completely: fix the format or base path, or the bytes';
    return undefined;
  }

  /** The state the webview shows, whole (for tests and other readers: the webview gets `parts()`). */
  state(): InspectorState {
    const a = this.analysis;
    return { ...this.head(), bytes: this.bytesNow, byteLength: this.bytesNow.length, nodes: this.packed(), segments: a.segments };
  }

  private cut(): PartCut | undefined {
    const a = this.analysis;
    return (this.cutNow ??= { cut: partCut(a.nodes, this.bytesNow, a.segments) }).cut;
  }

  /**
   * The state as its first message carries it to the webview: whole, or for a large payload the
   * first screen of rows and bytes (`rest()` then has the others). Built once per revision;
   * `sentAt` is set when posted.
   */
  firstPart(): InspectorState {
    const a = this.analysis;
    return (this.firstNow ??= firstPart(this.head(), a.nodes, this.bytesNow, a.segments, this.cut()));
  }

  /** The rest of a large payload's state (undefined when the first part holds all of it). */
  rest(): StateRest | undefined {
    const cut = this.cut();
    if (!cut) return undefined;
    const a = this.analysis;
    return (this.restNow ??= restPart(this.revisionNow, a.nodes, this.bytesNow, a.segments, cut));
  }

  private head(): StateHead {
    const a = this.analysis;
    const s = this.settingsNow;
    const readonlyReason = this.readonlyReason;
    const state: StateHead = {
      revision: this.revisionNow,
      title: this.title,
      format: s.format,
      formatName: formatLabel(s.format),
      formatReason: s.formatReason,
      formatChosen: s.formatChosen,
      formats: formatChoices(),
      basePath: s.basePath,
      usesBasePath: RELATIVE_FORMATS.has(s.format),
      basePathReason: s.basePathReason,
      notes: a.notes,
      editable: readonlyReason === undefined,
      analyzeMs: this.analyzeMs,
      sentAt: Date.now(),
    };
    if (a.error) state.error = a.error;
    if (readonlyReason) state.readonlyReason = readonlyReason;
    return state;
  }

  private changed(): void {
    this.analysisNow = undefined;
    this.packedNow = undefined;
    this.cutNow = undefined;
    this.firstNow = undefined;
    this.restNow = undefined;
    this.revisionNow++;
    this.onDidChangeStateEmitter.fire();
  }

  private setBytes(bytes: Uint8Array): void {
    this.bytesNow = plainBytes(bytes);
    this.changed();
  }

  /** Reads the same bytes in another content format (not an edit: nothing to save). */
  setFormat(format: number): void {
    const f = canonicalFormat(format);
    if (!formatChoices().some((c) => c.format === f)) throw new RequestError(`content format ${format} is not supported`, 'invalid');
    const s = this.settingsNow;
    s.format = f;
    s.formatReason = 'chosen by you';
    s.formatChosen = true;
    if (RELATIVE_FORMATS.has(f) && (s.basePathReason.startsWith('not used') || this.basePath.isRoot())) {
      s.basePath = '/';
      PayloadDocument.defaultBasePath(s, this.bytesNow, this.deps.models(), this.title);
    } else if (!RELATIVE_FORMATS.has(f)) s.basePathReason = 'not used: this format names its own paths';
    this.deps.remember?.(this.uri, { ...s });
    this.changed();
  }

  setBasePath(text: string): void {
    let path: Lwm2mPath;
    try {
      path = Lwm2mPath.parse(text);
    } catch (e) {
      throw new RequestError(e instanceof PathError ? e.message : String(e), 'invalid');
    }
    this.settingsNow.basePath = path.toString();
    this.settingsNow.basePathReason = 'set by you';
    this.deps.remember?.(this.uri, { ...this.settingsNow });
    this.changed();
  }

  /** Applies an edit; returns the path to select. Throws RequestError for rejected edits. */
  edit(edit: ResolvedEdit): string | undefined {
    const reason = this.readonlyReason;
    if (reason) throw new RequestError(`cannot edit: ${reason}`, 'invalid');
    const a = this.analysis;
    const s = this.settingsNow;
    const models = this.deps.models();
    let bytes: Uint8Array;
    let outcome;
    try {
      outcome = applyEdit({ records: a.records, nodes: a.nodes, rowPaths: a.rowPaths, format: s.format, basePath: this.basePath, models }, edit);
      bytes = encodeRecords(outcome.records, s.format, this.basePath, models);
    } catch (e) {
      if (e instanceof EditProblem) throw new RequestError(e.message, 'invalid');
      throw e;
    }
    const before = this.bytesNow;
    const after = plainBytes(bytes);
    this.editDepth++;
    this.setBytes(after);
    this.onDidEditEmitter.fire({
      document: this,
      label: outcome.label,
      undo: () => {
        this.editDepth--;
        this.setBytes(before);
      },
      redo: () => {
        this.editDepth++;
        this.setBytes(after);
      },
    });
    return outcome.select;
  }

  async save(cancellation?: vscode.CancellationToken): Promise<void> {
    await this.saveAs(this.uri, cancellation);
    this.diskBytes = this.bytesNow;
    this.editDepth = 0;
  }

  async saveAs(target: vscode.Uri, cancellation?: vscode.CancellationToken): Promise<void> {
    if (cancellation?.isCancellationRequested) return;
    await vscode.workspace.fs.writeFile(target, this.bytesNow);
    if (target.toString() !== this.uri.toString()) this.deps.remember?.(target, { ...this.settingsNow });
  }

  async revert(): Promise<void> {
    const bytes = this.uri.scheme === 'untitled' ? (this.diskBytes ?? new Uint8Array(0)) : await vscode.workspace.fs.readFile(this.uri);
    this.diskBytes = bytes;
    this.editDepth = 0;
    this.setBytes(bytes);
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(destination, '..'));
    await vscode.workspace.fs.writeFile(destination, encodeBackup(this.bytesNow, this.settingsNow));
    return {
      id: destination.toString(),
      delete: () => void vscode.workspace.fs.delete(destination).then(undefined, () => undefined),
    };
  }

  /** The file changed on disk: reload when there are no unsaved edits and it is not our own save. */
  async reloadFromDisk(): Promise<boolean> {
    if (this.isDirty || this.uri.scheme === 'untitled') return false;
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(this.uri);
    } catch {
      return false;
    }
    const same = (a: Uint8Array | undefined, b: Uint8Array) => !!a && a.length === b.length && a.every((x, i) => x === b[i]);
    if (same(this.diskBytes, bytes) || same(this.bytesNow, bytes)) return false;
    this.diskBytes = bytes;
    this.setBytes(bytes);
    return true;
  }

  override dispose(): void {
    this.onDidDisposeEmitter.fire();
    super.dispose();
  }
}
