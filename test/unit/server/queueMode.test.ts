/**
 * Queue mode (lwm2m-protocol.md §7.7) and re-registration, with a fake clock driving the
 * awake window and queue expiry, and a raw-socket client on 127.0.0.1.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUint } from '../../../src/core/coap/options';
import { ClientNotFoundError, QueueTimeoutError, RequestCancelledError } from '../../../src/core/server/errors';
import { Lwm2mServer, type Lwm2mServerOptions, type QueuedRequestInfo } from '../../../src/core/server/lwm2mServer';
import type { ObservationEnd } from '../../../src/core/coap/observe';
import { FakeClock, tick, until } from '../coap/helpers';
import { FakeDevice, pathOf } from './device';

describe('queue mode', () => {
  let server: Lwm2mServer;
  let clock: FakeClock;
  let port: number;
  const devices: FakeDevice[] = [];
  const log: string[] = [];

  async function start(options: Lwm2mServerOptions = {}): Promise<void> {
    let n = 0;
    clock = new FakeClock();
    log.length = 0;
    server = new Lwm2mServer({ clock, awakeWindowMs: 10_000, newRegistrationId: () => `q${++n}`, ...options });
    server.on('sleeping', (r) => log.push(`sleeping ${r.endpoint}`));
    server.on('awake', (r) => log.push(`awake ${r.endpoint}`));
    server.on('requestQueued', (i) => log.push(`queued ${i.operation} ${i.path}`));
    server.on('requestExpired', (i) => log.push(`expired ${i.operation} ${i.path}`));
    await server.start({ port: 0, address: '127.0.0.1' });
    port = server.address()!.port;
  }

  async function device(query = ['ep=q', 'lwm2m=1.1', 'Q'], links = '</>;rt="oma.lwm2m";ct=110,</3/0>'): Promise<FakeDevice> {
    const d = await FakeDevice.open(port);
    devices.push(d);
    await d.register(query, links);
    return d;
  }

  afterEach(async () => {
    await server?.stop();
    for (const d of devices.splice(0)) await d.close();
  });

  it('sends at once while awake, holds requests while asleep, and flushes them one by one after the next Update', async () => {
    await start();
    const d = await device();
    assert.equal(server.registration('q')!.queueMode, true);
    const awakeRead = server.read('q', '/3/0/0', { format: 0 });
    d.reply(await d.request(), '2.05', 'now', { format: 0 });
    assert.equal(Buffer.from((await awakeRead).payload).toString(), 'now');

    clock.advance(9_999);
    assert.equal(server.isSleeping('q'), false);
    clock.advance(1);
    assert.equal(server.isSleeping('q'), true);
    assert.deepEqual(log, ['sleeping q']);

    const read = server.read('q', '/3/0/0', { format: 0 });
    const exec = server.execute('q', '/3/0/4');
    assert.equal(await d.peer.silentFor(60), true, 'nothing is sent to a sleeping client');
    const queue = server.queuedRequests('q');
    assert.deepEqual(
      queue.map((q: QueuedRequestInfo) => [q.operation, q.method, q.path, q.state]),
      [
        ['read', 'GET', '/3/0/0', 'waiting'],
        ['execute', 'POST', '/3/0/4', 'waiting'],
      ],
    );
    assert.equal(queue[0]!.expiresAt, clock.now() + 86_400_000 + 10_000, 'default: lifetime + grace');

    const ack = await d.call('POST', d.location);
    assert.equal(ack.packet.code, '2.04', 'the Update is answered first');
    const first = await d.request();
    assert.equal(pathOf(first), '/3/0/0');
    assert.deepEqual(log, ['sleeping q', 'queued read /3/0/0', 'queued execute /3/0/4', 'awake q']);
    assert.equal(server.queuedRequests('q')[0]!.state, 'sending');
    assert.equal(await d.peer.silentFor(40), true, 'one request at a time');
    d.reply(first, '2.05', 'later', { format: 0 });
    const second = await d.request();
    assert.equal(pathOf(second), '/3/0/4');
    d.reply(second, '2.04');
    assert.equal(Buffer.from((await read).payload).toString(), 'later');
    assert.equal((await exec).code, '2.04');
    assert.deepEqual(server.queuedRequests('q'), []);
  });

  it('wakes on any message from the client (here a Send)', async () => {
    await start();
    const d = await device();
    clock.advance(10_000);
    const read = server.read('q', '/3/0/0', { format: 0 });
    assert.equal(await d.peer.silentFor(40), true);
    assert.equal((await d.call('POST', ['dp'], [], '[{"n":"/3/0/9","v":50}]', 110)).packet.code, '2.04');
    const req = await d.request();
    d.reply(req, '2.05', 'x', { format: 0 });
    await read;
    assert.deepEqual(log.slice(-1), ['awake q']);
  });

  it('cancels a waiting request, expires one with QueueTimeoutError, and rejects the rest when the client de-registers', async () => {
    await start();
    const d = await device();
    clock.advance(10_000);
    const cancelled = server.read('q', '/3/0/1');
    const expiring = server.read('q', '/3/0/2', { queueTimeoutMs: 5_000 });
    const orphan = server.read('q', '/3/0/3');
    const [c, e] = server.queuedRequests('q');
    assert.equal(server.cancelQueuedRequest('q', c!.id), true);
    assert.equal(server.cancelQueuedRequest('q', c!.id), false);
    await assert.rejects(cancelled, RequestCancelledError);
    assert.equal(e!.expiresAt, clock.now() + 5_000);
    clock.advance(5_000);
    await assert.rejects(expiring, (err: unknown) => err instanceof QueueTimeoutError && err.waitedMs === 5_000);
    assert.ok(log.includes('expired read /3/0/2'));
    assert.deepEqual(
      server.queuedRequests('q').map((q) => q.path),
      ['/3/0/3'],
    );
    const orphaned = assert.rejects(orphan, ClientNotFoundError);
    assert.equal((await d.call('DELETE', d.location)).packet.code, '2.02');
    await orphaned;
    assert.equal(await d.peer.silentFor(30), true);
  });

  it('follows the 1.0 binding: UQ is queue mode, an Update to U leaves it and flushes the queue', async () => {
    await start();
    const d = await device(['ep=old', 'lwm2m=1.0', 'b=UQ'], '</3/0>');
    assert.equal(server.registration('old')!.queueMode, true);
    clock.advance(10_000);
    const read = server.read('old', '/3/0/0', { format: 0 });
    assert.equal(await d.peer.silentFor(30), true);
    assert.equal(await d.update(['b=U']), '2.04');
    assert.equal(server.registration('old')!.queueMode, false);
    d.reply(await d.request(), '2.05', 'x', { format: 0 });
    await read;
    clock.advance(60_000);
    assert.equal(server.isSleeping('old'), false, 'no longer in queue mode');
  });

  it('turns queue mode on from a Q flag in an Update (1.1)', async () => {
    await start();
    const d = await device(['ep=late', 'lwm2m=1.1'], '</3/0>');
    assert.equal(server.registration('late')!.queueMode, false);
    assert.equal(await d.update(['Q']), '2.04');
    assert.equal(server.registration('late')!.queueMode, true);
    assert.equal(await d.update(['Q=1']), '4.00');
    clock.advance(10_000);
    assert.equal(server.isSleeping('late'), true);
  });

  it('keeps the queue over a re-registration and sends it afterwards', async () => {
    await start();
    const d = await device();
    clock.advance(10_000);
    const read = server.read('q', '/3/0/0', { format: 0 });
    await tick(10);
    await d.register(['ep=q', 'lwm2m=1.1', 'Q'], '</3/0>');
    d.reply(await d.request(), '2.05', 'again', { format: 0 });
    assert.equal(Buffer.from((await read).payload).toString(), 'again');
  });
});

describe('re-registration', () => {
  let server: Lwm2mServer;
  const devices: FakeDevice[] = [];

  afterEach(async () => {
    await server?.stop();
    for (const d of devices.splice(0)) await d.close();
  });

  it('replaces the registration and drops its observations (the next notification gets RST)', async () => {
    let n = 0;
    server = new Lwm2mServer({ newRegistrationId: () => `r${++n}` });
    await server.start({ port: 0, address: '127.0.0.1' });
    const d = await FakeDevice.open(server.address()!.port);
    devices.push(d);
    await d.register(['ep=dev', 'lwm2m=1.1'], '</3/0>');
    const ended: [string, ObservationEnd][] = [];
    const events: string[] = [];
    server.on('observationEnded', (o, reason) => ended.push([o.path.toString(), reason]));
    server.on('replaced', (p, r) => events.push(`replaced ${p.id} by ${r.id}`));
    server.on('registered', (r) => events.push(`registered ${r.id}`));
    const pending = server.observe('dev', '/3/0/9');
    const req = await d.request();
    d.reply(req, '2.05', '[{"n":"/3/0/9","v":1}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
    await pending;
    assert.equal(server.observations('dev').length, 1);

    await d.register(['ep=dev', 'lwm2m=1.1'], '</3/0>,</3303/0>');
    assert.deepEqual(events, ['replaced r1 by r2', 'registered r2']);
    assert.deepEqual(ended, [['/3/0/9', 'cancelled']]);
    assert.deepEqual(server.observations('dev'), []);
    assert.equal(server.registration('dev')!.id, 'r2');
    assert.deepEqual(
      server.registration('dev')!.objects.map((o) => o.id),
      [3, 3303],
    );
    const mid = d.notify(req, 2, '[{"n":"/3/0/9","v":2}]', 110);
    const rst = await d.peer.next();
    assert.equal(rst.packet.reset, true);
    assert.equal(rst.packet.messageId, mid);
    await until(() => server.registrations().length === 1);
  });
});
