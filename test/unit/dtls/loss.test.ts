/** Lost handshake datagrams, the retransmission timer, and floods of ClientHellos. */

import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import type { Clock } from '../../../src/core/coap/clock';
import { DtlsClient, DtlsTimeoutError, type DtlsServer } from '../../../src/core/dtls';
import { ContentType, HandshakeType } from '../../../src/core/dtls/constants';
import { parseHandshakeFragments, parseHelloVerifyRequest } from '../../../src/core/dtls/handshake';
import { parseRecords } from '../../../src/core/dtls/record';
import { KEY, Relay, clientHelloRecord, connect, describe as contents, echoServer, roundTrip, sleep, until, type Direction } from './helpers';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function server(options: Parameters<typeof echoServer>[0] = {}): Promise<{ server: DtlsServer; port: number }> {
  const s = await echoServer(options);
  cleanup.push(() => s.server.close());
  return s;
}

/** Drops the `nth` datagram in `direction` whose contents include `marker`. */
function dropNth(direction: Direction, marker: string, nth = 1): { dropped: number; fn: (d: Direction, datagram: Buffer) => boolean } {
  let seen = 0;
  const state = {
    dropped: 0,
    fn: (d: Direction, datagram: Buffer): boolean => {
      if (d !== direction || !contents(datagram).includes(marker) || ++seen !== nth) return false;
      state.dropped++;
      return true;
    },
  };
  return state;
}

describe('retransmission (RFC 6347 §4.2.4)', { timeout: 60_000 }, () => {
  const cases: [string, Direction, string, number][] = [
    ['the first ClientHello', 'toServer', 'hs:ClientHello', 1],
    ['the HelloVerifyRequest', 'toClient', 'hs:HelloVerifyRequest', 1],
    ['the ClientHello with the cookie', 'toServer', 'hs:ClientHello', 2],
    ["the server's ServerHello flight", 'toClient', 'hs:ServerHello', 1],
    ["the client's ClientKeyExchange flight", 'toServer', 'hs:ClientKeyExchange', 1],
    ["the server's final ChangeCipherSpec + Finished (resent when the client repeats its flight)", 'toClient', 'ccs', 1],
  ];
  for (const [what, direction, marker, nth] of cases) {
    it(`completes the handshake when ${what} is lost`, async () => {
      const { server: s, port } = await server({ retransmitInitialMs: 100 });
      const drop = dropNth(direction, marker, nth);
      const relay = await new Relay(port, drop.fn).start();
      cleanup.push(() => relay.close());
      const c = await connect(relay.port, { retransmitInitialMs: 100 });
      cleanup.push(() => c.close());
      assert.equal((await roundTrip(c, 'after loss')).toString(), 'echo:after loss');
      assert.equal(drop.dropped, 1);
      assert.ok(c.stats.retransmissions + s.stats.retransmissions >= 1);
    });
  }

  it('with the default 1 s timer, a lost server flight costs about a second', async () => {
    const { port } = await server();
    const relay = await new Relay(port, dropNth('toClient', 'hs:ServerHello').fn).start();
    cleanup.push(() => relay.close());
    const started = Date.now();
    const c = await connect(relay.port);
    cleanup.push(() => c.close());
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 2500, `took ${took} ms`);
  });

  it('survives heavy random loss in both directions', async () => {
    let n = 0;
    const { port } = await server({ retransmitInitialMs: 50, retransmitMaxMs: 200 });
    // Deterministic "random": drop about every third datagram.
    const relay = await new Relay(port, () => ++n % 3 === 0).start();
    cleanup.push(() => relay.close());
    const c = await connect(relay.port, { retransmitInitialMs: 50, retransmitMaxMs: 200, handshakeTimeoutMs: 10_000 });
    cleanup.push(() => c.close());
    assert.ok(c.session);
  });

  it('doubles the timeout from 1 s up to 60 s, then gives up at the handshake deadline', async () => {
    const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout(fn, ms) {
        const t = { fn, ms, cleared: false };
        timers.push(t);
        return t;
      },
      clearTimeout(handle) {
        if (handle) (handle as { cleared: boolean }).cleared = true;
      },
    };
    const silent = dgram.createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanup.push(() => silent.close());
    let hellos = 0;
    silent.on('message', () => hellos++);
    const c = new DtlsClient({ clock, handshakeTimeoutMs: 300_000 });
    const result = c.connect('127.0.0.1', silent.address().port, 'id', KEY);
    await until(() => hellos === 1, 1000, 'first ClientHello');
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const pending = timers.filter((t) => !t.cleared && t.ms !== 300_000);
      assert.equal(pending.length, 1);
      const t = pending[0]!;
      delays.push(t.ms);
      t.cleared = true;
      t.fn();
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    await until(() => hellos === 10, 1000, 'retransmitted ClientHellos');
    timers.find((t) => t.ms === 300_000)!.fn();
    await assert.rejects(result, DtlsTimeoutError);
  });
});

