/**
 * Cancelling device-management requests with an AbortSignal (what VS Code's Cancel button on a
 * progress notification does): a request on the wire stops retransmitting and rejects with
 * RequestAbortedError; a request waiting for a sleeping client leaves its queue.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestAbortedError, RequestCancelledError } from '../../../src/core/server/errors';
import { Lwm2mServer } from '../../../src/core/server/lwm2mServer';
import { FakeClock } from '../coap/helpers';
import { FakeDevice, pathOf } from './device';

describe('cancelling requests', () => {
  let server: Lwm2mServer;
  let clock: FakeClock;
  const devices: FakeDevice[] = [];

  async function setup(query: string[]): Promise<FakeDevice> {
    clock = new FakeClock();
    server = new Lwm2mServer({ clock, awakeWindowMs: 10_000 });
    await server.start({ port: 0, address: '127.0.0.1' });
    const d = await FakeDevice.open(server.address()!.port);
    devices.push(d);
    await d.register(query, '</>;rt="oma.lwm2m";ct=110,</3/0>');
    return d;
  }

  afterEach(async () => {
    await server?.stop();
    for (const d of devices.splice(0)) await d.close();
  });

  it('stops retransmitting a sent request and rejects it with RequestAbortedError', async () => {
    const d = await setup(['ep=c', 'lwm2m=1.1']);
    const abort = new AbortController();
    const read = server.read('c', '/3/0/0', { format: 0, signal: abort.signal });
    const sent = await d.request();
    assert.equal(pathOf(sent), '/3/0/0');
    abort.abort();
    await assert.rejects(read, RequestAbortedError);
    clock.advance(10_000);
    assert.equal(await d.peer.silentFor(80), true, 'no retransmission after the abort');
    assert.equal(server.stats!.aborted, 1);
    assert.equal(server.stats!.timeouts, 0);

    // The client's lane is free again: the next request goes out and is answered.
    const next = server.read('c', '/3/0/1', { format: 0 });
    const req = await d.request();
    assert.equal(pathOf(req), '/3/0/1');
    d.reply(req, '2.05', 'model', { format: 0 });
    assert.equal(Buffer.from((await next).payload).toString(), 'model');
  });

  it('takes a request waiting for a sleeping client out of its queue', async () => {
    const d = await setup(['ep=q', 'lwm2m=1.1', 'Q']);
    clock.advance(10_000);
    assert.equal(server.isSleeping('q'), true);
    const abort = new AbortController();
    const read = server.read('q', '/3/0/0', { format: 0, signal: abort.signal });
    const exec = server.execute('q', '/3/0/4');
    assert.deepEqual(
      server.queuedRequests('q').map((r) => r.operation),
      ['read', 'execute'],
    );
    abort.abort();
    await assert.rejects(read, RequestCancelledError);
    assert.deepEqual(
      server.queuedRequests('q').map((r) => r.operation),
      ['execute'],
    );
    // The client wakes: only the Execute is sent.
    const ack = await d.call('POST', d.location);
    assert.equal(ack.packet.code, '2.04');
    const first = await d.request();
    assert.equal(pathOf(first), '/3/0/4');
    d.reply(first, '2.04');
    assert.equal((await exec).code, '2.04');
    assert.equal(await d.peer.silentFor(60), true, 'the cancelled Read is never sent');
  });

  it('sends nothing for a signal that is already aborted', async () => {
    const d = await setup(['ep=a', 'lwm2m=1.1']);
    await assert.rejects(server.read('a', '/3/0/0', { signal: AbortSignal.abort() }), RequestCancelledError);
    assert.equal(await d.peer.silentFor(60), true);
  });
});
