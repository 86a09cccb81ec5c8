// Shared plumbing of the VS Code experience's extension-host tests.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Lwm2mWorkbenchApi } from '../../src/vscode/extension';

export const EXTENSION_ID = 'lwm2m-workbench.lwm2m-workbench';

export async function activate(): Promise<Lwm2mWorkbenchApi> {
  const ext = vscode.extensions.getExtension<Lwm2mWorkbenchApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext.activate();
}

/** Polls `fn` until it returns a truthy value. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server running on a free port of 127.0.0.1. */
export async function runningServer(api: Lwm2mWorkbenchApi): Promise<number> {
  const state = api.controller.state;
  if (state.kind === 'running') return state.port;
  const s = await vscode.commands.executeCommand<{ kind: string; port?: number }>('lwm2m.startServer', { port: 0, address: '127.0.0.1', quiet: true });
  assert.equal(s?.kind, 'running', `server started: ${JSON.stringify(s)}`);
  return s.port!;
}

/** Starts a simulated device through the command and waits for its registration in the tree's store. */
export async function startDevice(api: Lwm2mWorkbenchApi, endpoint: string, options: Record<string, unknown> = {}): Promise<void> {
  await runningServer(api);
  const endpoints = await vscode.commands.executeCommand<string[]>('lwm2m.startSimulator', { endpoint, ...options });
  assert.deepEqual(endpoints, [endpoint]);
  await waitFor(`${endpoint} registered`, () => api.controller.store.get(endpoint));
}

/** The tree item of a path (after listing the way down, as the view does). */
export function item(api: Lwm2mWorkbenchApi, endpoint: string, path: string): vscode.TreeItem {
  return api.tree.getTreeItem(api.tree.nodeFor(endpoint, path)) as vscode.TreeItem;
}

export function label(i: vscode.TreeItem): string {
  return typeof i.label === 'string' ? i.label : (i.label?.label ?? '');
}

export function iconId(i: vscode.TreeItem): string | undefined {
  return i.iconPath instanceof vscode.ThemeIcon ? i.iconPath.id : undefined;
}

export function workspaceDir(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test run opens a workspace folder');
  return folder.uri;
}
