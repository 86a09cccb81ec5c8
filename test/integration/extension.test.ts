import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Lwm2mWorkbenchApi } from '../../src/vscode/extension';

const EXTENSION_ID = 'lwm2m-workbench.lwm2m-workbench';

async function activate(): Promise<Lwm2mWorkbenchApi> {
  const ext = vscode.extensions.getExtension<Lwm2mWorkbenchApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext.activate();
}

describe('LwM2M Workbench extension', () => {
  it('is not active before its view or a command is used (no "*" activation)', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*'), 'activationEvents must not contain "*"');
  });

  it('activates and returns its API', async () => {
    const api = await activate();
    assert.ok(api.controller, 'API exposes the server controller');
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)!.isActive, true);
  });

  it('registers every contributed command, all in the LwM2M category', async () => {
    await activate();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed: { command: string; category?: string }[] = ext.packageJSON.contributes.commands;
    assert.ok(contributed.length >= 6);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of contributed) {
      assert.ok(registered.has(c.command), `${c.command} is registered`);
      assert.equal(c.category, 'LwM2M', `${c.command} is in the LwM2M category`);
    }
  });

  it('resolves the Clients view in the LwM2M container', async () => {
    await activate();
    await vscode.commands.executeCommand('workbench.view.extension.lwm2m');
    await vscode.commands.executeCommand('lwm2m.clients.focus');
    const api = await activate();
    assert.deepEqual(await Promise.resolve(api.tree.getChildren()), [], 'no clients before any registration');
  });

  it('runs Start Server and reports a state', async () => {
    const api = await activate();
    const states: string[] = [];
    const sub = api.controller.onDidChangeState((s) => states.push(s.kind));
    try {
      await vscode.commands.executeCommand('lwm2m.startServer');
      assert.ok(states.length > 0, 'state changed after Start Server');
      await vscode.commands.executeCommand('lwm2m.stopServer');
      assert.equal(api.controller.state.kind, 'stopped');
    } finally {
      sub.dispose();
    }
  });
});
