import * as vscode from 'vscode';
import type { ChartData, FromChartWebview, ToChartWebview } from '../webview/chart/protocol';
import { Disposable } from './dispose';
import type { ServerController } from './serverController';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { readSettings } from './config';

/** A chart of one resource's value history (chart.js webview), live while values arrive, with CSV export. */
export class ChartPanel extends Disposable {
  private static readonly panels = new Map<string, ChartPanel>();
  private readonly panel: vscode.WebviewPanel;
  private ready = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Points the webview last rendered (for tests). */
  renderedPoints = -1;
  private readonly onDidRenderEmitter = this.register(new vscode.EventEmitter<number>());
  readonly onDidRender = this.onDidRenderEmitter.event;

  static show(extensionUri: vscode.Uri, controller: ServerController, endpoint: string, path: string, title: string, units: string): ChartPanel {
    const key = `${endpoint}\u0000${path}`;
    const open = ChartPanel.panels.get(key);
    if (open) {
      open.panel.reveal();
      return open;
    }
    const p = new ChartPanel(extensionUri, controller, endpoint, path, title, units);
    ChartPanel.panels.set(key, p);
    p.register({ dispose: () => ChartPanel.panels.delete(key) });
    return p;
  }

  private constructor(
    extensionUri: vscode.Uri,
    private readonly controller: ServerController,
    readonly endpoint: string,
    readonly path: string,
    private readonly title: string,
    private readonly units: string,
  ) {
    super();
    this.panel = this.register(vscode.window.createWebviewPanel('lwm2m.chart', `${title} · ${endpoint}`, vscode.ViewColumn.Active, webviewOptions(extensionUri)));
    this.panel.iconPath = new vscode.ThemeIcon('graph-line');
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, 'chart', title);
    this.register(this.panel.onDidDispose(() => this.dispose()));
    this.register(this.panel.webview.onDidReceiveMessage((m: FromChartWebview) => void this.onMessage(m)));
    this.register(
      controller.store.onDidChange((c) => {
        if (c.kind === 'values' && c.endpoint === endpoint && c.paths.includes(path)) this.schedule();
      }),
    );
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  data(): ChartData {
    return {
      title: `${this.title} (${this.path})`,
      endpoint: this.endpoint,
      path: this.path,
      units: this.units,
      points: [...(this.controller.store.get(this.endpoint)?.history.get(this.path) ?? [])],
      limit: readSettings().historySize,
    };
  }

  /** The history as CSV: `time,value` with ISO times. */
  csv(): string {
    return ['time,value', ...this.data().points.map((p) => `${new Date(p.time).toISOString()},${p.value}`)].join('\n') + '\n';
  }

  async exportCsv(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        title: 'Export value history as CSV',
        filters: { CSV: ['csv'] },
        defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.cwd()), `${this.endpoint}${this.path.replace(/\//g, '_')}.csv`),
      }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(this.csv()));
    return uri;
  }

  private schedule(): void {
    if (!this.ready || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.post();
    }, 100);
  }

  private post(): Thenable<boolean> {
    const m: ToChartWebview = { type: 'data', data: this.data() };
    return this.panel.webview.postMessage(m);
  }

  private async onMessage(m: FromChartWebview): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      await this.post();
    } else if (m.type === 'exportCsv') await this.exportCsv();
    else if (m.type === 'rendered') {
      this.renderedPoints = m.points;
      this.onDidRenderEmitter.fire(m.points);
    }
  }
}
