// Activation, contributions and auto-start. A root hook points the server at a free port of
// 127.0.0.1 before anything activates the extension (the default 5683 may be taken on CI).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activate, EXTENSION_ID, waitFor } from './lwm2mHelpers';

before(async () => {
  const c = vscode.workspace.getConfiguration('lwm2m');
  await c.update('server.port', 0, vscode.ConfigurationTarget.Global);
  await c.update('server.bindAddress', '127.0.0.1', vscode.ConfigurationTarget.Global);
  await c.update('server.autoStart', true, vscode.ConfigurationTarget.Global);
  await c.update('requests.timeout', 10, vscode.ConfigurationTarget.Global);
});

describe('LwM2M Workbench extension', () => {
  it('is not active before its view or a command is used (no "*" activation)', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*'), 'activationEvents must not contain "*"');
  });

  it('activates, returns its API and auto-starts the server (trusted workspace, lwm2m.server.autoStart)', async () => {
    const api = await activate();
    assert.ok(api.controller, 'API exposes the server controller');
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)!.isActive, true);
    assert.equal(vscode.workspace.isTrusted, true);
    const state = await waitFor('the auto-started server', () => (api.controller.state.kind === 'running' ? api.controller.state : undefined));
    assert.ok(state.port > 0, 'listening on a port the system chose (lwm2m.server.port = 0)');
    assert.equal(state.address, '127.0.0.1');
  });

  it('registers every contributed command, all in the LwM2M category, each with a title', async () => {
    await activate();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed: { command: string; category?: string; title: string }[] = ext.packageJSON.contributes.commands;
    assert.ok(contributed.length >= 30);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of contributed) {
      assert.ok(registered.has(c.command), `${c.command} is registered`);
      assert.equal(c.category, 'LwM2M', `${c.command} is in the LwM2M category`);
      assert.ok(c.title.length > 0);
    }
  });

  it('describes every setting it reads', () => {
    const props: Record<string, { description?: string; markdownDescription?: string }> = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.configuration.properties;
    for (const key of [
      'lwm2m.server.autoStart',
      'lwm2m.server.port',
      'lwm2m.server.securePort',
      'lwm2m.server.bindAddress',
      'lwm2m.requests.timeout',
      'lwm2m.requests.singleValueFormat',
      'lwm2m.requests.multiValueFormat',
      'lwm2m.requests.blockSize',
      'lwm2m.models.folders',
      'lwm2m.trafficLog.size',
      'lwm2m.history.size',
    ]) {
      assert.ok(props[key], `${key} is contributed`);
      assert.ok((props[key].description ?? props[key].markdownDescription ?? '').length > 20, `${key} has a description`);
    }
  });

  it('resolves the Clients and Observations views in the LwM2M container', async () => {
    const api = await activate();
    await vscode.commands.executeCommand('workbench.view.extension.lwm2m');
    await vscode.commands.executeCommand('lwm2m.clients.focus');
    assert.ok(Array.isArray(api.tree.getChildren()));
    assert.deepEqual(api.observations.getChildren(), []);
    assert.equal(api.treeView.visible, true);
  });
});
