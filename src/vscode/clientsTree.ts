import * as vscode from 'vscode';
import type { ModelLookup, ObjectModel, ResourceModel } from '../core/model/types';
import { Lwm2mPath } from '../core/path';
import type { ClientInfo, StoreChange } from './clientStore';
import { Disposable } from './dispose';
import { ago, showValue, sparkline } from './present';
import type { ServerController } from './serverController';

/** A node of the Clients view. Plain data, cached per (endpoint, path) so single nodes can be refreshed. */
export interface ClientsTreeNode {
  kind: 'client' | 'object' | 'instance' | 'resource' | 'resourceInstance';
  endpoint: string;
  /** `/` for a client node. */
  path: string;
  /** Unique id (also the TreeItem id). */
  id: string;
}

export type ClientNode = ClientsTreeNode & { kind: 'client' };

const KINDS = ['client', 'object', 'instance', 'resource', 'resourceInstance'] as const;

/**
 * The "Clients" view: client → objects → instances → resources → resource instances. Empty until
 * clients register (then VS Code shows the welcome content contributed in package.json).
 * Changes of the ClientStore are batched and refresh only the nodes they touch.
 */
export class ClientsTreeProvider extends Disposable implements vscode.TreeDataProvider<ClientsTreeNode> {
  private readonly onDidChangeTreeDataEmitter = this.register(new vscode.EventEmitter<ClientsTreeNode | ClientsTreeNode[] | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeTreeDataEmitter.event;
  private readonly nodes = new Map<string, ClientsTreeNode>();
  private pending = new Set<ClientsTreeNode>();
  private pendingAll = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** How many refresh events were fired (tests check that single changes stay small). */
  readonly stats = { fired: 0, firedNodes: 0, fullRefreshes: 0 };

  constructor(
    private readonly controller: ServerController,
    private readonly models: ModelLookup,
  ) {
    super();
    this.register(controller.store.onDidChange((c) => this.onStoreChange(c)));
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  refresh(node?: ClientsTreeNode): void {
    if (node) this.pending.add(node);
    else this.pendingAll = true;
    this.schedule();
  }

  /** The cached node of a path (for tests and reveal), creating it when needed. */
  nodeFor(endpoint: string, path: string): ClientsTreeNode {
    const p = path === '/' ? Lwm2mPath.ROOT : Lwm2mPath.parse(path);
    return this.node(KINDS[p.length]!, endpoint, p.toString());
  }

  getParent(node: ClientsTreeNode): ClientsTreeNode | undefined {
    if (node.kind === 'client') return undefined;
    const p = Lwm2mPath.parse(node.path).parent();
    return this.node(KINDS[p.length]!, node.endpoint, p.toString());
  }

  getChildren(node?: ClientsTreeNode): ClientsTreeNode[] {
    const store = this.controller.store;
    if (!node) {
      return store
        .list()
        .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0))
        .map((c) => this.node('client', c.endpoint, '/'));
    }
    const client = store.get(node.endpoint);
    if (!client) return [];
    const path = node.path === '/' ? Lwm2mPath.ROOT : Lwm2mPath.parse(node.path);
    switch (node.kind) {
      case 'client':
        return objectIds(client).map((id) => this.node('object', client.endpoint, `/${id}`));
      case 'object':
        return instanceIds(client, path.objectId!).map((id) => this.node('instance', client.endpoint, `${node.path}/${id}`));
      case 'instance':
        return this.resourceIds(client, path).map((id) => this.node('resource', client.endpoint, `${node.path}/${id}`));
      case 'resource':
        return childIds(client, node.path).map((id) => this.node('resourceInstance', client.endpoint, `${node.path}/${id}`));
      default:
        return [];
    }
  }

  getTreeItem(node: ClientsTreeNode): vscode.TreeItem {
    const client = this.controller.store.get(node.endpoint);
    if (!client) return new vscode.TreeItem(node.endpoint);
    switch (node.kind) {
      case 'client':
        return this.clientItem(node, client);
      case 'object':
        return this.objectItem(node, client);
      case 'instance':
        return this.instanceItem(node, client);
      case 'resource':
        return this.resourceItem(node, client);
      case 'resourceInstance':
        return this.resourceInstanceItem(node, client);
    }
  }

