/**
 * The simulated client over CoAPS (issue 7): DTLS 1.2 with a PSK against our Lwm2mServer's
 * `dtls` port (127.0.0.1, ephemeral ports). Every operation goes through the session; a wrong
 * key registers nothing; a lost session (server restarted) is handshaken again before the next
 * Update; queue mode still drops datagrams while asleep; URI/PSK mismatches are refused.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFormat } from '../../../src/core/contentFormat';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import type { Lwm2mServer, NotificationEvent, PskCredential, SendEvent } from '../../../src/core/server/lwm2mServer';
import { SimulatedClient, parseServerUri, type SimulatedClientOptions } from '../../../src/core/sim/client';
import { until } from '../dtls/helpers';
import { nextEvent, nextServerEvent, recordEvents, sleep, startServer, udpHandles, valuesOf } from './helpers';

const P = (t: string) => Lwm2mPath.parse(t);
const rec = (path: string, type: Lwm2mRecord['type'], value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: P(path), type, value });

const CREDENTIALS: PskCredential[] = [
  { identity: 'sim-dtls-1', key: Buffer.from('00112233445566778899aabbccddeeff', 'hex') },
  { identity: 'id-2', key: Buffer.from('key of the second device'), endpoint: 'urn:dev:2' },
  { identity: 'sleepy', key: Buffer.from('sleepy-key') },
  { identity: 'again', key: Buffer.from('again-key') },
];
const keyOf = (identity: string): Uint8Array => CREDENTIALS.find((c) => c.identity === identity)!.key;

describe('SimulatedClient over CoAPS (DTLS 1.2, PSK)', { timeout: 120_000 }, () => {
  let server: Lwm2mServer;
  let secureUri: string;
  let securePort: number;
  const clients: SimulatedClient[] = [];

  before(async () => {
    ({ server } = await startServer({ dtls: { port: 0, credentials: CREDENTIALS } }));
    securePort = server.secureAddress()!.port;
    secureUri = `coaps://127.0.0.1:${securePort}`;
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await server.stop();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  function make(options: Partial<SimulatedClientOptions> & { endpoint: string }): SimulatedClient {
    const c = new SimulatedClient({ server: secureUri, lifetime: 60, tickMs: 0, transport: { ackTimeoutMs: 300 }, requestTimeoutMs: 5000, ...options });
    clients.push(c);
    return c;
  }

  it('registers over CoAPS and runs every operation through the session; de-registers on stop', async () => {
    const handlesBefore = udpHandles();
    const c = make({ endpoint: 'sim-dtls-1', psk: { identity: 'sim-dtls-1', key: keyOf('sim-dtls-1') } });
    const events = recordEvents(c);
    const registered = nextServerEvent(server, 'registered', (r) => r.endpoint === 'sim-dtls-1');
    await c.start();
    const [reg] = await registered;
    assert.equal(reg.security, 'PSK');
    assert.equal(reg.pskIdentity, 'sim-dtls-1');
    assert.deepEqual(reg.address, { address: '127.0.0.1', port: c.port });
    const session = events.find((e) => e.type === 'dtlsSession');
    assert.ok(session && session.type === 'dtlsSession');
    assert.equal(session.identity, 'sim-dtls-1');
    assert.equal(session.server, secureUri);
    assert.ok(server.dtls?.sessionFor({ address: '127.0.0.1', port: c.port! }), 'the server holds a session with the client');
    const plainBefore = server.stats!.received;
    const secureBefore = server.secureStats!.received;

    // Read in SenML CBOR and TLV.
    const expected = valuesOf(c.tree.read(P('/3/0')));
    for (const format of [ContentFormat.SenmlCbor, ContentFormat.Tlv]) {
      const read = await server.read(c.endpoint, '/3/0', { format });
      assert.equal(read.format, format);
      assert.deepEqual(valuesOf(read.records), expected, `format ${format}`);
    }
    // Discover.
    const discovered = await server.discover(c.endpoint, '/3303/0');
    assert.ok(discovered.links.some((l) => l.path.toString() === '/3303/0/5700'));
    // Write.
    await server.write(c.endpoint, '/3/0/14', [rec('/3/0/14', 'string', '+03:00')], { format: ContentFormat.Text });
    assert.equal(c.getValue('/3/0/14'), '+03:00');
    // Write-Attributes.
    await server.writeAttributes(c.endpoint, '/3303/0/5700', 'pmin=0&st=0.5');
    assert.deepEqual(c.effectiveAttributes('/3303/0/5700').st, 0.5);
    // Execute.
    c.setValue('/3303/0/5700', 25);
    assert.equal((await server.execute(c.endpoint, '/3303/0/5605')).code, '2.04');
    await until(() => c.getValue('/3303/0/5601') === 25 && c.getValue('/3303/0/5602') === 25);
    // Create and Delete.
    const created = await server.create(c.endpoint, '/3303', [rec('/3303/4/5750', 'string', 'Attic')], { format: ContentFormat.SenmlCbor });
    assert.equal(created.location, '/3303/4');
    assert.equal(c.getValue('/3303/4/5750'), 'Attic');
    assert.equal((await server.delete(c.endpoint, '/3303/4')).code, '2.02');
    assert.equal(c.tree.hasInstance(3303, 4), false);
    // Observe → notification → cancel.
    const observed = await server.observe(c.endpoint, '/3303/0/5700', { format: ContentFormat.SenmlCbor });
    assert.ok(observed.observation);
    const notified = nextServerEvent(server, 'notification', (n: NotificationEvent) => n.endpoint === c.endpoint && n.records.some((r) => r.value === 27.5));
    c.setValue('/3303/0/5700', 27.5);
    await notified;
    const cancelled = nextEvent(c, 'observeCancelled');
    assert.equal(await server.cancelObservation(c.endpoint, observed.observation.id, { active: true }), 1);
    assert.equal((await cancelled).reason, 'cancelled');
    assert.deepEqual(c.observations(), []);
    // Read-Composite and Write-Composite.
    const composite = await server.readComposite(c.endpoint, ['/3/0/0', '/3303/0/5701'], { format: ContentFormat.SenmlCbor });
    assert.deepEqual(valuesOf(composite.records), ['/3/0/0=LwM2M Workbench', '/3303/0/5701=Cel']);
    await server.writeComposite(c.endpoint, [rec('/3311/0/5850', 'boolean', true), rec('/3/0/15', 'string', 'Europe/Paris')]);
    assert.equal(c.getValue('/3311/0/5850'), true);
    assert.equal(c.getValue('/3/0/15'), 'Europe/Paris');
    // Send.
    const sent = nextServerEvent(server, 'send', (e: SendEvent) => e.endpoint === c.endpoint);
    assert.equal(await c.send(['/3303/0/5700']), '2.04');
    const [send] = await sent;
    assert.deepEqual(valuesOf(send.records), ['/3303/0/5700=27.5']);

    // Everything went over CoAPS, nothing over plain CoAP.
    assert.equal(server.stats!.received, plainBefore);
    assert.ok(server.secureStats!.received - secureBefore >= 15);
    assert.equal(server.dtls!.stats.dropped.authFailed, 0);

    // De-register.
    const deregistered = nextServerEvent(server, 'deregistered', (r) => r.endpoint === c.endpoint);
    await c.stop();
    await deregistered;
    assert.equal(server.registration(c.endpoint), undefined);
    await sleep(20);
    assert.equal(udpHandles(), handlesBefore, 'the socket is closed');
    await until(() => server.dtls!.sessions().length === 0, 3000, 'the close_notify to end the server session');
  });

  it('registers with an identity bound to another endpoint name and a chosen cipher suite', async () => {
    const c = make({ endpoint: 'urn:dev:2', psk: { identity: 'id-2', key: keyOf('id-2') }, cipherSuites: ['TLS_PSK_WITH_AES_128_GCM_SHA256'] });
    const session = nextEvent(c, 'dtlsSession');
    await c.start();
    assert.equal((await session).cipherSuite, 'TLS_PSK_WITH_AES_128_GCM_SHA256');
    assert.deepEqual([server.registration('urn:dev:2')?.security, server.registration('urn:dev:2')?.pskIdentity], ['PSK', 'id-2']);
  });

  it('with a wrong key: no registration, the start fails with an error event', async () => {
    const c = make({ endpoint: 'sim-dtls-1', psk: { identity: 'sim-dtls-1', key: Buffer.from('not the key') } });
    const events = recordEvents(c);
    await assert.rejects(c.start(), /alert/);
    const error = events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error', JSON.stringify(events));
    assert.equal(error.operation, 'start');
    assert.match(error.message, /bad_record_mac|decrypt_error/);
    assert.equal(server.registration('sim-dtls-1'), undefined);
    assert.equal(c.state, 'stopped');
    assert.ok(!events.some((e) => e.type === 'registered'));
  });

  it('an unknown identity and an identity not bound to the endpoint are refused', async () => {
    const stranger = make({ endpoint: 'stranger', psk: { identity: 'stranger', key: Buffer.from('whatever') } });
    await assert.rejects(stranger.start(), /unknown_psk_identity|alert/);
    const impostor = make({ endpoint: 'sim-dtls-1', psk: { identity: 'id-2', key: keyOf('id-2') } });
    await assert.rejects(impostor.start(), /Register was refused with 4\.03/);
    assert.equal(server.registration('sim-dtls-1'), undefined);
  });

  it('refuses coaps:// without a PSK and a PSK with coap://; parses coaps URIs with port 5684 by default', () => {
    assert.throws(() => new SimulatedClient({ server: secureUri }), /coaps:\/\/ needs a pre-shared key/);
    assert.throws(() => new SimulatedClient({ server: 'coap://127.0.0.1:5683', psk: { identity: 'a', key: Buffer.from('k') } }), /over coaps:\/\/ only/);
    assert.throws(() => new SimulatedClient({ server: secureUri, psk: { identity: '', key: Buffer.from('k') } }), /must not be empty/);
    assert.deepEqual(parseServerUri('coaps://example.com'), { uri: 'coaps://example.com', host: 'example.com', port: 5684, secure: true });
    assert.deepEqual(parseServerUri('coaps://[::1]:6000'), { uri: 'coaps://[::1]:6000', host: '::1', port: 6000, secure: true });
  });

  it('handshakes again after the server restarted (close_notify) before the next Update, then registers again', async () => {
    const first = await startServer({ dtls: { port: 0, credentials: CREDENTIALS } });
    const ports = { plain: first.port, secure: first.server.secureAddress()!.port };
    const c = make({ server: `coaps://127.0.0.1:${ports.secure}`, endpoint: 'again', psk: { identity: 'again', key: keyOf('again') } });
    await c.start();
    assert.equal(first.server.registration('again')?.security, 'PSK');
    const closed = nextEvent(c, 'dtlsClosed', () => true, 5000);
    await first.server.stop();
    assert.match((await closed).reason, /close_notify/);
    // The server comes back on the same ports (learnt from the first run), without the registration.
    const { server: second } = await startServer({ dtls: { port: ports.secure, credentials: CREDENTIALS } }, ports.plain);
    try {
      const rehandshake = nextEvent(c, 'dtlsSession', () => true, 8000);
      const registered = nextServerEvent(second, 'registered', (r) => r.endpoint === 'again', 8000);
      await c.update();
      await rehandshake;
      const [reg] = await registered;
      assert.equal(reg.security, 'PSK');
      assert.equal(reg.pskIdentity, 'again');
      await until(() => c.state === 'registered', 3000, 'registered again');
      assert.equal((await second.read('again', '/3/0/0', { format: ContentFormat.Text })).records[0]?.value, 'LwM2M Workbench');
    } finally {
      await c.stop();
      await second.stop();
    }
  });

  it('handshakes again when an Update timed out (the server lost the session without an alert)', async () => {
    const first = await startServer({ dtls: { port: 0, credentials: CREDENTIALS } });
    const c = make({ server: `coaps://127.0.0.1:${first.server.secureAddress()!.port}`, endpoint: 'again', psk: { identity: 'again', key: keyOf('again') }, requestTimeoutMs: 1500, retryMs: 200 });
    await c.start();
    // The server forgets the session silently (as after a crash): records of the old session are dropped.
    const dtls = first.server.dtls!;
    const session = dtls.sessions()[0]!;
    (dtls as unknown as { connections: Map<string, unknown> }).connections.clear();
    const dropped = dtls.stats.dropped.noSession;
    const errored = nextEvent(c, 'error', (e) => e.operation === 'update', 5000);
    const rehandshake = nextEvent(c, 'dtlsSession', () => true, 8000);
    const registered = nextEvent(c, 'registered', () => true, 8000);
    await c.update();
    assert.match((await errored).message, /no response/);
    assert.ok(dtls.stats.dropped.noSession > dropped);
    await rehandshake;
    await registered;
    assert.notEqual(dtls.sessions()[0]?.id, session.id);
    assert.equal(first.server.registration('again')?.pskIdentity, 'again');
    await c.stop();
    await first.server.stop();
  });

  it('queue mode over CoAPS: asleep, the records are dropped; the wake-up Update lets the queued request through', async () => {
    const c = make({ endpoint: 'sleepy', psk: { identity: 'sleepy', key: keyOf('sleepy') }, queueMode: true, awakeMs: 60_000 });
    await c.start();
    assert.equal(server.registration('sleepy')?.queueMode, true);
    c.sleep();
    assert.equal(c.awake, false);
    // The server still counts the client as awake (its window has not passed): the Read goes out and is not heard.
    const reading = server.read('sleepy', '/3/0/0', { format: ContentFormat.Text, timeoutMs: 10_000 });
    await until(() => c.droppedWhileAsleep > 0, 3000, 'a dropped datagram');
    assert.ok(server.dtls!.sessionFor({ address: '127.0.0.1', port: c.port! }), 'the session survives the sleep');
    // Awake again, the client hears the next retransmission of the Read.
    await c.wake();
    const res = await reading;
    assert.equal(res.records[0]?.value, 'LwM2M Workbench');
  });
});
