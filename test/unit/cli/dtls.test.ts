/**
 * CoAPS through the CLI (issue 7), as processes (node --import tsx src/cli/main.ts):
 * `serve --dtls-port 0 --psk …` with `simulate --server coaps://… --psk …` (one device and a
 * fleet with suffixed identities); `serve --bootstrap-dtls-port 0` provisioning a PSK credential
 * named by its `ref` to a simulated client that bootstraps over CoAPS; option errors.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialKeyResolver } from '../../../src/cli/serve';
import { SimulatedClient } from '../../../src/core/sim/client';
import { nextServerEvent, startServer } from '../sim/helpers';
import { spawnCli, type CliProcess } from './process';

const children: ChildProcessWithoutNullStreams[] = [];
const dir = mkdtempSync(join(tmpdir(), 'cli-dtls-'));
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]): CliProcess => spawnCli(args, children);

const KEY = '00112233445566778899aabbccddeeff';

describe('CoAPS through the CLI', { timeout: 120_000 }, () => {
  it('simulate --server coaps://… --psk registers with serve --dtls-port 0 --psk, runs a read, de-registers on SIGTERM', async () => {
    const serve = cli(['serve', '--port', '0', '--bind', '127.0.0.1', '--dtls-port', '0', '--psk', `dev-cli:${KEY}`]);
    const listening = await serve.wait((l) => l.event === 'listening');
    const securePort = listening.securePort as number;
    assert.ok(securePort > 0, serve.output());
    const sim = cli(['simulate', '--server', `coaps://127.0.0.1:${securePort}`, '--psk', `dev-cli:${KEY}`, '--endpoint', 'dev-cli', '--tick', '1000']);
    const registered = await serve.wait((l) => l.event === 'registered');
    const reg = registered.registration as Record<string, unknown>;
    assert.equal(registered.endpoint, 'dev-cli');
    assert.equal(reg.security, 'PSK');
    assert.equal(reg.pskIdentity, 'dev-cli');
    const session = await sim.wait((l) => l.event === 'dtlsSession');
    assert.equal(session.identity, 'dev-cli');
    await sim.wait((l) => l.event === 'registered');
    serve.child.stdin!.write('read dev-cli /3/0/0\n');
    const reply = await serve.wait((l) => l.command === 'read dev-cli /3/0/0');
    assert.equal(reply.ok, true, serve.output());
    assert.equal((reply.result as { code: string }).code, '2.05');
    sim.child.kill('SIGTERM');
    assert.equal(await sim.exited, 0, sim.output());
    await serve.wait((l) => l.event === 'deregistered' && l.endpoint === 'dev-cli');
    serve.child.stdin!.end();
    assert.equal(await serve.exited, 0, serve.output());
  });

  it('simulate --count 2 suffixes the PSK identity like the endpoint names', async () => {
    const serve = cli(['serve', '--port', '0', '--bind', '127.0.0.1', '--dtls-port', '0', '--psk', `fleet-1:${KEY}`, '--psk', `fleet-2:${KEY}`]);
    const securePort = (await serve.wait((l) => l.event === 'listening')).securePort as number;
    const sim = cli(['simulate', '--server', `coaps://127.0.0.1:${securePort}`, '--psk', `fleet:${KEY}`, '--endpoint', 'fleet', '--count', '2']);
    const first = await serve.wait((l) => l.event === 'registered' && l.endpoint === 'fleet-1');
    const second = await serve.wait((l) => l.event === 'registered' && l.endpoint === 'fleet-2');
    assert.equal((first.registration as Record<string, unknown>).pskIdentity, 'fleet-1');
    assert.equal((second.registration as Record<string, unknown>).pskIdentity, 'fleet-2');
    sim.child.kill('SIGTERM');
    assert.equal(await sim.exited, 0, sim.output());
    serve.child.kill('SIGTERM');
    await serve.exited;
  });

  it('serve --bootstrap-dtls-port 0: a client bootstraps over CoAPS and is provisioned the credential its keyRef names (ref)', async () => {
    const dmKey = Buffer.from('a0a1a2a3a4a5a6a7', 'hex');
    // The LwM2M server the device is provisioned for: in this process, CoAPS on an ephemeral port.
    const { server: dm } = await startServer({ dtls: { port: 0, credentials: [{ identity: 'dm-id', key: dmKey, endpoint: 'dev-bs' }] } });
    try {
      const dmUri = `coaps://127.0.0.1:${dm.secureAddress()!.port}`;
      const config = join(dir, 'bs.json');
      writeFileSync(config, JSON.stringify({ endpoints: { 'dev-bs': { servers: [{ shortServerId: 7, uri: dmUri, security: { mode: 'PSK', identity: 'dm-id', keyRef: 'dm-ref' } }] } } }));
      const creds = join(dir, 'bs-creds.json');
      writeFileSync(
        creds,
        JSON.stringify([
          { identity: 'bs-id', key: KEY, endpoint: 'dev-bs' },
          { identity: 'dm-id', key: dmKey.toString('hex'), endpoint: 'dev-bs', ref: 'dm-ref' },
        ]),
      );
      const serve = cli(['serve', '--port', '0', '--bind', '127.0.0.1', '--dtls-port', '0', '--bootstrap-port', '0', '--bootstrap-dtls-port', '0', '--bootstrap-config', config, '--credentials', creds]);
      const plain = await serve.wait((l) => l.event === 'bootstrap' && l.step === 'listening');
      const secure = await serve.wait((l) => l.event === 'bootstrap' && l.step === 'listening' && l.secure === true);
      assert.equal(plain.secure, undefined, 'the plain listening line is unchanged');
      assert.notEqual(secure.port, plain.port);
      const client = new SimulatedClient({
        server: `coaps://127.0.0.1:${secure.port as number}`,
        psk: { identity: 'bs-id', key: Buffer.from(KEY, 'hex') },
        endpoint: 'dev-bs',
        bootstrap: true,
        tickMs: 0,
        requestTimeoutMs: 5000,
        bootstrapTimeoutMs: 10_000,
      });
      const registered = nextServerEvent(dm, 'registered', (r) => r.endpoint === 'dev-bs', 20_000);
      try {
        await client.start();
        const [reg] = await registered;
        assert.deepEqual([reg.security, reg.pskIdentity], ['PSK', 'dm-id']);
        const request = await serve.wait((l) => l.event === 'bootstrap' && l.step === 'request');
        assert.deepEqual([request.endpoint, request.security, request.pskIdentity], ['dev-bs', 'PSK', 'bs-id']);
        await serve.wait((l) => l.event === 'bootstrap' && l.step === 'done');
        assert.ok(!serve.output().includes(dmKey.toString('hex')), 'the provisioned key is in no line');
      } finally {
        await client.stop();
      }
      serve.child.kill('SIGTERM');
      await serve.exited;
    } finally {
      await dm.stop();
    }
  });

  it('resolves a keyRef by ref first, then by identity', () => {
    const resolve = credentialKeyResolver([
      { identity: 'a', key: Buffer.from([1]) },
      { identity: 'b', key: Buffer.from([2]), ref: 'a' },
    ]);
    assert.deepEqual(resolve('a', 'ep'), Buffer.from([2]));
    assert.deepEqual(resolve('b', 'ep'), Buffer.from([2]));
    assert.equal(resolve('c', 'ep'), undefined);
  });

  it('refuses coaps:// without --psk, --psk with coap://, and a bad --bootstrap-dtls-port (exit 2)', async () => {
    const noKey = cli(['simulate', '--server', 'coaps://127.0.0.1:5684']);
    assert.equal(await noKey.exited, 2);
    assert.match(noKey.output(), /coaps:\/\/ needs --psk/);
    const plain = cli(['simulate', '--server', 'coap://127.0.0.1:5683', '--psk', `x:${KEY}`]);
    assert.equal(await plain.exited, 2);
    assert.match(plain.output(), /--psk is for a coaps:\/\/ server/);
    const badKey = cli(['simulate', '--server', 'coaps://127.0.0.1:5684', '--psk', 'x:abc']);
    assert.equal(await badKey.exited, 2);
    assert.match(badKey.output(), /even number of hex digits/);
    const badPort = cli(['serve', '--port', '0', '--bootstrap-dtls-port', 'many']);
    assert.equal(await badPort.exited, 2);
    assert.match(badPort.output(), /--bootstrap-dtls-port "many" is not a port number/);
  });
});
