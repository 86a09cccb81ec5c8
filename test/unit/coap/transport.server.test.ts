/** CoapTransport as the responder, driven by raw datagrams and by libcoap's coap-client-notls. */

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../../src/core/coap/message';
import { decodeBlock, decodeUint, encodeBlock } from '../../../src/core/coap/options';
import { CoapTransport, type IncomingRequest, type MalformedEvent, type OutgoingResponse, type TransportOptions } from '../../../src/core/coap/transport';
import { FakeClock, RawPeer, coapClient, optionValues, until } from './helpers';

describe('CoapTransport as a server', () => {
  let server: CoapTransport;
  let device: RawPeer;
  let requests: IncomingRequest[];

  async function start(handler: (req: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>, options: TransportOptions = {}): Promise<number> {
    requests = [];
    server = new CoapTransport({
      ...options,
      onRequest: (req) => {
        requests.push(req);
        return handler(req);
      },
    });
    await server.bind({ port: 0, address: '127.0.0.1' });
    device = await RawPeer.open();
    return server.address()!.port;
  }

  afterEach(async () => {
    await server.close();
    await device.close();
  });

  it('answers a CON request with a piggybacked ACK (same MID and token)', async () => {
    const port = await start(() => ({ code: Code.Content, contentFormat: 0, payload: Buffer.from('hello') }));
    device.send(port, { confirmable: true, code: 'GET', messageId: 0x1234, token: Buffer.from([1, 2]), options: [{ name: 'Uri-Path', value: Buffer.from('x') }] });
    const res = await device.next();
    assert.equal(res.packet.ack, true);
    assert.equal(res.packet.code, '2.05');
    assert.equal(res.packet.messageId, 0x1234);
    assert.deepEqual(res.packet.token, Buffer.from([1, 2]));
    assert.equal(res.packet.payload.toString(), 'hello');
    assert.deepEqual(requests[0]!.path, ['x']);
    assert.deepEqual(requests[0]!.peer, { address: '127.0.0.1', port: device.port });
  });

  it('answers a NON request with a NON response carrying the token', async () => {
    const port = await start(() => ({ code: Code.Content }));
    device.send(port, { code: 'GET', messageId: 5, token: Buffer.from([9]) });
    const res = await device.next();
    assert.equal(res.packet.confirmable || res.packet.ack || res.packet.reset, false);
    assert.deepEqual(res.packet.token, Buffer.from([9]));
  });

  it('answers a duplicate CON from the dedup cache without processing it again', async () => {
    const port = await start(() => ({ code: Code.Created, payload: Buffer.from(`n=${requests.length}`) }));
    const packet = { confirmable: true, code: 'POST', messageId: 77, token: Buffer.from([7]) };
    device.send(port, packet);
    const first = await device.next();
    device.send(port, packet);
    const second = await device.next();
    assert.deepEqual(second.raw, first.raw, 'the very same reply');
    assert.equal(requests.length, 1);
    assert.equal(server.stats.duplicates, 1);
    device.send(port, { ...packet, messageId: 78 });
    assert.equal((await device.next()).packet.payload.toString(), 'n=2', 'a new MID is a new request');
  });

  it('drops a duplicate NON silently', async () => {
    const port = await start(() => ({ code: Code.Changed }));
    const packet = { code: 'POST', messageId: 12, token: Buffer.from([3]) };
    device.send(port, packet);
    await device.next();
    device.send(port, packet);
    assert.equal(await device.silentFor(50), true);
    assert.equal(requests.length, 1);
  });

  it('bounds the dedup cache by count', async () => {
    const port = await start(() => ({ code: Code.Changed }), { dedupCapacity: 10 });
    for (let mid = 0; mid < 30; mid++) device.send(port, { confirmable: true, code: 'POST', messageId: mid });
    for (let i = 0; i < 30; i++) await device.next();
    assert.equal(server.dedupSize, 10);
  });

  it('counts malformed datagrams, RSTs a readable CON, and keeps serving', async () => {
    const malformed: MalformedEvent[] = [];
    const port = await start(() => ({ code: Code.Content }), { onMalformed: (e) => malformed.push(e) });
    const raw = (hex: string) => device.send(port, Buffer.from(hex.replace(/ /g, ''), 'hex'));
    raw('40 01');
    raw('80 01 00 01');
    raw('50 01 00 02 FF');
    raw('49 01 00 03 01 02 03 04 05 06 07 08 09');
    const rst = await device.next();
    assert.equal(rst.packet.reset, true);
    assert.equal(rst.packet.messageId, 3);
    raw('40 01 00 04 B9 72 64');
    assert.equal((await device.next()).packet.messageId, 4, 'truncated option: RST too');
    assert.equal(await device.silentFor(30), true, 'nothing for the unreadable and NON ones');
    assert.equal(server.stats.malformed, 5);
    assert.equal(malformed.length, 5);
    assert.match(malformed[3]!.reason, /token length 9/);
    device.send(port, { confirmable: true, code: 'GET', messageId: 5 });
    assert.equal((await device.next()).packet.code, '2.05');
  });

  it('answers 4.02 for an unsupported critical option, 4.05 for an unknown method, RST for a ping', async () => {
    const port = await start(() => ({ code: Code.Content }));
    device.send(port, { confirmable: true, code: 'GET', messageId: 1, options: [{ name: 'Proxy-Uri', value: Buffer.from('coap://x') }] });
    assert.equal((await device.next()).packet.code, '4.02');
    device.send(port, { confirmable: true, code: '0.09', messageId: 2 });
    assert.equal((await device.next()).packet.code, '4.05');
    device.send(port, { confirmable: true, code: '0.00', messageId: 3 });
    const pong = await device.next();
    assert.equal(pong.packet.reset, true);
    assert.equal(pong.packet.messageId, 3);
    assert.equal(requests.length, 0);
  });

  it('answers 5.00 when the handler throws, and survives throwing hooks', async () => {
    const errors: Error[] = [];
    const port = await start(
      () => {
        throw new Error('boom');
      },
      {
        onTraffic: () => {
          throw new Error('listener bug');
        },
        onError: (e) => errors.push(e),
      },
    );
    device.send(port, { confirmable: true, code: 'GET', messageId: 1 });
    assert.equal((await device.next()).packet.code, '5.00');
    assert.ok(errors.some((e) => e.message === 'boom'));
    assert.ok(errors.some((e) => e.message === 'listener bug'));
    assert.ok(server.stats.internalErrors >= 2);
  });

  it('sends a separate response for a slow handler: empty ACK, then CON until ACKed', async () => {
    const clock = new FakeClock();
    let finish!: (r: OutgoingResponse) => void;
    const port = await start(() => new Promise((r) => (finish = r)), { clock, random: () => 0 });
    const req = { confirmable: true, code: 'GET', messageId: 40, token: Buffer.from([4, 0]) };
    device.send(port, req);
    await until(() => requests.length === 1);
    clock.advance(1000);
    const emptyAck = await device.next();
    assert.equal(emptyAck.packet.ack, true);
    assert.equal(emptyAck.packet.code, '0.00');
    assert.equal(emptyAck.packet.messageId, 40);
    device.send(port, req);
    assert.deepEqual((await device.next()).raw, emptyAck.raw, 'a duplicate request gets the empty ACK again');
    finish({ code: Code.Content, payload: Buffer.from('done') });
    const response = await device.next();
    assert.equal(response.packet.confirmable, true);
    assert.notEqual(response.packet.messageId, 40);
    assert.deepEqual(response.packet.token, Buffer.from([4, 0]));
    clock.advance(2000);
    assert.deepEqual((await device.next()).raw, response.raw, 'retransmitted until ACKed');
    device.send(port, { ack: true, code: '0.00', messageId: response.packet.messageId });
    await until(() => clock.pending === 0);
    assert.equal(requests.length, 1);
  });

  it('serves a large body block-wise at the size the client asks for', async () => {
    const body = Buffer.from('abcdefghij'.repeat(20));
    const port = await start(() => ({ code: Code.Content, contentFormat: 42, payload: body }));
    const blocks: Buffer[] = [];
    let etag: Buffer | undefined;
    for (let num = 0; ; num++) {
      device.send(port, { confirmable: true, code: 'GET', messageId: 100 + num, options: [{ name: 'Block2', value: encodeBlock({ num, more: false, szx: 2 }) }] });
      const res = (await device.next()).packet;
      const b = decodeBlock(optionValues(res, 'Block2')[0]!);
      assert.equal(b.num, num);
      assert.equal(decodeUint(optionValues(res, 'Size2')[0]!), 200);
      assert.equal(decodeUint(optionValues(res, 'Content-Format')[0]!), 42);
      etag ??= optionValues(res, 'ETag')[0];
      assert.deepEqual(optionValues(res, 'ETag')[0], etag, 'one ETag for the whole body');
      blocks.push(res.payload);
      if (!b.more) break;
    }
    assert.deepEqual(Buffer.concat(blocks), body);
    assert.equal(requests.length, 1, 'later blocks come from the cached body');
    device.send(port, { confirmable: true, code: 'GET', messageId: 200, options: [{ name: 'Block2', value: encodeBlock({ num: 9, more: false, szx: 2 }) }] });
    assert.equal((await device.next()).packet.code, '4.02', 'a block beyond the body');
  });

  it('reassembles a Block1 upload, answering 2.31 with its preferred size, and 4.08 out of sequence', async () => {
    const port = await start(() => ({ code: Code.Changed }), { preferredSzx: 1 });
    const body = Buffer.alloc(100, 'z');
    const send = (mid: number, num: number, more: boolean, szx: number, chunk: Buffer) =>
      device.send(port, { confirmable: true, code: 'PUT', messageId: mid, options: [{ name: 'Uri-Path', value: Buffer.from('fw') }, { name: 'Block1', value: encodeBlock({ num, more, szx }) }], payload: chunk });
    send(1, 0, true, 2, body.subarray(0, 64));
    const cont = (await device.next()).packet;
    assert.equal(cont.code, '2.31');
    assert.deepEqual(decodeBlock(optionValues(cont, 'Block1')[0]!), { num: 0, more: true, szx: 1 }, 'asks for 32-byte blocks');
    send(2, 2, true, 1, body.subarray(64, 96));
    assert.equal((await device.next()).packet.code, '2.31');
    send(3, 3, false, 1, body.subarray(96));
    const done = (await device.next()).packet;
    assert.equal(done.code, '2.04');
    assert.deepEqual(decodeBlock(optionValues(done, 'Block1')[0]!), { num: 3, more: false, szx: 1 });
    assert.deepEqual(requests.map((r) => r.payload), [body]);
    send(4, 5, false, 1, Buffer.from('late'));
    assert.equal((await device.next()).packet.code, '4.08');
  });

  it('interoperates with libcoap: Block2 GET and Block1 PUT', async () => {
    const body = '0123456789'.repeat(300);
    const port = await start((req) => (req.method === 1 ? { code: Code.Content, payload: Buffer.from(body) } : { code: Code.Changed }));
    const get = await coapClient([`coap://127.0.0.1:${port}/big`]);
    assert.equal(get.stdout.trim(), body);
    await coapClient(['-m', 'put', '-b', '64', '-e', 'y'.repeat(300), `coap://127.0.0.1:${port}/up`]);
    assert.equal(requests.length, 2);
    assert.equal(requests[1]!.payload.toString(), 'y'.repeat(300));
  });
});
