/**
 * Bootstrap over CoAPS (issue 7) on 127.0.0.1 with ephemeral ports: the simulated client
 * bootstraps over DTLS with its bootstrap PSK, is provisioned a PSK Security instance for the
 * LwM2M server (coaps://) and registers over CoAPS with it; plain UDP keeps working beside
 * DTLS; an identity bound to another endpoint gets 4.03.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Method } from '../../../src/core/coap/message';
import { CoapTransport } from '../../../src/core/coap/transport';
import { BootstrapServer, DEFAULT_BOOTSTRAP_SECURE_PORT, type BootstrapEvent } from '../../../src/core/bootstrap';
import { bootstrapConfigFrom } from '../../../src/core/bootstrap/config';
import { DtlsClientSocket, clientDatagramSocket } from '../../../src/core/dtls';
import type { Lwm2mServer, PskCredential } from '../../../src/core/server/lwm2mServer';
import { SimulatedClient } from '../../../src/core/sim/client';
import type { SimEvent } from '../../../src/core/sim/events';
import { until } from '../dtls/helpers';
import { nextServerEvent, startServer } from '../sim/helpers';

const BS_KEY = Buffer.from('bootstrap key of dev-b', 'utf8');
const DM_KEY = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex');
const BS_CREDENTIALS: PskCredential[] = [
  { identity: 'bs-dev-b', key: BS_KEY, endpoint: 'dev-b' },
  { identity: 'bs-other', key: Buffer.from('other'), endpoint: 'dev-other' },
];

describe('bootstrap over CoAPS', { timeout: 120_000 }, () => {
  let dm: Lwm2mServer;
  let dmSecureUri: string;
  let dmPlainUri: string;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    ({ server: dm, uri: dmPlainUri } = await startServer({ dtls: { port: 0, credentials: [{ identity: 'dm-dev-b', key: DM_KEY, endpoint: 'dev-b' }] } }));
    dmSecureUri = `coaps://127.0.0.1:${dm.secureAddress()!.port}`;
  });
  after(async () => {
    await dm.stop();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function bootstrapServer(config: unknown, resolveKey?: (ref: string, ep: string) => Uint8Array | undefined): Promise<{ bs: BootstrapServer; plainUri: string; secureUri: string; events: BootstrapEvent[] }> {
    const bs = new BootstrapServer({
      config: bootstrapConfigFrom(config),
      resolveKey,
      requestTimeoutMs: 3000,
      transport: { ackTimeoutMs: 300 },
      dtls: { port: 0, credentials: BS_CREDENTIALS },
    });
    const events: BootstrapEvent[] = [];
    bs.on('event', (e) => events.push(e));
    await bs.start({ port: 0, address: '127.0.0.1' });
    stops.push(() => bs.stop());
    return { bs, plainUri: `coap://127.0.0.1:${bs.address()!.port}`, secureUri: `coaps://127.0.0.1:${bs.secureAddress()!.port}`, events };
  }

  function simulated(uri: string, endpoint: string, psk?: { identity: string; key: Uint8Array }): { client: SimulatedClient; events: SimEvent[] } {
    const client = new SimulatedClient({ server: uri, endpoint, psk, bootstrap: true, tickMs: 0, bootstrapTimeoutMs: 5000, requestTimeoutMs: 3000, transport: { ackTimeoutMs: 300 } });
    const events: SimEvent[] = [];
    client.on('event', (e) => events.push(e));
    stops.push(() => client.stop());
    return { client, events };
  }

  const pskConfig = () => ({
    endpoints: { 'dev-b': { servers: [{ shortServerId: 3, uri: dmSecureUri, lifetime: 120, security: { mode: 'PSK', identity: 'dm-dev-b', keyRef: 'dm-dev-b' } }] } },
    default: { servers: [{ shortServerId: 4, uri: dmPlainUri, security: { mode: 'NoSec' } }] },
  });

  it('exports the default CoAPS port 5686', () => {
    assert.equal(DEFAULT_BOOTSTRAP_SECURE_PORT, 5686);
  });

  it('bootstraps over DTLS, provisions a PSK credential, and the simulator registers over CoAPS with it', async () => {
    const asked: string[] = [];
    const { bs, secureUri, events } = await bootstrapServer(pskConfig(), (ref, ep) => {
      asked.push(`${ref} ${ep}`);
      return ref === 'dm-dev-b' ? new Uint8Array(DM_KEY) : undefined;
    });
    const { client, events: simEvents } = simulated(secureUri, 'dev-b', { identity: 'bs-dev-b', key: BS_KEY });
    const registered = nextServerEvent(dm, 'registered', (r) => r.endpoint === 'dev-b', 10_000);
    await client.start();
    const [reg] = await registered;
    assert.deepEqual([reg.security, reg.pskIdentity, reg.lifetime], ['PSK', 'dm-dev-b', 120]);
    assert.deepEqual(asked, ['dm-dev-b dev-b']);
    await until(() => events.some((e) => e.type === 'done'));
    const request = events.find((e) => e.type === 'request') as Extract<BootstrapEvent, { type: 'request' }>;
    assert.equal(request.security, 'PSK');
    assert.equal(request.pskIdentity, 'bs-dev-b');
    assert.ok(bs.dtls!.stats.handshakesCompleted >= 1);
    // The provisioned Security instance: PSK, the DM identity and key.
    assert.equal(client.getValue('/0/1/0'), dmSecureUri);
    assert.equal(client.getValue('/0/1/2'), 0);
    assert.equal(Buffer.from(client.getValue('/0/1/3') as Uint8Array).toString(), 'dm-dev-b');
    assert.ok(Buffer.from(client.getValue('/0/1/5') as Uint8Array).equals(DM_KEY));
    assert.equal(client.serverUri, dmSecureUri);
    // Two handshakes: the bootstrap server's with the bootstrap identity, then the DM server's with the provisioned one.
    const sessions = simEvents.filter((e): e is Extract<SimEvent, { type: 'dtlsSession' }> => e.type === 'dtlsSession');
    assert.deepEqual(
      sessions.map((e) => [e.server, e.identity]),
      [
        [secureUri, 'bs-dev-b'],
        [dmSecureUri, 'dm-dev-b'],
      ],
    );
    assert.ok(!JSON.stringify(simEvents).includes(DM_KEY.toString('hex')), 'no key in an event');
    // The DM server works with it over CoAPS.
    const read = await dm.read('dev-b', '/3/0/0');
    assert.equal(read.records[0]?.value, 'LwM2M Workbench');

    // Bootstrap-Request Trigger (/1/x/9): de-registers, bootstraps over DTLS again with the bootstrap PSK, registers over CoAPS again.
    const server = client.tree.instanceIds(1)[0]!;
    const again = nextServerEvent(dm, 'registered', (r) => r.endpoint === 'dev-b' && r.id !== reg.id, 10_000);
    assert.equal((await dm.execute('dev-b', `/1/${server}/9`)).code, '2.04');
    const [reg2] = await again;
    assert.deepEqual([reg2.security, reg2.pskIdentity], ['PSK', 'dm-dev-b']);
    assert.equal(events.filter((e) => e.type === 'done').length, 2);
    assert.deepEqual(
      simEvents.filter((e): e is Extract<SimEvent, { type: 'dtlsSession' }> => e.type === 'dtlsSession').map((e) => e.identity),
      ['bs-dev-b', 'dm-dev-b', 'bs-dev-b', 'dm-dev-b'],
    );
    await client.stop();
  });

  it('keeps plain UDP beside DTLS: a NoSec client bootstraps on the CoAP port and registers over coap://', async () => {
    const { plainUri, events } = await bootstrapServer(pskConfig());
    const { client } = simulated(plainUri, 'plain-dev');
    const registered = nextServerEvent(dm, 'registered', (r) => r.endpoint === 'plain-dev', 10_000);
    await client.start();
    const [reg] = await registered;
    assert.equal(reg.security, 'NoSec');
    const request = events.find((e) => e.type === 'request') as Extract<BootstrapEvent, { type: 'request' }>;
    assert.equal(request.security, 'NoSec');
    assert.equal(request.pskIdentity, undefined);
  });

  it('answers 4.03 to a Bootstrap-Request over DTLS whose identity is bound to another endpoint', async () => {
    const { bs, secureUri, events } = await bootstrapServer(pskConfig());
    const { client } = simulated(secureUri, 'dev-b', { identity: 'bs-other', key: Buffer.from('other') });
    await assert.rejects(client.start(), /Bootstrap-Request was refused with 4\.03/);
    const failed = events.find((e) => e.type === 'failed') as Extract<BootstrapEvent, { type: 'failed' }>;
    assert.deepEqual([failed.endpoint, failed.step, failed.code], ['dev-b', 'request', '4.03']);
    assert.match(failed.reason, /PSK identity "bs-other" may not bootstrap as "dev-b"/);
    assert.ok(!events.some((e) => e.type === 'request'));
    assert.deepEqual(bs.sessions(), []);

    // The same refusal for a raw CoAP request over a DtlsClientSocket.
    const port = bs.secureAddress()!.port;
    const dtls = new DtlsClientSocket({ host: '127.0.0.1', port, identity: 'bs-other', key: Buffer.from('other') });
    const transport = new CoapTransport({ socketFactory: () => clientDatagramSocket(dtls), ackTimeoutMs: 300 });
    await transport.bind({ port: 0, address: '127.0.0.1' });
    try {
      const res = await transport.request({ address: '127.0.0.1', port }, { method: Method.POST, path: ['bs'], query: ['ep=someone-else'] }, { timeoutMs: 3000 });
      assert.equal(res.code, Code.Forbidden);
      const ok = await transport.request({ address: '127.0.0.1', port }, { method: Method.POST, path: ['bs'], query: ['ep=dev-other'] }, { timeoutMs: 3000 });
      assert.equal(ok.code, Code.Changed, 'the bound endpoint may bootstrap');
    } finally {
      await transport.close();
    }
  });

  it('with a wrong bootstrap key, no handshake, no session, and the start fails', async () => {
    const { bs, secureUri, events } = await bootstrapServer(pskConfig());
    const { client, events: simEvents } = simulated(secureUri, 'dev-b', { identity: 'bs-dev-b', key: Buffer.from('wrong') });
    await assert.rejects(client.start(), /alert/);
    assert.ok(simEvents.some((e) => e.type === 'error' && e.operation === 'start'));
    assert.deepEqual(events, []);
    assert.equal(bs.dtls!.sessions().length, 0);
  });

  it('fails to start when the CoAPS port is taken, releasing the CoAP port', async () => {
    const { bs } = await bootstrapServer(pskConfig());
    const second = new BootstrapServer({ config: bootstrapConfigFrom(pskConfig()), dtls: { port: bs.secureAddress()!.port, credentials: BS_CREDENTIALS } });
    await assert.rejects(second.start({ port: 0, address: '127.0.0.1' }));
    assert.equal(second.address(), undefined);
    assert.equal(second.secureAddress(), undefined);
  });
});
