/** CoapTransport as the requester, against a raw-socket peer (coap-packet on dgram). */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockTransferError, ResetError, TimeoutError, TransportClosedError } from '../../../src/core/coap/errors';
import { Code, Method } from '../../../src/core/coap/message';
import { decodeBlock, decodeUint, encodeBlock, encodeUint } from '../../../src/core/coap/options';
import { CoapTransport, type CoapResponse, type TransportOptions } from '../../../src/core/coap/transport';
import type { ObservationEnd } from '../../../src/core/coap/observe';
import { FakeClock, RawPeer, optionValues, tick, until, type Received } from './helpers';

describe('CoapTransport as a client', () => {
  let clock: FakeClock;
  let client: CoapTransport;
  let device: RawPeer;
  const peer = () => ({ address: '127.0.0.1', port: device.port });

  async function start(options: TransportOptions = {}): Promise<void> {
    client = new CoapTransport({ clock, random: () => 0, ...options });
    await client.bind({ port: 0, address: '127.0.0.1' });
  }

  /** Answers a received request with a piggybacked ACK. */
  function ack(req: Received, code: string, payload = '', options: { name: string; value: Buffer }[] = []): void {
    device.send(req.rinfo.port, { ack: true, code, messageId: req.packet.messageId, token: req.packet.token, payload: Buffer.from(payload), options });
  }

  beforeEach(async () => {
    clock = new FakeClock();
    device = await RawPeer.open();
  });

  afterEach(async () => {
    await client?.close();
    await device.close();
  });

  it('sends a CON request and resolves with a piggybacked response', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, path: ['3', '0', '0'], accept: 0 });
    const req = await device.next();
    assert.equal(req.packet.confirmable, true);
    assert.equal(req.packet.code, '0.01');
    assert.equal(req.packet.token.length, 8, 'random 8-byte token');
    assert.deepEqual(optionValues(req.packet, 'Uri-Path').map(String), ['3', '0', '0']);
    assert.deepEqual(optionValues(req.packet, 'Accept'), [Buffer.alloc(0)]);
    ack(req, '2.05', 'Open Mobile Alliance', [{ name: 'Content-Format', value: Buffer.alloc(0) }]);
    const res = await pending;
    assert.equal(res.code, Code.Content);
    assert.equal(res.payload.toString(), 'Open Mobile Alliance');
    assert.equal(res.contentFormat, 0);
    assert.ok(res.rtt >= 0);
    assert.equal(clock.pending, 0, 'no timers left');
  });

  it('accepts a separate response (empty ACK, then CON) and ACKs it', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, path: ['3', '0'] });
    const req = await device.next();
    device.send(req.rinfo.port, { ack: true, code: '0.00', messageId: req.packet.messageId });
    await tick();
    clock.advance(10_000);
    assert.equal(await device.silentFor(20), true, 'the empty ACK stopped retransmission');
    device.send(req.rinfo.port, { confirmable: true, code: '2.05', messageId: 0x4242, token: req.packet.token, payload: Buffer.from('later') });
    const ackOfResponse = await device.next();
    assert.equal(ackOfResponse.packet.ack, true);
    assert.equal(ackOfResponse.packet.code, '0.00');
    assert.equal(ackOfResponse.packet.messageId, 0x4242);
    assert.equal((await pending).payload.toString(), 'later');
  });

  it('accepts a separate CON response that overtakes the ACK', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, path: ['1'] });
    const req = await device.next();
    device.send(req.rinfo.port, { confirmable: true, code: '2.05', messageId: 7, token: req.packet.token, payload: Buffer.from('x') });
    assert.equal((await pending).payload.toString(), 'x');
    assert.equal((await device.next()).packet.messageId, 7, 'ACKed');
    clock.advance(60_000);
    assert.equal(await device.silentFor(20), true, 'no retransmission after the response');
  });

  it('retransmits a lost CON with the same MID and token, doubling the timeout', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, path: ['3'] });
    const first = await device.next();
    clock.advance(1999);
    assert.equal(await device.silentFor(20), true, 'nothing before ACK_TIMEOUT');
    clock.advance(1);
    const second = await device.next();
    assert.equal(second.packet.messageId, first.packet.messageId);
    assert.deepEqual(second.packet.token, first.packet.token);
    clock.advance(3999);
    assert.equal(await device.silentFor(20), true, 'the next timeout is doubled');
    clock.advance(1);
    const third = await device.next();
    ack(third, '2.05', 'ok');
    assert.equal((await pending).payload.toString(), 'ok');
    assert.equal(client.stats.retransmissions, 2);
  });

  it('draws the initial timeout from [ACK_TIMEOUT, ACK_TIMEOUT × 1.5]', async () => {
    await start({ random: () => 0.999 });
    void client.request(peer(), { method: Method.GET }).catch(() => {});
    await device.next();
    clock.advance(2997);
    assert.equal(await device.silentFor(20), true);
    clock.advance(2);
    await device.next();
  });

  it('gives up after MAX_RETRANSMIT retransmissions with a TimeoutError', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, path: ['3'] });
    const sentAt: number[] = [];
    const t0 = clock.now();
    await device.next();
    sentAt.push(0);
    for (const step of [2000, 4000, 8000, 16000]) {
      clock.advance(step);
      await device.next();
      sentAt.push(clock.now() - t0);
    }
    assert.deepEqual(sentAt, [0, 2000, 6000, 14000, 30000]);
    clock.advance(31_999);
    await tick();
    let settled = false;
    pending.catch(() => {}).finally(() => (settled = true));
    await tick();
    assert.equal(settled, false, 'still waiting before 62 s');
    clock.advance(1);
    await assert.rejects(pending, TimeoutError);
    assert.equal(client.stats.timeouts, 1);
    assert.equal(clock.pending, 0);
  });

  it('fails a request past its deadline while waiting for a separate response', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET }, { timeoutMs: 5000 });
    const req = await device.next();
    device.send(req.rinfo.port, { ack: true, code: '0.00', messageId: req.packet.messageId });
    await tick();
    clock.advance(5000);
    await assert.rejects(pending, (err: Error) => err instanceof TimeoutError && /within 5000 ms/.test(err.message));
  });

  it('rejects with ResetError when the peer answers RST', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET });
    const req = await device.next();
    device.send(req.rinfo.port, { reset: true, code: '0.00', messageId: req.packet.messageId });
    await assert.rejects(pending, ResetError);
  });

  it('sends NON requests and matches the NON response by token', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET, nonConfirmable: true });
    const req = await device.next();
    assert.equal(req.packet.confirmable, false);
    device.send(req.rinfo.port, { code: '2.05', messageId: 99, token: req.packet.token, payload: Buffer.from('n') });
    assert.equal((await pending).payload.toString(), 'n');
  });

  it('answers a response with an unknown token with RST', async () => {
    await start();
    const port = client.address()!.port;
    device.send(port, { confirmable: true, code: '2.05', messageId: 321, token: Buffer.from('nobody'), payload: Buffer.from('?') });
    const rst = await device.next();
    assert.equal(rst.packet.reset, true);
    assert.equal(rst.packet.messageId, 321);
    assert.equal(client.stats.unmatched, 1);
  });

  describe('Block2 download', () => {
    const BODY = Buffer.from(Array.from({ length: 200 }, (_, i) => i));

    /** Answers a request with block `num` of BODY (64-byte blocks) and the given ETag. */
    function block(req: Received, num: number, etag: number[]): void {
      device.send(req.rinfo.port, {
        ack: true,
        code: '2.05',
        messageId: req.packet.messageId,
        token: req.packet.token,
        options: [
          { name: 'ETag', value: Buffer.from(etag) },
          { name: 'Block2', value: encodeBlock({ num, more: (num + 1) * 64 < BODY.length, szx: 2 }) },
        ],
        payload: BODY.subarray(num * 64, num * 64 + 64),
      });
    }

    it('reassembles a Block2 response, asking each block without Observe', async () => {
      await start();
      const pending = client.request(peer(), { method: Method.GET, path: ['5', '0', '0'] });
      const requests: Received[] = [];
      for (let n = 0; n < 4; n++) {
        const req = await device.next();
        requests.push(req);
        block(req, n, [1, 2]);
      }
      const res = await pending;
      assert.deepEqual(res.payload, BODY);
      assert.equal(optionValues(requests[0]!.packet, 'Block2').length, 0, 'the first request asks for nothing');
      assert.deepEqual(
        requests.slice(1).map((r) => decodeBlock(optionValues(r.packet, 'Block2')[0]!)),
        [1, 2, 3].map((num) => ({ num, more: false, szx: 2 })),
      );
      for (const r of requests.slice(1)) assert.deepEqual(optionValues(r.packet, 'Uri-Path').map(String), ['5', '0', '0']);
    });

    it('fails when the ETag changes between blocks', async () => {
      await start();
      const pending = client.request(peer(), { method: Method.GET, path: ['5'] });
      block(await device.next(), 0, [1]);
      block(await device.next(), 1, [2]);
      await assert.rejects(pending, (err: Error) => err instanceof BlockTransferError && /ETag/.test(err.message));
    });
  });

  it('uploads a large payload block-wise, switching to the smaller block size the server asks for', async () => {
    const received: Buffer[] = [];
    const server = new CoapTransport({
      preferredSzx: 2,
      onRequest: (req) => {
        received.push(req.payload);
        return { code: Code.Changed };
      },
    });
    await server.bind({ port: 0, address: '127.0.0.1' });
    try {
      await start({ clock: undefined });
      const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
      const res = await client.request({ address: '127.0.0.1', port: server.address()!.port }, { method: Method.PUT, path: ['5', '0', '0'], payload: body });
      assert.equal(res.code, Code.Changed);
      assert.equal(received.length, 1, 'the handler sees the whole body once');
      assert.deepEqual(received[0], body);
      assert.equal(server.stats.received, 1 + Math.ceil((3000 - 1024) / 64), 'one 1024-byte block, then 64-byte blocks');
    } finally {
      await server.close();
    }
  });

  describe('Observe', () => {
    function notify(req: Received, seq: number, payload: string, confirmable = false, code = '2.05'): void {
      device.send(req.rinfo.port, {
        confirmable,
        code,
        messageId: 1000 + seq,
        token: req.packet.token,
        options: code.startsWith('2') ? [{ name: 'Observe', value: encodeUint(seq) }] : [],
        payload: Buffer.from(payload),
      });
    }

    async function observe(): Promise<{ req: Received; seen: string[]; ended: ObservationEnd[]; result: Awaited<ReturnType<CoapTransport['observe']>> }> {
      const seen: string[] = [];
      const ended: ObservationEnd[] = [];
      const pending = client.observe(
        peer(),
        { method: Method.GET, path: ['3303', '0', '5700'] },
        { onNotification: (r: CoapResponse) => seen.push(r.payload.toString()), onEnd: (e) => ended.push(e) },
      );
      const req = await device.next();
      assert.deepEqual(optionValues(req.packet, 'Observe'), [Buffer.alloc(0)], 'Observe=0 as an empty option');
      ack(req, '2.05', '20.0', [{ name: 'Observe', value: encodeUint(5) }]);
      return { req, seen, ended, result: await pending };
    }

    it('delivers notifications in order and drops stale or reordered ones', async () => {
      await start();
      const { req, seen, result } = await observe();
      assert.equal(result.response.payload.toString(), '20.0');
      assert.equal(result.observation!.lastSequence, 5);
      notify(req, 6, '21.0');
      notify(req, 5, 'stale');
      notify(req, 8, '23.0', true);
      const ackOfCon = await device.next();
      assert.equal(ackOfCon.packet.messageId, 1008);
      assert.equal(ackOfCon.packet.ack, true);
      notify(req, 7, 'reordered', true);
      assert.equal((await device.next()).packet.ack, true, 'a stale CON notification is still ACKed');
      await until(() => client.stats.staleNotifications === 2);
      assert.deepEqual(seen, ['21.0', '23.0']);
      clock.advance(128_001);
      notify(req, 2, 'after silence');
      await until(() => seen.length === 3);
      assert.equal(seen[2], 'after silence', 'anything is newer after 128 s');
    });

    it('accepts a notification that overtakes the Observe response', async () => {
      await start();
      const pending = client.observe(peer(), { method: Method.GET, path: ['3', '0', '13'] }, { onNotification: () => {} });
      const req = await device.next();
      notify(req, 3, 'first', true);
      const { response, observation } = await pending;
      assert.equal(response.payload.toString(), 'first');
      assert.equal(observation?.lastSequence, 3);
      assert.equal((await device.next()).packet.ack, true);
    });

    it('ends the observation on an error notification', async () => {
      await start();
      const { req, seen, ended, result } = await observe();
      notify(req, 0, 'gone', false, '4.04');
      await until(() => ended.length === 1);
      assert.deepEqual(seen, ['gone']);
      assert.deepEqual(ended, ['ended-by-peer']);
      assert.equal(result.observation!.active, false);
    });

    it('cancels passively: the next notification gets RST', async () => {
      await start();
      const { req, seen, ended, result } = await observe();
      await result.observation!.cancel();
      assert.deepEqual(ended, ['cancelled']);
      notify(req, 6, 'unwanted', true);
      const rst = await device.next();
      assert.equal(rst.packet.reset, true);
      assert.equal(rst.packet.messageId, 1006);
      assert.deepEqual(seen, []);
    });

    it('cancels actively with GET Observe=1 and the same token and options', async () => {
      await start();
      const { req, result } = await observe();
      const cancelled = result.observation!.cancel({ active: true });
      const cancel = await device.next();
      assert.deepEqual(cancel.packet.token, req.packet.token);
      assert.equal(decodeUint(optionValues(cancel.packet, 'Observe')[0]!), 1);
      assert.deepEqual(optionValues(cancel.packet, 'Uri-Path').map(String), ['3303', '0', '5700']);
      notify(req, 9, 'in flight', true);
      assert.equal((await device.next()).packet.ack, true, 'a notification in flight is ACKed, not taken as the cancel response');
      ack(cancel, '2.05', '22.0');
      await cancelled;
    });

    it('fetches the rest of a Block2 notification with plain GETs', async () => {
      await start();
      const { req, seen } = await observe();
      device.send(req.rinfo.port, {
        code: '2.05',
        messageId: 2000,
        token: req.packet.token,
        options: [
          { name: 'Observe', value: encodeUint(6) },
          { name: 'Block2', value: encodeBlock({ num: 0, more: true, szx: 0 }) },
        ],
        payload: Buffer.alloc(16, 'a'),
      });
      const get = await device.next();
      assert.equal(optionValues(get.packet, 'Observe').length, 0);
      assert.deepEqual(decodeBlock(optionValues(get.packet, 'Block2')[0]!), { num: 1, more: false, szx: 0 });
      ack(get, '2.05', 'bb', [{ name: 'Block2', value: encodeBlock({ num: 1, more: false, szx: 0 }) }]);
      await until(() => seen.length === 1);
      assert.equal(seen[0], 'a'.repeat(16) + 'bb');
    });
  });

  it('fails pending requests with TransportClosedError on close and clears every timer', async () => {
    await start();
    const pending = client.request(peer(), { method: Method.GET });
    await device.next();
    await client.close();
    await assert.rejects(pending, TransportClosedError);
    assert.equal(clock.pending, 0);
    await assert.rejects(client.request(peer(), { method: Method.GET }), TransportClosedError);
  });
});
