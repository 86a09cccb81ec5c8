// The bootstrap server started from VS Code (lwm2m.bootstrap.*): configurations from workspace
// files with diagnostics and hot reload, a simulated device bootstrapped over real UDP, PSK keys
// provisioned from SecretStorage.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ServerState } from '../../src/vscode/serverController';
import { activate, waitFor, workspaceDir } from './lwm2mHelpers';

describe('Bootstrap server from VS Code', function () {
  this.timeout(40_000);
  const dir = join(workspaceDir().fsPath, '.lwm2m');
  const file = join(dir, 'bootstrap.json');
  const settings = () => vscode.workspace.getConfiguration('lwm2m');

  before(async () => {
    mkdirSync(dir, { recursive: true });
    await settings().update('bootstrap.enabled', true, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.commands.executeCommand('lwm2m.stopSimulator', 'bs-dev');
    await settings().update('bootstrap.enabled', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('lwm2m.removePskCredential', 'bs-psk-dev');
    rmSync(file, { force: true });
    await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, address: '127.0.0.1', securePort: 0, quiet: true });
  });

  const config = (lwm2mPort: number, extra: Record<string, unknown> = {}) => ({
    endpoints: {
      'bs-dev': { servers: [{ shortServerId: 7, uri: `coap://127.0.0.1:${lwm2mPort}`, lifetime: 120, security: { mode: 'NoSec' } }] },
      ...extra,
    },
  });

  it('starts with the LwM2M server, bootstraps a simulated device from the workspace configuration, which then registers', async () => {
    const api = await activate();
    rmSync(file, { force: true });
    await vscode.commands.executeCommand('lwm2m.stopServer');
    const s = await vscode.commands.executeCommand<ServerState>('lwm2m.startServer', { port: 0, address: '127.0.0.1', securePort: 0, bootstrapPort: 0, bootstrapSecurePort: 0, quiet: true });
    assert.ok(s.kind === 'running' && s.bootstrapPort && s.bootstrapPort !== s.port, JSON.stringify(s));
    assert.ok(api.controller.bootstrap, 'the bootstrap server runs');
    assert.match(api.status.text, new RegExp(`BS :${s.bootstrapPort}`));
    assert.equal(api.bootstrapConfigs.current.endpoints.size, 0, 'no configuration file yet');

    // The file appears: the watcher loads it into the running bootstrap server.
    writeFileSync(file, JSON.stringify(config(s.port), null, 2));
    await waitFor('the configuration is loaded', () => api.bootstrapConfigs.current.endpoints.has('bs-dev'));

    const endpoints = await vscode.commands.executeCommand<string[]>('lwm2m.startSimulator', { endpoint: 'bs-dev', bootstrap: true, tickMs: 0 });
    assert.deepEqual(endpoints, ['bs-dev']);
    const info = await waitFor('bs-dev registered after bootstrap', () => api.controller.store.get('bs-dev'));
    assert.equal(info.registration.lifetime, 120, 'the lifetime the bootstrap server provisioned');
    const device = api.simulators.clients().find((c) => c.endpoint === 'bs-dev')!;
    assert.equal(device.getValue('/1/0/0'), 7, 'Server object written with the configured short server id');
    assert.equal(device.getValue('/0/1/0'), `coap://127.0.0.1:${s.port}`);
    await vscode.commands.executeCommand('lwm2m.stopSimulator', 'bs-dev');
  });

  it('shows configuration problems as diagnostics on the field, and clears them when fixed', async () => {
    const api = await activate();
    const s = api.controller.state;
    assert.ok(s.kind === 'running');
    const broken = config(s.port) as { endpoints: Record<string, { servers: Record<string, unknown>[] }> };
    broken.endpoints['bs-dev']!.servers[0]!.uri = 'http://wrong';
    writeFileSync(file, JSON.stringify(broken, null, 2));
    const uri = vscode.Uri.file(file);
    const diags = await waitFor('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length > 0 ? d : undefined;
    });
    assert.match(diags[0]!.message, /\/endpoints\/bs-dev\/servers\/0\/uri/);
    const text = JSON.stringify(broken, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('http://wrong'));
    assert.equal(diags[0]!.range.start.line, line, 'on the line of the bad value');
    assert.equal(api.bootstrapConfigs.current.endpoints.size, 0, 'a file with problems is left out');
    writeFileSync(file, JSON.stringify(config(s.port), null, 2));
    await waitFor('diagnostics cleared', () => vscode.languages.getDiagnostics(uri).length === 0);
    await waitFor('fixed configuration loaded', () => api.bootstrapConfigs.current.endpoints.has('bs-dev'));
  });

  it('provisions a PSK credential from SecretStorage by keyRef (never from the file); the device then registers over CoAPS', async () => {
    const api = await activate();
    const s = api.controller.state;
    assert.ok(s.kind === 'running' && s.securePort);
    await vscode.commands.executeCommand('lwm2m.setPskCredential', { endpoint: 'bs-psk-dev', identity: 'bs-psk-id', keyHex: 'a1a2a3a4a5a6a7a8' });
    writeFileSync(
      file,
      JSON.stringify(
        config(s.port, {
          'bs-psk-dev': { servers: [{ shortServerId: 9, uri: `coaps://127.0.0.1:${s.securePort}`, lifetime: 120, security: { mode: 'PSK', identity: 'bs-psk-id', keyRef: 'bs-psk-id' } }] },
        }),
      ),
    );
    await waitFor('the PSK configuration is loaded', () => api.bootstrapConfigs.current.endpoints.has('bs-psk-dev'));
    const bs = api.controller.bootstrap!;
    const writes: string[] = [];
    const done = new Promise<void>((resolve) =>
      bs.on('event', (e) => {
        if (e.endpoint !== 'bs-psk-dev') return;
        if (e.type === 'write') writes.push(`${e.path} ${e.code}`);
        if (e.type === 'done' || e.type === 'failed') resolve();
      }),
    );
    const { SimulatedClient } = await import('../../src/core/sim/client');
    const bsAddr = bs.address()!;
    const client = new SimulatedClient({ server: `coap://127.0.0.1:${bsAddr.port}`, endpoint: 'bs-psk-dev', bootstrap: true, tickMs: 0, retryMs: 60_000, requestTimeoutMs: 5000 });
    const started = client.start().catch((err: Error) => err);
    try {
      await done;
      assert.deepEqual(writes, ['/0/1 2.04', '/1/0 2.04']);
      assert.equal(client.getValue('/0/1/2'), 0, 'security mode PSK');
      assert.deepEqual(Buffer.from(client.getValue('/0/1/3') as Uint8Array).toString(), 'bs-psk-id');
      assert.deepEqual(Buffer.from(client.getValue('/0/1/5') as Uint8Array).toString('hex'), 'a1a2a3a4a5a6a7a8', 'the key from SecretStorage');
      assert.equal(await started, undefined, 'the device registered with the provisioned server');
      const info = await waitFor('bs-psk-dev registered over CoAPS', () => api.controller.store.get('bs-psk-dev'));
      assert.equal(info.registration.security, 'PSK');
      assert.equal(info.registration.pskIdentity, 'bs-psk-id');
      const read = await vscode.commands.executeCommand<{ code: string }>('lwm2m.read', { endpoint: 'bs-psk-dev', path: '/3/0/0' }, { throwErrors: true });
      assert.equal(read.code, '2.05', 'a Read over the DTLS session');
    } finally {
      await client.stop();
      await started;
    }
  });

  it('bootstraps a simulated device over CoAPS (lwm2m.bootstrap.securePort) with its stored PSK', async () => {
    const api = await activate();
    const s = api.controller.state;
    assert.ok(s.kind === 'running' && s.bootstrapSecurePort && s.securePort, JSON.stringify(s));
    assert.match(api.status.text, new RegExp(`BS :${s.bootstrapPort}`));
    await vscode.commands.executeCommand('lwm2m.setPskCredential', { endpoint: 'bs-psk-dev', identity: 'bs-psk-id', keyHex: 'a1a2a3a4a5a6a7a8' });
    const requests: string[] = [];
    const sub = api.controller.bootstrap!.on('request', (e) => requests.push(`${e.endpoint} ${e.security} ${e.pskIdentity ?? ''}`));
    try {
      const endpoints = await vscode.commands.executeCommand<string[]>('lwm2m.startSimulator', { endpoint: 'bs-psk-dev', bootstrap: true, secure: true, tickMs: 0 });
      assert.deepEqual(endpoints, ['bs-psk-dev']);
      assert.deepEqual(requests, ['bs-psk-dev PSK bs-psk-id'], 'the Bootstrap-Request came over DTLS');
      const info = await waitFor('registered over CoAPS after a DTLS bootstrap', () => api.controller.store.get('bs-psk-dev'));
      assert.equal(info.registration.security, 'PSK');
    } finally {
      sub.dispose();
      await vscode.commands.executeCommand('lwm2m.stopSimulator', 'bs-psk-dev');
    }
  });
});