describe('floods', { timeout: 60_000 }, () => {
  it('answers a flood of cookie-less ClientHellos statelessly: no state, bounded memory', async () => {
    const { server: s, port } = await server();
    const attacker = dgram.createSocket('udp4');
    attacker.bind(0, '127.0.0.1');
    await once(attacker, 'listening');
    cleanup.push(() => attacker.close());
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const total = 20_000;
    for (let i = 0; i < total; i += 100) {
      for (let j = 0; j < 100; j++) {
        const random = Buffer.alloc(32);
        random.writeUInt32BE(i + j);
        attacker.send(clientHelloRecord({ random, recordSeq: i + j }), port, '127.0.0.1');
      }
      await sleep(2);
    }
    // Loopback drops part of a flood; wait until the server has seen all that arrived.
    for (let last = -1; last !== s.stats.datagramsReceived; ) {
      last = s.stats.datagramsReceived;
      await sleep(200);
    }
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(s.stats.datagramsReceived > total / 4, `only ${s.stats.datagramsReceived} ClientHellos arrived`);
    assert.equal(s.stats.handshakesStarted, 0);
    assert.equal(s.handshakesInProgress, 0);
    assert.equal(s.stats.helloVerifyRequestsSent, s.stats.datagramsReceived);
    // Without --expose-gc the heap still holds the flood's garbage.
    const limitMb = globalThis.gc ? 8 : 48;
    assert.ok(grown < limitMb * 1e6, `heap grew by ${(grown / 1e6).toFixed(1)} MB (limit ${limitMb} MB)`);
    // A real client still gets through.
    const c = await connect(port);
    cleanup.push(() => c.close());
    assert.equal((await roundTrip(c, 'ok')).toString(), 'echo:ok');
  });

  it('bounds half-open handshakes from peers that do echo the cookie, and forgets them at the deadline', async () => {
    const { server: s, port } = await server({ maxHandshakes: 5, handshakeTimeoutMs: 300 });
    const sockets = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const sock = dgram.createSocket('udp4');
        sock.bind(0, '127.0.0.1');
        await once(sock, 'listening');
        cleanup.push(() => sock.close());
        return sock;
      }),
    );
    await Promise.all(
      sockets.map(async (sock) => {
        const hvr = once(sock, 'message');
        sock.send(clientHelloRecord(), port, '127.0.0.1');
        const [datagram] = (await hvr) as [Buffer];
        const rec = parseRecords(datagram).records[0]!;
        assert.equal(rec.type, ContentType.Handshake);
        const [f] = parseHandshakeFragments(rec.fragment);
        assert.equal(f!.msgType, HandshakeType.HelloVerifyRequest);
        const { cookie } = parseHelloVerifyRequest(f!.data);
        sock.send(clientHelloRecord({ cookie, recordSeq: 1, messageSeq: 1 }), port, '127.0.0.1');
      }),
    );
    await until(() => s.stats.handshakesStarted + s.stats.dropped.overload === 20, 2000, 'all ClientHellos handled');
    assert.equal(s.stats.handshakesStarted, 5);
    assert.equal(s.handshakesInProgress, 5);
    assert.equal(s.stats.dropped.overload, 15);
    await until(() => s.handshakesInProgress === 0, 2000, 'half-open handshakes to expire');
    assert.equal(s.stats.handshakesFailed, 5);
  });
});
