// Server lifecycle, status bar, port in use, settings, object models with diagnostics, PSK credentials.
import * as assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as coap from 'coap-packet';
import * as vscode from 'vscode';
import { DtlsClient } from '../../src/core/dtls';
import type { ServerState } from '../../src/vscode/serverController';
import { activate, runningServer, waitFor, workspaceDir } from './lwm2mHelpers';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ddf');

describe('Server lifecycle and settings', function () {
  this.timeout(30_000);

  it('Start / Stop / Restart through the commands; the status bar shows state, port and clients', async () => {
    const api = await activate();
    const port = await runningServer(api);
    assert.match(api.status.text, new RegExp(`LwM2M :${port} :\\d+ \\(DTLS\\) · \\d+ clients?`));
    let s = await vscode.commands.executeCommand<ServerState>('lwm2m.stopServer');
    assert.equal(s.kind, 'stopped');
    assert.match(api.status.text, /LwM2M: stopped/);
    assert.equal(api.controller.server, undefined);
    assert.deepEqual(api.tree.getChildren(), [], 'no clients while stopped');
    s = await vscode.commands.executeCommand<ServerState>('lwm2m.startServer', { port: 0, quiet: true });
    assert.equal(s.kind, 'running');
    const first = s.kind === 'running' ? s.port : 0;
    s = await vscode.commands.executeCommand<ServerState>('lwm2m.restartServer', { port: 0, quiet: true });
    assert.equal(s.kind, 'running');
    const again = api.controller.state;
    assert.ok(again.kind === 'running' && again.port > 0 && api.controller.requireServer().address()?.port === again.port);
    assert.ok(first > 0);
  });

  it('a port in use gives a clear message (and the server does not start)', async () => {
    const api = await activate();
    await vscode.commands.executeCommand('lwm2m.stopServer');
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const busy = blocker.address().port;
    try {
      const s = await vscode.commands.executeCommand<ServerState>('lwm2m.startServer', { port: busy, address: '127.0.0.1', quiet: true });
      assert.equal(s.kind, 'failed');
      assert.ok(s.kind === 'failed' && s.message.includes(`UDP port ${busy} is already in use`), s.kind === 'failed' ? s.message : '');
      assert.match(api.status.text, /not running/);
      assert.match(api.treeView.message ?? '', /already in use/);
    } finally {
      blocker.close();
    }
    const s = await vscode.commands.executeCommand<ServerState>('lwm2m.startServer', { port: 0, quiet: true });
    assert.equal(s.kind, 'running');
    assert.equal(api.treeView.message, undefined);
  });

  it('applies lwm2m.trafficLog.size when the server restarts', async () => {
    const api = await activate();
    const c = vscode.workspace.getConfiguration('lwm2m');
    await c.update('trafficLog.size', 50, vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, quiet: true });
      assert.equal(api.controller.server?.traffic.capacity, 50);
    } finally {
      await c.update('trafficLog.size', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, quiet: true });
    }
    assert.equal(api.controller.server?.traffic.capacity, 1000);
  });

  it('loads workspace DDF files from the model folders, hot-reloads them, and shows problems as diagnostics', async () => {
    const api = await activate();
    const dir = join(workspaceDir().fsPath, 'models');
    mkdirSync(dir, { recursive: true });
    const good = join(dir, 'valid-single.xml');
    copyFileSync(join(FIXTURES, 'valid-single.xml'), good);
    const bad = join(dir, 'broken.xml');
    copyFileSync(join(FIXTURES, 'not-well-formed.xml'), bad);
    await vscode.commands.executeCommand('lwm2m.reloadModels');
    assert.ok(api.models.files.has(good), 'the valid file contributes models');
    const models = api.models.files.get(good)!;
    assert.ok(models > 0);
    const diags = vscode.languages.getDiagnostics(vscode.Uri.file(bad));
    assert.ok(diags.length > 0, 'the malformed file has diagnostics');
    assert.equal(diags[0]!.source, 'LwM2M models');
    assert.ok(diags[0]!.range.start.line >= 0);
    // Hot reload: fix the broken file → its diagnostics go away.
    copyFileSync(join(FIXTURES, 'valid-single.xml'), bad);
    writeFileSync(bad, (await vscode.workspace.fs.readFile(vscode.Uri.file(bad))).toString().replace(/<ObjectID>(\d+)<\/ObjectID>/, '<ObjectID>32700</ObjectID>'));
    await waitFor('the fixed file reloaded', () => vscode.languages.getDiagnostics(vscode.Uri.file(bad)).length === 0 && api.models.registry.getObject(32700), 15_000);
  });

  it('stores PSK credentials in SecretStorage through the commands', async () => {
    await activate();
    const ep = await vscode.commands.executeCommand<string>('lwm2m.setPskCredential', { endpoint: 'psk-dev', identity: 'psk-id', keyHex: '00 11 22 33 44 55 66 77' });
    assert.equal(ep, 'psk-dev');
    const listed = await vscode.commands.executeCommand<{ endpoint: string; identity: string }[]>('lwm2m.listPskCredentials', { quiet: true });
    assert.deepEqual(listed.find((x) => x.endpoint === 'psk-dev'), { endpoint: 'psk-dev', identity: 'psk-id' });
    const api = await activate();
    assert.deepEqual(await api.credentials.get('psk-dev'), { endpoint: 'psk-dev', identity: 'psk-id', keyHex: '0011223344556677' });
    const settings = JSON.stringify(vscode.workspace.getConfiguration('lwm2m'));
    assert.ok(!settings.includes('0011223344556677'), 'the key is not in the settings');
    assert.equal(await vscode.commands.executeCommand('lwm2m.removePskCredential', 'psk-dev'), true);
    assert.equal(await api.credentials.get('psk-dev'), undefined);
  });
});

