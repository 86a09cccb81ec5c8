import * as vscode from 'vscode';
import { Disposable } from './dispose';
import type { ServerController } from './serverController';

/** A node of the Clients view. Plain data; the TreeItem is built in getTreeItem. */
export interface ClientNode {
  kind: 'client';
  endpoint: string;
}

export type ClientsTreeNode = ClientNode;

/**
 * The "Clients" view. Empty until clients register: then VS Code shows the welcome content
 * contributed in package.json (viewsWelcome).
 */
export class ClientsTreeProvider extends Disposable implements vscode.TreeDataProvider<ClientsTreeNode> {
  private readonly onDidChangeTreeDataEmitter = this.register(new vscode.EventEmitter<ClientsTreeNode | undefined>());
  readonly onDidChangeTreeData = this.onDidChangeTreeDataEmitter.event;

  constructor(controller: ServerController) {
    super();
    this.register(controller.onDidChangeState(() => this.refresh()));
  }

  refresh(node?: ClientsTreeNode): void {
    this.onDidChangeTreeDataEmitter.fire(node);
  }

  getTreeItem(node: ClientsTreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.endpoint, vscode.TreeItemCollapsibleState.Collapsed);
    item.contextValue = 'lwm2m.client';
    item.iconPath = new vscode.ThemeIcon('device-mobile');
    return item;
  }

  getChildren(): ClientsTreeNode[] {
    return [];
  }
}
