import * as path from 'node:path';
import * as vscode from 'vscode';
import { createModelRegistry } from '../core/model/bundled';
import { parseDdf } from '../core/model/ddf';
import type { ModelRegistry } from '../core/model/registry';
import { readSettings } from './config';
import { Disposable } from './dispose';

/**
 * Object models: the bundled ones plus the DDF XML files of the workspace's model folders
 * (`lwm2m.models.folders`), hot-reloaded when they change; their problems are diagnostics in
 * the XML files. Nothing is loaded from an untrusted workspace.
 */
export class ModelService extends Disposable {
  readonly registry: ModelRegistry = createModelRegistry();
  private readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('lwm2m-models'));
  private readonly onDidChangeEmitter = this.register(new vscode.EventEmitter<void>());
  /** Models were added, changed or removed. */
  readonly onDidChange = this.onDidChangeEmitter.event;
  private watchers: vscode.Disposable[] = [];
  /** Files loaded, by fsPath → number of models. */
  private readonly loaded = new Map<string, number>();
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.register({ dispose: () => this.watchers.forEach((w) => w.dispose()) });
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lwm2m.models.folders')) void this.reloadAll();
      }),
    );
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.reloadAll()));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reloadAll()));
  }

  /** Files currently contributing models (fsPath → model count). */
  get files(): ReadonlyMap<string, number> {
    return this.loaded;
  }

  /** (Re)loads every model folder and sets up the watchers. */
  reloadAll(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReloadAll());
    return this.reloading;
  }

  private folders(): vscode.Uri[] {
    const out: vscode.Uri[] = [];
    for (const f of readSettings().modelFolders) {
      if (path.isAbsolute(f)) out.push(vscode.Uri.file(f));
      else for (const ws of vscode.workspace.workspaceFolders ?? []) out.push(vscode.Uri.joinPath(ws.uri, f));
    }
    return out;
  }

  private async doReloadAll(): Promise<void> {
    this.watchers.forEach((w) => w.dispose());
    this.watchers = [];
    for (const file of [...this.loaded.keys()]) this.registry.remove(file);
    this.loaded.clear();
    this.diagnostics.clear();
    if (!vscode.workspace.isTrusted) {
      this.onDidChangeEmitter.fire();
      return;
    }
    for (const folder of this.folders()) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*.{xml,XML}'));
      watcher.onDidCreate((u) => void this.loadFile(u, true));
      watcher.onDidChange((u) => void this.loadFile(u, true));
      watcher.onDidDelete((u) => this.unloadFile(u));
      this.watchers.push(watcher);
      for (const uri of await findXml(folder)) await this.loadFile(uri, false);
    }
    if (this.loaded.size) this.log.info(`object models: ${[...this.loaded.values()].reduce((a, b) => a + b, 0)} from ${this.loaded.size} workspace file(s)`);
    this.onDidChangeEmitter.fire();
  }

  /** Loads (or reloads) one DDF file. */
  async loadFile(uri: vscode.Uri, notify = true): Promise<void> {
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch {
      return this.unloadFile(uri);
    }
    const file = uri.fsPath;
    const { models, problems } = parseDdf(text, file);
    this.registry.remove(file);
    this.registry.addAll(models);
    this.loaded.set(file, models.length);
    this.diagnostics.set(
      uri,
      problems.map((p) => {
        const line = Math.max(0, p.line - 1);
        const col = Math.max(0, (p.column ?? 1) - 1);
        const d = new vscode.Diagnostic(new vscode.Range(line, col, line, col + 200), p.message, p.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error);
        d.source = 'LwM2M models';
        return d;
      }),
    );
    this.log.info(`object models: ${path.basename(file)}: ${models.map((m) => `${m.id} ${m.name} v${m.version}`).join(', ') || 'none'}${problems.length ? ` (${problems.length} problem(s))` : ''}`);
    if (notify) this.onDidChangeEmitter.fire();
  }

  private unloadFile(uri: vscode.Uri): void {
    if (this.registry.remove(uri.fsPath) > 0 || this.loaded.has(uri.fsPath)) {
      this.loaded.delete(uri.fsPath);
      this.diagnostics.delete(uri);
      this.onDidChangeEmitter.fire();
    }
  }
}

async function findXml(dir: vscode.Uri, depth = 0): Promise<vscode.Uri[]> {
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(dir);
  } catch {
    return [];
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const out: vscode.Uri[] = [];
  for (const [name, type] of entries) {
    const uri = vscode.Uri.joinPath(dir, name);
    if (type === vscode.FileType.Directory && depth < 8) out.push(...(await findXml(uri, depth + 1)));
    else if (type === vscode.FileType.File && name.toLowerCase().endsWith('.xml')) out.push(uri);
  }
  return out;
}
