// Every operation command against a simulated device over real UDP (src/core/sim), through
// the command ids with arguments (as the tree's context menus pass nodes), checking the result,
// what the device saw, and what the Clients / Observations views show.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { SimulatedClient } from '../../src/core/sim';
import type { Lwm2mWorkbenchApi } from '../../src/vscode/extension';
import { activate, iconId, item, label, startDevice, waitFor, workspaceDir } from './lwm2mHelpers';

const EP = 'it-device';

describe('Operations on a simulated device (real UDP)', function () {
  this.timeout(30_000);
  let api: Lwm2mWorkbenchApi;
  let device: SimulatedClient;
  const target = (path: string) => ({ endpoint: EP, path });
  const cmd = <T>(id: string, path: string, options: Record<string, unknown> = {}): Promise<T> => Promise.resolve(vscode.commands.executeCommand<T>(id, target(path), { throwErrors: true, ...options }));

  before(async () => {
    api = await activate();
    await startDevice(api, EP, { tickMs: 200 });
    device = api.simulators.clients().find((c) => c.endpoint === EP)!;
    assert.ok(device);
  });
  after(async () => {
    await vscode.commands.executeCommand('lwm2m.stopSimulator', EP);
  });

  it('shows client → objects (name, id, version) → instances → resources (name, type, R/W/E icons)', async () => {
    const clients = api.tree.getChildren();
    const client = clients.find((n) => n.endpoint === EP);
    assert.ok(client, 'the client node');
    const ci = api.tree.getTreeItem(client);
    assert.equal(label(ci), EP);
    assert.match(String(ci.description), /LwM2M 1\.1 · U · 127\.0\.0\.1:\d+/);
    assert.match((ci.tooltip as vscode.MarkdownString).value, /Lifetime \| 300 s/);
    assert.equal(iconId(ci), 'vm-active');
    const objects = api.tree.getChildren(client).map((n) => n.path);
    assert.deepEqual(objects, ['/1', '/3', '/3303', '/3311'], 'the objects the device announced (not Security)');
    const dev = item(api, EP, '/3');
    assert.equal(label(dev), 'Device');
    assert.match(String(dev.description), /^\/3 · v1\.1/);
    assert.deepEqual(api.tree.getChildren(api.tree.nodeFor(EP, '/3')).map((n) => n.path), ['/3/0']);
    const resources = api.tree.getChildren(api.tree.nodeFor(EP, '/3/0')).map((n) => n.path);
    assert.ok(resources.includes('/3/0/0') && resources.includes('/3/0/4'));
    const manufacturer = item(api, EP, '/3/0/0');
    assert.equal(label(manufacturer), 'Manufacturer');
    assert.match(String(manufacturer.contextValue), /^lwm2m\.resource readable/);
    assert.equal(iconId(manufacturer), 'symbol-field');
    assert.equal(iconId(item(api, EP, '/3/0/4')), 'zap', 'Reboot is executable');
    assert.match(String(item(api, EP, '/3/0/4').contextValue), /executable/);
    assert.equal(iconId(item(api, EP, '/3311/0/5850')), 'edit', 'On/Off is writable');
    await waitFor('the badge counts the clients', () => api.treeView.badge?.value === api.controller.store.activeCount);
  });

  it('Read /3/0/0 puts the value into the tree', async () => {
    const res = await cmd<{ code: string; records: { value: unknown }[] }>('lwm2m.read', '/3/0/0');
    assert.equal(res.code, '2.05');
    assert.equal(res.records[0]!.value, 'LwM2M Workbench');
    await waitFor('tree value', () => String(item(api, EP, '/3/0/0').description).includes('LwM2M Workbench'));
  });

  it('Read with a content format per request; multiple resources get resource instances with units', async () => {
    const res = await cmd<{ format: number; records: unknown[] }>('lwm2m.read', '/3/0', { format: 'tlv' });
    assert.equal(res.format, 11542);
    assert.ok(res.records.length > 10);
    assert.deepEqual(api.tree.getChildren(api.tree.nodeFor(EP, '/3/0/7')).map((n) => n.path), ['/3/0/7/0', '/3/0/7/1']);
    assert.match(String(item(api, EP, '/3/0/7/0').description), /^3800/);
    await cmd('lwm2m.read', '/3311/0/5852');
    assert.match(String(item(api, EP, '/3311/0/5852').description), /^\d+ s /, 'value with its units');
    assert.match(String(item(api, EP, '/3/0/7').description), /2 instances/);
    const opts = await vscode.commands.executeCommand<{ format: number }>('lwm2m.readWithOptions', target('/3/0/9'), { format: 'senml-json', timeoutMs: 5000 });
    assert.equal(opts.format, 110);
  });

  it('Discover shows links and keeps their attributes', async () => {
    const res = await cmd<{ links: { path: { toString(): string } }[] }>('lwm2m.discover', '/3/0');
    assert.ok(res.links.some((l) => l.path.toString() === '/3/0/0'));
  });

  it('Write (replace) and Write (partial update), validated by type and range', async () => {
    await cmd('lwm2m.write', '/3311/0/5850', { value: 'true' });
    assert.equal(device.getValue('/3311/0/5850'), true);
    await waitFor('tree shows the written value', () => String(item(api, EP, '/3311/0/5850').description).startsWith('true'));
    await cmd('lwm2m.writeUpdate', '/3311/0/5851', { value: '80' });
    assert.equal(device.getValue('/3311/0/5851'), 80);
    await cmd('lwm2m.write', '/3311/0/5706', { value: 'warm white' });
    assert.equal(device.getValue('/3311/0/5706'), 'warm white');
    await assert.rejects(cmd('lwm2m.write', '/3311/0/5851', { value: '150' }), /within 0\.\.100/);
    await assert.rejects(cmd('lwm2m.write', '/3311/0/5851', { value: 'bright' }), /an integer/);
    assert.equal(device.getValue('/3311/0/5851'), 80, 'invalid values are not sent');
  });

  it('Execute with arguments; a failure says the CoAP code, its LwM2M meaning and the diagnostic payload', async () => {
    const res = await cmd<{ code: string }>('lwm2m.execute', '/3303/0/5605', { args: '' });
    assert.equal(res.code, '2.04');
    const withArgs = await cmd<{ code: string }>('lwm2m.execute', '/3/0/12', { args: "0,1='x'" });
    assert.equal(withArgs.code, '2.04');
    await assert.rejects(cmd('lwm2m.execute', '/3311/0/5850', { args: '' }), /4\.05/);
    assert.match(api.operations.lastError ?? '', /execute \/3311\/0\/5850 on "it-device" failed: 4\.05 Method Not Allowed: .*Diagnostic payload: ".*not executable"/);
  });

  it('Write-Attributes, then Discover reports them', async () => {
    const res = await cmd<{ code: string }>('lwm2m.writeAttributes', '/3303/0/5700', { attributes: 'pmin=1&pmax=30' });
    assert.equal(res.code, '2.04');
    const d = await cmd<{ links: { path: { toString(): string }; attributes: Record<string, number> }[] }>('lwm2m.discover', '/3303/0');
    const link = d.links.find((l) => l.path.toString() === '/3303/0/5700');
    assert.equal(link?.attributes.pmin, 1);
    assert.equal(link?.attributes.pmax, 30);
    await cmd('lwm2m.writeAttributes', '/3303/0/5700', { attributes: 'pmin=0' });
  });

  it('Observe /3303/0/5700: notifications update the tree, the history (sparkline) and the Observations view', async () => {
    const res = await cmd<{ observation?: { id: string } }>('lwm2m.observe', '/3303/0/5700');
    assert.ok(res.observation, 'the device accepted the observation');
    const before = api.controller.store.get(EP)!.history.get('/3303/0/5700')?.length ?? 0;
    await waitFor('three notifications', () => (api.controller.store.get(EP)!.history.get('/3303/0/5700')?.length ?? 0) >= before + 3, 15_000);
    const it5700 = item(api, EP, '/3303/0/5700');
    assert.equal(iconId(it5700), 'eye');
    assert.match(String(it5700.description), /[▁▂▃▄▅▆▇█]{2,}/, 'a sparkline');
    const obsClients = api.observations.getChildren();
    assert.deepEqual(obsClients.map((c) => c.endpoint), [EP]);
    const obs = api.observations.getChildren(obsClients[0]);
    assert.equal(obs.length, 1);
    const oi = api.observations.getTreeItem(obs[0]!);
    assert.equal(label(oi), '/3303/0/5700');
    assert.match(String(oi.description), /\d+ notif\./);
  });

  it('Show Value Chart renders the history (chart.js) and exports CSV', async () => {
    const panel = await vscode.commands.executeCommand<{ renderedPoints: number; exportCsv(u: vscode.Uri): Promise<vscode.Uri>; onDidRender: vscode.Event<number> }>('lwm2m.showChart', target('/3303/0/5700'));
    await waitFor('the chart rendered', () => panel.renderedPoints >= 3, 15_000);
    const uri = vscode.Uri.joinPath(workspaceDir(), 'history.csv');
    await panel.exportCsv(uri);
    const csv = readFileSync(uri.fsPath, 'utf8').trim().split('\n');
    assert.equal(csv[0], 'time,value');
    assert.match(csv[1]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z,-?\d+(\.\d+)?$/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Cancel Observation (from the Observations view node)', async () => {
    const node = api.observations.getChildren(api.observations.getChildren()[0])[0]!;
    const n = await vscode.commands.executeCommand<number>('lwm2m.cancelObservation', node);
    assert.equal(n, 1);
    await waitFor('the observation gone', () => api.observations.getChildren().length === 0);
    await waitFor('device has no observation', () => device.observations().length === 0, 10_000);
  });

  it('Create and Delete an instance', async () => {
    const res = await cmd<{ code: string; instanceId: number }>('lwm2m.create', '/3303', { instanceId: 7, values: { 5750: 'Second sensor' } });
    assert.equal(res.code, '2.01');
    assert.equal(res.instanceId, 7);
    assert.equal(device.getValue('/3303/7/5750'), 'Second sensor');
    await waitFor('the new instance in the tree', () => api.tree.getChildren(api.tree.nodeFor(EP, '/3303')).some((n) => n.path === '/3303/7'));
    const del = await cmd<{ code: string }>('lwm2m.delete', '/3303/7', { confirm: false });
    assert.equal(del.code, '2.02');
    assert.equal(device.getValue('/3303/7/5750'), undefined);
    await waitFor('the instance gone from the tree', () => !api.tree.getChildren(api.tree.nodeFor(EP, '/3303')).some((n) => n.path === '/3303/7'));
  });

  it('Read-Composite, Write-Composite and Observe-Composite', async () => {
    const read = await vscode.commands.executeCommand<{ records: { path: { toString(): string } }[] }>('lwm2m.readComposite', target('/'), { paths: ['/3/0/0', '/3303/0/5700'], throwErrors: true });
    assert.deepEqual(read.records.map((r) => r.path.toString()).sort(), ['/3/0/0', '/3303/0/5700']);
    // A multi-selection in the tree gives the paths.
    const nodes = [api.tree.nodeFor(EP, '/3/0/1'), api.tree.nodeFor(EP, '/3/0/2')];
    const sel = await vscode.commands.executeCommand<{ records: unknown[] }>('lwm2m.readComposite', nodes[0], nodes);
    assert.equal(sel.records.length, 2);
    const write = await vscode.commands.executeCommand<{ code: string }>('lwm2m.writeComposite', target('/'), { values: { '/3311/0/5851': '20', '/3311/0/5706': 'red' }, throwErrors: true });
    assert.equal(write.code, '2.04');
    assert.equal(device.getValue('/3311/0/5851'), 20);
    assert.equal(device.getValue('/3311/0/5706'), 'red');
    const obs = await vscode.commands.executeCommand<{ observation?: { id: string } }>('lwm2m.observeComposite', target('/'), { paths: ['/3303/0/5700', '/3/0/9'], throwErrors: true });
    assert.ok(obs.observation?.id);
    await waitFor('composite observation listed', () => api.observations.getChildren().length === 1);
    const n = await vscode.commands.executeCommand<number>('lwm2m.cancelObservation', target('/'), { id: obs.observation!.id });
    assert.equal(n, 1);
  });

  it('per-client defaults: content format and timeout', async () => {
    const d = await vscode.commands.executeCommand<{ format?: number; timeoutMs?: number }>('lwm2m.setClientDefaults', target('/'), { format: 'senml-json', timeoutMs: 4000 });
    assert.deepEqual(d, { format: 110, timeoutMs: 4000 });
    const res = await cmd<{ format: number }>('lwm2m.read', '/3303/0');
    assert.equal(res.format, 110);
    await vscode.commands.executeCommand('lwm2m.setClientDefaults', target('/'), { format: null, timeoutMs: null });
    const back = await cmd<{ format: number }>('lwm2m.read', '/3303/0');
    assert.equal(back.format, 112, 'the client prefers SenML CBOR');
  });

  it('a Read of an instance the device does not have fails with 4.04 and its LwM2M meaning', async () => {
    const model = api.tree.objectModel(api.controller.store.get(EP)!, 3);
    assert.ok(model);
    // Reading a path the device does not have fails with 4.04 and its meaning.
    await assert.rejects(cmd('lwm2m.read', '/3/1'), /4\.04/);
    assert.match(api.operations.lastError ?? '', /4\.04 Not Found: the target object, instance or resource does not exist/);
  });

  it('a request to a device that went away times out with a clear message', async () => {
    await device.stop({ deregister: false });
    await assert.rejects(cmd('lwm2m.read', '/3/0/0', { timeoutMs: 1500 }), /./);
    assert.match(api.operations.lastError ?? '', /(No answer in time|timed out|timeout)/i);
  });

  it('a long request shows a cancellable progress notification; Cancel ends it at once', async () => {
    // The device is gone (previous test): the Read is retransmitted until its 20 s deadline.
    const abortedBefore = api.controller.server!.stats!.aborted;
    const errorBefore = api.operations.lastError;
    const started = Date.now();
    const read = Promise.resolve(vscode.commands.executeCommand('lwm2m.read', target('/3/0/1'), { timeoutMs: 20_000 }));
    const pending = await waitFor('the progress notification', () => api.operations.pendingRequests().find((p) => p.endpoint === EP && p.path === '/3/0/1' && p.progressShown));
    assert.equal(pending.what, 'Read');
    pending.cancel(); // what the notification's Cancel button does
    assert.equal(await read, undefined, 'a cancelled command resolves without a result');
    assert.ok(Date.now() - started < 5000, `ended by the cancel, not the 20 s deadline (${Date.now() - started} ms)`);
    assert.match(api.operations.lastCancelled ?? '', /^Read \/3\/0\/1 on it-device cancelled after \d+ ms$/);
    assert.equal(api.operations.lastError, errorBefore, 'no error is shown for a cancel');
    assert.equal(api.controller.server!.stats!.aborted, abortedBefore + 1, 'the transport stopped the exchange');
    assert.equal(api.operations.pendingRequests().length, 0);
  });
});

describe('Typed value input', () => {
  it('reads text by resource type and checks ranges and enumerations', async () => {
    const { parseValue } = await import('../../src/vscode/valueInput');
    const ok = (r: ReturnType<typeof parseValue>) => (r.ok ? r.value : `error: ${r.error}`);
    assert.equal(ok(parseValue('integer', ' -42 ')), -42);
    assert.equal(ok(parseValue('integer', '9223372036854775807')), 9223372036854775807n);
    assert.match(String(ok(parseValue('integer', '9223372036854775808'))), /^error/);
    assert.match(String(ok(parseValue('unsigned integer', '-1'))), /^error/);
    assert.equal(ok(parseValue('float', '1e3')), 1000);
    assert.equal(ok(parseValue('boolean', 'on')), true);
    assert.deepEqual(ok(parseValue('objlnk', '3:0')), { objectId: 3, instanceId: 0 });
    assert.deepEqual(ok(parseValue('opaque', '0x01 02 ff')), Uint8Array.from([1, 2, 255]));
    assert.match(String(ok(parseValue('opaque', 'abc'))), /even number/);
    assert.equal(ok(parseValue('time', '2024-01-01T00:00:00Z')), 1704067200);
    assert.match(String(ok(parseValue('integer', '7', { range: { text: '0..5', min: 0, max: 5 } }))), /within 0\.\.5/);
    assert.match(String(ok(parseValue('integer', '2', { range: { text: '1,3', enumeration: [{ value: '1' }, { value: '3' }] } }))), /one of 1, 3/);
    assert.match(String(ok(parseValue('string', 'toolong', { range: { text: '0..3 bytes', min: 0, max: 3, bytes: true } }))), /a length within/);
  });
});

describe('Sleeping and expired clients', () => {
  it('look asleep / expired in the tree', async () => {
    const api = await activate();
    await startDevice(api, 'it-sleepy', { tickMs: 0 });
    try {
      api.controller.store.setSleeping('it-sleepy', true);
      let ci = item(api, 'it-sleepy', '/');
      assert.equal(iconId(ci), 'debug-pause');
      assert.match(String(ci.description), /^sleeping · /);
      assert.match(String(ci.contextValue), /sleeping/);
      api.controller.store.setSleeping('it-sleepy', false);
      ci = item(api, 'it-sleepy', '/');
      assert.equal(iconId(ci), 'vm-active');
      api.controller.store.expired(api.controller.store.get('it-sleepy')!.registration);
      ci = item(api, 'it-sleepy', '/');
      assert.equal(iconId(ci), 'vm-outline');
      assert.match(String(ci.description), /^expired · /);
      await vscode.commands.executeCommand('lwm2m.forgetClient', api.tree.nodeFor('it-sleepy', '/'));
      assert.equal(api.controller.store.get('it-sleepy'), undefined, 'Remove Expired Client');
    } finally {
      await vscode.commands.executeCommand('lwm2m.stopSimulator', 'it-sleepy');
    }
    await waitFor('de-registered client removed', () => !api.controller.store.get('it-sleepy'));
  });
});