  /** The model of an object as the client announced it (its version), if any. */
  objectModel(client: ClientInfo, objectId: number): ObjectModel | undefined {
    const version = client.registration.objects.find((o) => o.id === objectId)?.version;
    return this.models.getObject(objectId, version);
  }

  resourceModel(client: ClientInfo, objectId: number, resourceId: number): ResourceModel | undefined {
    const version = client.registration.objects.find((o) => o.id === objectId)?.version;
    return this.models.getResource(objectId, resourceId, version);
  }

  // ----- items -----------------------------------------------------------------------------------

  private clientItem(node: ClientsTreeNode, c: ClientInfo): vscode.TreeItem {
    const r = c.registration;
    const item = new vscode.TreeItem(c.endpoint, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.id;
    const addr = r.address.address.includes(':') ? `[${r.address.address}]:${r.address.port}` : `${r.address.address}:${r.address.port}`;
    const secure = r.security === 'PSK';
    item.description = `${c.status === 'registered' ? '' : c.status + ' · '}LwM2M ${r.lwm2mVersion} · ${r.binding}${r.queueMode ? ' (queue)' : ''} · ${secure ? 'DTLS-PSK · ' : ''}${addr}`;
    item.contextValue = `lwm2m.client ${c.status}`;
    item.iconPath =
      c.status === 'sleeping'
        ? new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('disabledForeground'))
        : c.status === 'expired'
          ? new vscode.ThemeIcon('vm-outline', new vscode.ThemeColor('errorForeground'))
          : new vscode.ThemeIcon('vm-active', new vscode.ThemeColor('charts.green'));
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(c.endpoint)}** — ${c.status === 'sleeping' ? '$(debug-pause) sleeping (queue mode)' : c.status}\n\n`);
    md.appendMarkdown(
      [
        `| | |`,
        `|---|---|`,
        `| LwM2M version | ${r.lwm2mVersion} |`,
        `| Binding | ${r.binding}${r.queueMode ? ' (queue mode)' : ''} |`,
        `| Lifetime | ${r.lifetime} s |`,
        `| Address | ${secure ? 'coaps' : 'coap'}://${addr} |`,
        `| Security | ${secure ? `DTLS 1.2, pre-shared key — identity \`${(r.pskIdentity ?? '').replace(/`/g, "'")}\`` : 'NoSec (plain CoAP)'} |`,
        `| Registration | /rd/${r.id} |`,
        `| Registered | ${new Date(r.registeredAt).toLocaleString()} |`,
        `| Last update | ${new Date(r.lastUpdate).toLocaleString()} (${ago(r.lastUpdate)}) |`,
        `| Objects | ${r.objects.length} |`,
        ...(r.contentFormats.length ? [`| Formats (ct) | ${r.contentFormats.join(', ')} |`] : []),
      ].join('\n'),
    );
    item.tooltip = md;
    return item;
  }

  private objectItem(node: ClientsTreeNode, c: ClientInfo): vscode.TreeItem {
    const objectId = Number(node.path.slice(1));
    const announced = c.registration.objects.find((o) => o.id === objectId);
    const model = this.objectModel(c, objectId);
    const item = new vscode.TreeItem(model ? `${model.name}` : `Object ${objectId}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.id;
    const version = announced?.version ?? model?.version ?? '1.0';
    item.description = `/${objectId} · v${version}${model ? '' : ' · no model'}`;
    const observed = this.controller.store.isObservedExactly(c.endpoint, node.path);
    item.contextValue = `lwm2m.object${observed ? ' observed' : ''}${model?.multiple !== false ? ' multiple' : ''}`;
    item.iconPath = new vscode.ThemeIcon(observed ? 'eye' : 'symbol-class', observed ? new vscode.ThemeColor('charts.blue') : undefined);
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMd(model?.name ?? `Object ${objectId}`)}** (${node.path}, version ${version})\n\n${model ? `${escapeMd(model.urn)} · ${model.multiple ? 'multiple' : 'single'} instance · ${model.source === 'bundled' ? 'bundled model' : `model from ${escapeMd(model.source ?? '?')}`}` : 'No object model describes this object: values are shown by id.'}${model?.description ? `\n\n${escapeMd(model.description)}` : ''}`,
    );
    return item;
  }

  private instanceItem(node: ClientsTreeNode, c: ClientInfo): vscode.TreeItem {
    const id = node.path.split('/').pop()!;
    const item = new vscode.TreeItem(`Instance ${id}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.id;
    item.description = node.path;
    const observed = this.controller.store.isObservedExactly(c.endpoint, node.path);
    item.contextValue = `lwm2m.instance${observed ? ' observed' : ''}`;
    item.iconPath = new vscode.ThemeIcon(observed ? 'eye' : 'symbol-object', observed ? new vscode.ThemeColor('charts.blue') : undefined);
    item.tooltip = `${node.path} on ${c.endpoint}`;
    return item;
  }

  private resourceItem(node: ClientsTreeNode, c: ClientInfo): vscode.TreeItem {
    const path = Lwm2mPath.parse(node.path);
    const model = this.resourceModel(c, path.objectId!, path.resourceId!);
    const known = c.values.get(node.path);
    const children = childIds(c, node.path);
    const multiple = model?.multiple ?? children.length > 0;
    const item = new vscode.TreeItem(
      model ? model.name : `Resource ${path.resourceId}`,
      multiple ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    const type = known?.type ?? model?.type ?? 'none';
    const ops = model?.operations ?? 'R';
    const observed = this.controller.store.isObserved(c.endpoint, node.path);
    const history = c.history.get(node.path);
    const value = multiple ? (children.length ? `${children.length} instance${children.length === 1 ? '' : 's'}` : '') : showValue(type, known?.value, model?.units);
    const spark = sparkline(history);
    item.description = [value, spark, `${path.resourceId}${model ? '' : ' · no model'}`].filter((s) => s !== '').join('  ');
    const flags = [ops.includes('R') ? 'readable' : '', ops.includes('W') ? 'writable' : '', ops === 'E' ? 'executable' : '', observed ? 'observed' : '', multiple ? 'multiple' : '', history && history.length > 0 ? 'numeric' : ''].filter(Boolean);
    item.contextValue = `lwm2m.resource ${flags.join(' ')}`;
    item.iconPath = observed
      ? new vscode.ThemeIcon('eye', new vscode.ThemeColor('charts.blue'))
      : ops === 'E'
        ? new vscode.ThemeIcon('zap', new vscode.ThemeColor('charts.yellow'))
        : ops.includes('W')
          ? new vscode.ThemeIcon('edit')
          : ops.includes('R')
            ? new vscode.ThemeIcon('symbol-field')
            : new vscode.ThemeIcon('circle-slash');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(model?.name ?? `Resource ${path.resourceId}`)}** \`${node.path}\`\n\n`);
    md.appendMarkdown(`${type}${model ? ` · ${opsText(ops)} · ${model.multiple ? 'multiple' : 'single'} · ${model.mandatory ? 'mandatory' : 'optional'}` : ' · no model'}`);
    if (model?.units) md.appendMarkdown(` · unit ${escapeMd(model.units)}`);
    if (model?.range) md.appendMarkdown(` · range ${escapeMd(model.range.text)}`);
    if (known && !multiple) md.appendMarkdown(`\n\nValue: \`${showValue(type, known.value, model?.units).replace(/`/g, "'")}\` (${known.source}, ${ago(known.time)})`);
    if (spark) md.appendMarkdown(`\n\nHistory: ${spark} (${history!.length} values)`);
    const attrs = c.attributes.get(node.path);
    if (attrs && Object.keys(attrs).length) md.appendMarkdown(`\n\nAttributes: ${Object.entries(attrs).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
    if (model?.description) md.appendMarkdown(`\n\n${escapeMd(model.description)}`);
    item.tooltip = md;
    return item;
  }

  private resourceInstanceItem(node: ClientsTreeNode, c: ClientInfo): vscode.TreeItem {
    const path = Lwm2mPath.parse(node.path);
    const model = this.resourceModel(c, path.objectId!, path.resourceId!);
    const known = c.values.get(node.path);
    const item = new vscode.TreeItem(`[${path.resourceInstanceId}]`, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    const type = known?.type ?? model?.type ?? 'none';
    item.description = [showValue(type, known?.value, model?.units), sparkline(c.history.get(node.path))].filter(Boolean).join('  ');
    const ops = model?.operations ?? 'R';
    item.contextValue = `lwm2m.resourceInstance${ops.includes('R') ? ' readable' : ''}${ops.includes('W') ? ' writable' : ''}`;
    item.iconPath = new vscode.ThemeIcon('symbol-constant');
    item.tooltip = `${node.path} · ${type}${known ? ` · ${known.source} ${ago(known.time)}` : ''}`;
    return item;
  }

  // ----- structure -------------------------------------------------------------------------------

  private resourceIds(c: ClientInfo, path: Lwm2mPath): number[] {
    const ids = new Set<number>();
    const model = this.objectModel(c, path.objectId!);
    for (const r of model?.resources ?? []) ids.add(r.id);
    const prefix = path.toString() + '/';
    for (const key of c.values.keys()) {
      if (key.startsWith(prefix)) ids.add(Number(key.slice(prefix.length).split('/')[0]));
    }
    return [...ids].sort((a, b) => a - b);
  }

  private node(kind: ClientsTreeNode['kind'], endpoint: string, path: string): ClientsTreeNode {
    const id = `${endpoint}\u0000${path}`;
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, (n = { kind, endpoint, path, id }));
    return n;
  }

  // ----- refresh ---------------------------------------------------------------------------------

  private onStoreChange(c: StoreChange): void {
    switch (c.kind) {
      case 'clients':
        this.pendingAll = true;
        break;
      case 'client': {
        const n = this.nodes.get(`${c.endpoint}\u0000/`);
        if (n) this.pending.add(n);
        break;
      }
      case 'values':
        for (const p of c.paths) this.touch(c.endpoint, p);
        break;
      case 'observations':
        break;
    }
    this.schedule();
  }

  /** The node of a path when it was shown, else its nearest shown ancestor (whose children changed). */
  private touch(endpoint: string, path: string): void {
    let p = path === '/' ? Lwm2mPath.ROOT : Lwm2mPath.parse(path);
    // A resource instance changes its resource's summary too.
    if (p.length === 4) p = p.parent();
    for (;;) {
      const n = this.nodes.get(`${endpoint}\u0000${p.toString()}`);
      if (n) {
        this.pending.add(n);
        return;
      }
      if (p.length === 0) return;
      p = p.parent();
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), 50);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.pendingAll) {
      this.pendingAll = false;
      this.pending.clear();
      this.pruneCache();
      this.stats.fired++;
      this.stats.fullRefreshes++;
      this.onDidChangeTreeDataEmitter.fire(undefined);
      return;
    }
    if (this.pending.size === 0) return;
    const nodes = [...this.pending];
    this.pending = new Set();
    this.stats.fired++;
    this.stats.firedNodes += nodes.length;
    this.onDidChangeTreeDataEmitter.fire(nodes);
  }

  /** Drops cached nodes of clients that are gone. */
  private pruneCache(): void {
    const store = this.controller.store;
    for (const [id, n] of this.nodes) if (!store.get(n.endpoint)) this.nodes.delete(id);
  }
}

function objectIds(c: ClientInfo): number[] {
  const ids = new Set<number>();
  for (const o of c.registration.objects) ids.add(o.id);
  for (const key of c.values.keys()) ids.add(Number(key.split('/')[1]));
  return [...ids].sort((a, b) => a - b);
}

function instanceIds(c: ClientInfo, objectId: number): number[] {
  const ids = new Set<number>(c.registration.objects.find((o) => o.id === objectId)?.instances ?? []);
  const prefix = `/${objectId}/`;
  for (const key of c.values.keys()) if (key.startsWith(prefix)) ids.add(Number(key.slice(prefix.length).split('/')[0]));
  return [...ids].sort((a, b) => a - b);
}

function childIds(c: ClientInfo, resourcePath: string): number[] {
  const ids: number[] = [];
  const prefix = resourcePath + '/';
  for (const key of c.values.keys()) if (key.startsWith(prefix)) ids.push(Number(key.slice(prefix.length)));
  return ids.sort((a, b) => a - b);
}

function opsText(ops: string): string {
  return ops === '' ? 'no operations' : ops === 'E' ? 'executable' : ops === 'RW' ? 'read/write' : ops === 'R' ? 'read-only' : 'write-only';
}

function escapeMd(s: string): string {
  return s.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}
