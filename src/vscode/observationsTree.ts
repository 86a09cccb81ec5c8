import * as vscode from 'vscode';
import { formatName } from '../core/contentFormat';
import type { ServerObservation } from '../core/server/operations';
import { ContextKeys } from './commands';
import { Disposable } from './dispose';
import { ago, showValue, sparkline } from './present';
import type { ServerController } from './serverController';

export type ObservationsNode =
  | { kind: 'client'; endpoint: string }
  | { kind: 'observation'; endpoint: string; path: string; observation: ServerObservation };

/** The "Observations" view: active observations per client, with attributes, counts and a cancel action. */
export class ObservationsTreeProvider extends Disposable implements vscode.TreeDataProvider<ObservationsNode> {
  private readonly onDidChangeTreeDataEmitter = this.register(new vscode.EventEmitter<undefined>());
  readonly onDidChangeTreeData = this.onDidChangeTreeDataEmitter.event;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly controller: ServerController) {
    super();
    this.register(
      controller.store.onDidChange((c) => {
        if (c.kind === 'observations' || c.kind === 'clients' || c.kind === 'values') this.schedule();
      }),
    );
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  /** Active observations, all clients. */
  count(): number {
    return this.controller.store.list().reduce((n, c) => n + c.observations.size, 0);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void vscode.commands.executeCommand('setContext', ContextKeys.hasObservations, this.count() > 0);
      this.onDidChangeTreeDataEmitter.fire(undefined);
    }, 150);
  }

  getChildren(node?: ObservationsNode): ObservationsNode[] {
    const store = this.controller.store;
    if (!node) return store.list().filter((c) => c.observations.size > 0).map((c) => ({ kind: 'client', endpoint: c.endpoint }));
    if (node.kind !== 'client') return [];
    const c = store.get(node.endpoint);
    return [...(c?.observations.values() ?? [])].map((o) => ({ kind: 'observation', endpoint: node.endpoint, path: o.observation.path.toString(), observation: o.observation }));
  }

  getTreeItem(node: ObservationsNode): vscode.TreeItem {
    const c = this.controller.store.get(node.endpoint);
    if (node.kind === 'client') {
      const item = new vscode.TreeItem(node.endpoint, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `obs\u0000${node.endpoint}`;
      item.description = `${c?.observations.size ?? 0} observation(s)`;
      item.iconPath = new vscode.ThemeIcon('vm-active');
      item.contextValue = 'lwm2m.observationClient';
      return item;
    }
    const info = c?.observations.get(node.observation.id);
    const o = node.observation;
    const label = o.composite ? o.paths.map((p) => p.toString()).join(', ') : o.path.toString();
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `obs\u0000${node.endpoint}\u0000${o.id}`;
    const attrs = c?.attributes.get(o.path.toString());
    const attrText = [info?.attributes, attrs ? Object.entries(attrs).map(([k, v]) => `${k}=${String(v)}`).join('&') : ''].filter(Boolean).join(' ');
    const known = c?.values.get(o.path.toString());
    const spark = sparkline(c?.history.get(o.path.toString()));
    item.description = [
      known ? showValue(known.type, known.value) : '',
      spark,
      `${info?.notifications ?? 0} notif.`,
      info?.lastTime ? ago(info.lastTime) : '',
      attrText,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = new vscode.MarkdownString(
      [
        `**${o.composite ? 'Observe-Composite' : 'Observe'}** ${label} on ${node.endpoint}`,
        '',
        `Token ${o.id} · format ${o.format !== undefined ? formatName(o.format) : 'client default'} · since ${new Date(o.createdAt).toLocaleTimeString()}`,
        '',
        `Notifications: ${info?.notifications ?? 0}${info?.lastTime ? `, last ${ago(info.lastTime)}` : ''}`,
        attrText ? `\n\nAttributes: ${attrText}` : '\n\nAttributes: server defaults (none written on this path)',
      ].join('\n'),
    );
    item.iconPath = new vscode.ThemeIcon('eye', new vscode.ThemeColor('charts.blue'));
    item.contextValue = `lwm2m.observation${o.composite ? ' composite' : ''}${spark ? ' numeric' : ''}`;
    return item;
  }
}
