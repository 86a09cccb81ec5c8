import { findNodeAtLocation, parseTree, type Node as JsonNode } from 'jsonc-parser';
import * as vscode from 'vscode';
import { BootstrapConfigError, mergeConfigs, parseConfigText, type BootstrapConfig, type ConfigProblem, type EndpointConfig } from '../core/bootstrap/config';
import { readSettings } from './config';
import { Disposable } from './dispose';

type Part = { file: string; problems: ConfigProblem[]; default?: EndpointConfig; endpoints: Map<string, EndpointConfig> };

/**
 * The bootstrap server's per-endpoint configurations, read from the workspace files named by
 * `lwm2m.bootstrap.configFiles` (src/core/bootstrap/config.ts validates them). Problems become
 * diagnostics on the JSON field they concern; files are reloaded when they change. A file with
 * problems is left out, the others still serve. Nothing is read in an untrusted workspace.
 */
export class BootstrapConfigs extends Disposable {
  private readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('lwm2m-bootstrap'));
  private readonly onDidChangeEmitter = this.register(new vscode.EventEmitter<BootstrapConfig>());
  /** A new configuration was loaded (files changed, or settings). */
  readonly onDidChange = this.onDidChangeEmitter.event;
  private watchers: vscode.Disposable[] = [];
  private currentValue: BootstrapConfig = { endpoints: new Map(), default: undefined };
  private filesValue: string[] = [];
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.register({ dispose: () => this.unwatch() });
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lwm2m.bootstrap.configFiles')) this.scheduleReload();
      }),
    );
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleReload()));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.scheduleReload()));
  }

  /** The configuration last loaded. */
  get current(): BootstrapConfig {
    return this.currentValue;
  }

  /** The files it came from (those that exist). */
  get files(): readonly string[] {
    return this.filesValue;
  }

  /** The configured files as URIs: relative paths against each workspace folder, absolute ones as they are. */
  private locations(): vscode.Uri[] {
    const out: vscode.Uri[] = [];
    for (const entry of readSettings().bootstrapConfigFiles) {
      if (!entry.trim()) continue;
      if (entry.startsWith('/') || /^[A-Za-z]:[\\/]/.test(entry)) out.push(vscode.Uri.file(entry));
      else for (const folder of vscode.workspace.workspaceFolders ?? []) out.push(vscode.Uri.joinPath(folder.uri, entry));
    }
    return out;
  }

  /** Reads, validates and merges the files; returns the new configuration. */
  async reload(): Promise<BootstrapConfig> {
    this.unwatch();
    this.diagnostics.clear();
    if (!vscode.workspace.isTrusted) {
      this.set({ endpoints: new Map(), default: undefined }, []);
      return this.currentValue;
    }
    const texts = new Map<string, { uri: vscode.Uri; text: string }>();
    const parts: Part[] = [];
    for (const uri of this.locations()) {
      this.watch(uri);
      let text: string;
      try {
        text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch {
        continue; // Not there (the default path usually is not): nothing to serve from it.
      }
      texts.set(uri.fsPath, { uri, text });
      parts.push({ file: uri.fsPath, ...parseConfigText(text, uri.fsPath) });
    }
    const problems: ConfigProblem[] = parts.flatMap((p) => p.problems);
    // Files with problems are left out; of the rest, one that clashes with those before it too.
    const accepted: Part[] = [];
    for (const part of parts.filter((p) => p.problems.length === 0)) {
      try {
        mergeConfigs([...accepted, part]);
        accepted.push(part);
      } catch (err) {
        if (err instanceof BootstrapConfigError) problems.push(...err.problems);
        else throw err;
      }
    }
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const p of problems) {
      const source = texts.get(p.file);
      const list = byFile.get(p.file) ?? [];
      list.push(diagnosticOf(p, source?.text ?? ''));
      byFile.set(p.file, list);
    }
    for (const [file, list] of byFile) this.diagnostics.set(texts.get(file)?.uri ?? vscode.Uri.file(file), list);
    for (const p of problems) this.log.warn(`bootstrap configuration ${p.file}: ${p.field || '/'}: ${p.message}`);
    this.set(mergeConfigs(accepted), accepted.map((p) => p.file));
    return this.currentValue;
  }

  private set(config: BootstrapConfig, files: string[]): void {
    this.currentValue = config;
    this.filesValue = files;
    const n = config.endpoints.size;
    if (files.length > 0) this.log.info(`bootstrap configuration: ${n} endpoint${n === 1 ? '' : 's'}${config.default ? ' and a default' : ''} from ${files.join(', ')}`);
    this.onDidChangeEmitter.fire(config);
  }

  private watch(uri: vscode.Uri): void {
    const folder = vscode.Uri.joinPath(uri, '..');
    const name = uri.path.slice(uri.path.lastIndexOf('/') + 1);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, name));
    const changed = () => this.scheduleReload();
    this.watchers.push(watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed), watcher.onDidDelete(changed));
  }

  private unwatch(): void {
    for (const w of this.watchers.splice(0)) w.dispose();
  }

  private scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      this.reload().catch((err: Error) => this.log.error(`bootstrap configuration: ${err.message}`));
    }, 150);
  }
}

/** A problem as a diagnostic on the JSON value its pointer names (the whole first line when it cannot be found). */
function diagnosticOf(p: ConfigProblem, text: string): vscode.Diagnostic {
  let range = new vscode.Range(0, 0, 0, Math.max(1, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n')));
  const m = /at line (\d+), column (\d+)/.exec(p.message);
  if (m) {
    const line = Number(m[1]) - 1;
    const col = Number(m[2]) - 1;
    range = new vscode.Range(line, col, line, col + 1);
  } else if (p.field) {
    const node = nodeAt(text, p.field);
    if (node) range = rangeOf(text, node);
  }
  const d = new vscode.Diagnostic(range, `${p.field ? `${p.field}: ` : ''}${p.message}`, vscode.DiagnosticSeverity.Error);
  d.source = 'LwM2M bootstrap';
  return d;
}

/** The JSON node of a pointer, or of its nearest existing parent (a missing field is reported on its object). */
function nodeAt(text: string, pointer: string): JsonNode | undefined {
  const root = parseTree(text);
  if (!root) return undefined;
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, segments.slice(0, n));
    if (node) {
      // A property's value: point at its key too (the parent is the property node).
      return node.parent?.type === 'property' ? node.parent : node;
    }
  }
  return undefined;
}

function rangeOf(text: string, node: JsonNode): vscode.Range {
  const pos = (offset: number): vscode.Position => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length - 1;
    return new vscode.Position(line, offset - (before.lastIndexOf('\n') + 1));
  };
  // Objects and arrays: their first line only, so the squiggle stays readable.
  const end = node.type === 'object' || node.type === 'array' ? Math.min(node.offset + node.length, text.indexOf('\n', node.offset) < 0 ? node.offset + node.length : text.indexOf('\n', node.offset)) : node.offset + node.length;
  return new vscode.Range(pos(node.offset), pos(Math.max(end, node.offset + 1)));
}