describe('CoAPS (DTLS 1.2 with PSK) from VS Code', function () {
  this.timeout(30_000);
  const clients: DtlsClient[] = [];
  after(async () => {
    for (const c of clients) await c.close();
    await vscode.commands.executeCommand('lwm2m.removePskCredential', 'dtls-dev');
  });

  /** A device on a DtlsClient: Register, then answers GET /3/0/0 with text. */
  async function dtlsDevice(port: number, identity: string, keyHex: string, endpoint: string): Promise<{ client: DtlsClient; answer: Promise<coap.ParsedPacket> }> {
    const client = new DtlsClient({ handshakeTimeoutMs: 5000, retransmitInitialMs: 300 });
    clients.push(client);
    await client.connect('127.0.0.1', port, identity, Buffer.from(keyHex, 'hex'));
    let resolveAnswer: (p: coap.ParsedPacket) => void = () => undefined;
    const answer = new Promise<coap.ParsedPacket>((r) => (resolveAnswer = r));
    client.on('message', (data) => {
      const p = coap.parse(data);
      if (p.code === '0.01') {
        // GET from the server: answer with the manufacturer as text (piggybacked ACK).
        client.send(coap.generate({ messageId: p.messageId, token: p.token, code: '2.05', ack: true, options: [{ name: 'Content-Format', value: Buffer.from([0]) }], payload: Buffer.from('DTLS Device') }));
      } else resolveAnswer(p);
    });
    client.send(
      coap.generate({
        messageId: 1,
        token: Buffer.from([9, 9]),
        code: 'POST',
        confirmable: true,
        options: [
          { name: 'Uri-Path', value: Buffer.from('rd') },
          { name: 'Uri-Query', value: Buffer.from(`ep=${endpoint}`) },
          { name: 'Uri-Query', value: Buffer.from('lwm2m=1.1') },
          { name: 'Uri-Query', value: Buffer.from('lt=300') },
        ],
        payload: Buffer.from('</1/0>,</3/0>'),
      }),
    );
    return { client, answer };
  }

  it('serves CoAPS on lwm2m.server.securePort with keys from SecretStorage; the tree shows the security', async () => {
    const api = await activate();
    await vscode.commands.executeCommand('lwm2m.stopServer');
    const s = await vscode.commands.executeCommand<ServerState>('lwm2m.startServer', { port: 0, address: '127.0.0.1', securePort: 0, quiet: true });
    assert.ok(s.kind === 'running' && s.securePort && s.securePort !== s.port, JSON.stringify(s));
    assert.match(api.status.text, new RegExp(`LwM2M :${s.port} :${s.securePort} \\(DTLS\\)`));
    await vscode.commands.executeCommand('lwm2m.setPskCredential', { endpoint: 'dtls-dev', identity: 'dtls-identity', keyHex: '0102030405060708090a0b0c0d0e0f10' });

    const { answer } = await dtlsDevice(s.securePort, 'dtls-identity', '0102030405060708090a0b0c0d0e0f10', 'dtls-dev');
    assert.equal((await answer).code, '2.01', 'Register over CoAPS answered 2.01 Created');
    const info = await waitFor('the DTLS client in the store', () => api.controller.store.get('dtls-dev'));
    assert.equal(info.registration.security, 'PSK');
    assert.equal(info.registration.pskIdentity, 'dtls-identity');
    const ci = api.tree.getTreeItem(api.tree.nodeFor('dtls-dev', '/'));
    assert.match(String(ci.description), /DTLS-PSK/);
    assert.match((ci.tooltip as vscode.MarkdownString).value, /identity `dtls-identity`/);

    // A downlink goes over the client's DTLS session.
    const res = await vscode.commands.executeCommand<{ code: string; records: { value: unknown }[] }>('lwm2m.read', { endpoint: 'dtls-dev', path: '/3/0/0' }, { format: 'text', throwErrors: true });
    assert.equal(res.code, '2.05');
    assert.equal(res.records[0]!.value, 'DTLS Device');
  });

  it('"Start Simulated Device over DTLS (PSK)" stores a new credential and registers over CoAPS', async () => {
    const api = await activate();
    try {
      const endpoints = await vscode.commands.executeCommand<string[]>('lwm2m.startSecureSimulator', { endpoint: 'dtls-sim', tickMs: 0 });
      assert.deepEqual(endpoints, ['dtls-sim']);
      const stored = await api.credentials.get('dtls-sim');
      assert.ok(stored && /^[0-9a-f]{32}$/.test(stored.keyHex), 'a random 128-bit key in SecretStorage');
      const info = await waitFor('dtls-sim registered', () => api.controller.store.get('dtls-sim'));
      assert.equal(info.registration.security, 'PSK');
      assert.equal(info.registration.pskIdentity, 'dtls-sim');
      const res = await vscode.commands.executeCommand<{ code: string; records: { value: unknown }[] }>('lwm2m.read', { endpoint: 'dtls-sim', path: '/3/0/0' }, { throwErrors: true });
      assert.equal(res.records[0]!.value, 'LwM2M Workbench');
    } finally {
      await vscode.commands.executeCommand('lwm2m.stopSimulator', 'dtls-sim');
      await vscode.commands.executeCommand('lwm2m.removePskCredential', 'dtls-sim');
    }
  });

  it('refuses a wrong key (handshake fails, nothing registered) and an identity bound to another endpoint (4.03)', async () => {
    const api = await activate();
    const s = api.controller.state;
    assert.ok(s.kind === 'running' && s.securePort);
    await assert.rejects(dtlsDevice(s.securePort, 'dtls-identity', 'ffffffffffffffffffffffffffffffff', 'dtls-other'), /bad_record_mac|decrypt|alert|handshake/i);
    const { answer } = await dtlsDevice(s.securePort, 'dtls-identity', '0102030405060708090a0b0c0d0e0f10', 'dtls-other');
    assert.equal((await answer).code, '4.03', 'the identity is bound to dtls-dev');
    assert.equal(api.controller.store.get('dtls-other'), undefined);
  });
});
