// The Traffic Log panel: rows for every CoAP message with the decoded summary, detail with options
// and decoded payload, Open in Payload Inspector, Copy as hex, Save payload as…, export, clear.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TrafficLogPanel } from '../../src/vscode/trafficLog';
import type { TrafficDetail } from '../../src/webview/traffic/protocol';
import { activate, startDevice, waitFor, workspaceDir } from './lwm2mHelpers';

const EP = 'it-traffic';

describe('Traffic Log panel', function () {
  this.timeout(30_000);
  let panel: TrafficLogPanel;

  before(async () => {
    const api = await activate();
    await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, quiet: true });
    await startDevice(api, EP, { tickMs: 0 });
    await vscode.commands.executeCommand('lwm2m.read', { endpoint: EP, path: '/3/0' }, { format: 'tlv', throwErrors: true });
    panel = await vscode.commands.executeCommand<TrafficLogPanel>('lwm2m.showTrafficLog');
    await waitFor('the webview reported its rows', () => panel.webviewState.shown > 0, 15_000);
  });
  after(async () => {
    await vscode.commands.executeCommand('lwm2m.stopSimulator', EP);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('lists every message with time, direction, client, type, code, path, format and a decoded summary', async () => {
    const rows = panel.rows();
    const register = rows.find((r) => r.dir === 'in' && r.code === 'POST' && r.summary.startsWith('Register'));
    assert.ok(register, 'the Register');
    assert.equal(register.endpoint, EP);
    assert.equal(register.path, '/rd');
    assert.match(register.summary, /ep=it-traffic/);
    const get = rows.find((r) => r.dir === 'out' && r.code === 'GET' && r.path === '/3/0');
    assert.ok(get, 'the Read request');
    assert.equal(get.format, 'accept tlv');
    const content = rows.find((r) => r.dir === 'in' && r.code === '2.05 Content' && r.path === '/3/0');
    assert.ok(content, 'the 2.05 answer, with the path of its request');
    assert.equal(content.format, 'tlv');
    assert.match(content.summary, /Manufacturer=LwM2M Workbench/);
    assert.equal(panel.webviewState.shown, rows.length);
  });

  it('new messages arrive live', async () => {
    const before = panel.rows().length;
    await vscode.commands.executeCommand('lwm2m.read', { endpoint: EP, path: '/3/0/1' }, { throwErrors: true });
    await waitFor('two more rows in the webview', () => panel.webviewState.shown >= before + 2);
  });

  it('the detail shows options and the decoded payload; Copy as hex, Save payload as…, Open in Payload Inspector', async () => {
    const content = panel.rows().find((r) => r.dir === 'in' && r.code === '2.05 Content' && r.path === '/3/0')!;
    const detail = (await panel.handle({ type: 'select', seq: content.seq })) as TrafficDetail;
    assert.ok(detail.options.some((o) => o.name === 'Content-Format' && o.value === '11542 (tlv)'));
    const doc = JSON.parse(detail.decoded!) as { nodes: { path: string; name?: string; value: unknown }[] };
    assert.equal(doc.nodes.find((n) => n.path === '/3/0/0')?.value, 'LwM2M Workbench');
    assert.equal(doc.nodes.find((n) => n.path === '/3/0/0')?.name, 'Manufacturer');
    const hex = (await panel.handle({ type: 'copyHex', seq: content.seq })) as string;
    assert.equal(await vscode.env.clipboard.readText(), hex);
    assert.ok(hex.length > 20);
    const file = vscode.Uri.joinPath(workspaceDir(), 'payload.tlv');
    await panel.savePayload(content.seq, file);
    assert.equal(readFileSync(file.fsPath).toString('hex'), hex);
    const uri = (await panel.handle({ type: 'openInInspector', seq: content.seq })) as vscode.Uri;
    const api = await activate();
    await api.inspector.testing.whenRendered(uri);
    const state = api.inspector.testing.state(uri)!;
    assert.equal(state.format, 11542);
    assert.equal(state.basePath, '/3/0');
  });

  it('exports JSON and clears', async () => {
    const file = vscode.Uri.joinPath(workspaceDir(), 'traffic.json');
    await panel.export([], file);
    const json = JSON.parse(readFileSync(file.fsPath, 'utf8')) as { code: string; options: unknown[]; payload: string }[];
    assert.ok(json.length >= 4);
    assert.ok(json.some((m) => m.code === '2.05 Content' && m.payload.length > 0));
    await panel.handle({ type: 'clear' });
    await waitFor('the webview emptied', () => panel.webviewState.shown === 0);
    assert.equal(panel.rows().length, 0);
  });
});
