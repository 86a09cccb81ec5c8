/** Our DtlsClient against our DtlsServer over loopback UDP. */

import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { DtlsAlertError, DtlsClosedError, DtlsServer, type DtlsClient, type DtlsSession } from '../../../src/core/dtls';
import { AlertDescription, ContentType, DTLS_1_2, HandshakeType } from '../../../src/core/dtls/constants';
import type { ClientConnection } from '../../../src/core/dtls/clientConnection';
import { encodeClientHello, parseHandshakeFragments, wholeMessage } from '../../../src/core/dtls/handshake';
import { parseRecords } from '../../../src/core/dtls/record';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites';
import { IDENTITY, KEY, Relay, connect, echoServer, roundTrip, sleep, until } from './helpers';

/** Everything opened by a test, closed after the file. */
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function server(options: Parameters<typeof echoServer>[0] = {}): Promise<{ server: DtlsServer; port: number }> {
  const s = await echoServer(options);
  cleanup.push(() => s.server.close());
  return s;
}

async function client(port: number, options: Parameters<typeof connect>[1] = {}, identity?: string, key?: Buffer): Promise<DtlsClient> {
  const c = await connect(port, options, identity, key);
  cleanup.push(() => c.close());
  return c;
}

describe('DtlsClient ⇄ DtlsServer', { timeout: 60_000 }, () => {
  for (const suite of CIPHER_SUITES) {
    it(`handshakes and carries data with ${suite.name}`, async () => {
      const { server: s, port } = await server({ cipherSuites: [suite.id] });
      const sessions: DtlsSession[] = [];
      s.on('session', (session) => sessions.push(session));
      const c = await client(port);
      assert.equal(c.session?.cipherSuite, suite.name);
      assert.equal(c.session?.extendedMasterSecret, true);
      assert.equal(c.session?.epoch, 1);
      assert.equal((await roundTrip(c, 'hello')).toString(), 'echo:hello');
      const big = Buffer.alloc(1500, 'x'); // larger than the handshake MTU: application data is never fragmented
      assert.deepEqual(await roundTrip(c, big), Buffer.concat([Buffer.from('echo:'), big]));
      assert.equal(sessions.length, 1);
      const peer = { address: '127.0.0.1', port: c.address()!.port };
      const session = s.sessionFor(peer);
      assert.equal(session, sessions[0]);
      assert.equal(session?.identity, IDENTITY);
      assert.deepEqual(session?.identityBytes, Buffer.from(IDENTITY));
      assert.equal(s.sessionFor({ address: '::ffff:127.0.0.1', port: peer.port }), session, 'IPv4-mapped form finds the same peer');
      assert.deepEqual(s.stats.dropped, { malformed: 0, replayed: 0, badEpoch: 0, authFailed: 0, unexpected: 0, noSession: 0, overload: 0 });
    });
  }

  it('hands the identity to an asynchronous lookup and the hint to the client', async () => {
    const asked: string[] = [];
    const { server: s, port } = await server({
      identityHint: 'lwm2m-workbench',
      psk: async (identity, peer) => {
        asked.push(`${identity}@${peer.address}`);
        await sleep(30);
        return identity === 'dev-2' ? KEY : undefined;
      },
    });
    const c = await client(port, {}, 'dev-2', KEY);
    assert.deepEqual(asked, ['dev-2@127.0.0.1']);
    assert.equal(c.identityHint?.toString(), 'lwm2m-workbench');
    assert.equal(s.sessions()[0]?.identity, 'dev-2');
  });

  it('many round trips in a row', async () => {
    const { port } = await server();
    const c = await client(port);
    for (let i = 0; i < 200; i++) assert.equal((await roundTrip(c, `m${i}`)).toString(), `echo:m${i}`);
  });

  it('fragments handshake messages to the MTU and reassembles them', async () => {
    const longIdentity = 'id-'.padEnd(300, 'x');
    const { server: s, port } = await server({ mtu: 100, identityHint: 'h'.repeat(400), psk: () => KEY });
    const relay = await new Relay(port).start();
    cleanup.push(() => relay.close());
    const c = await client(relay.port, { mtu: 100 }, longIdentity, KEY);
    assert.equal(s.sessions()[0]?.identity, longIdentity);
    assert.equal(c.identityHint?.toString(), 'h'.repeat(400));
    const fragmented = (direction: string): boolean =>
      relay.seen
        .filter((d) => d.direction === direction)
        .flatMap((d) => parseRecords(d.datagram).records)
        .filter((r) => r.epoch === 0 && r.type === ContentType.Handshake)
        .flatMap((r) => parseHandshakeFragments(r.fragment))
        .some((f) => f.offset > 0);
    assert.ok(fragmented('toClient'), 'ServerKeyExchange was fragmented');
    assert.ok(fragmented('toServer'), 'ClientKeyExchange was fragmented');
    for (const d of relay.seen) assert.ok(d.datagram.length <= 100 || d.direction === 'toServer', 'server datagrams fit the MTU');
  });
});

describe('handshake failures', { timeout: 60_000 }, () => {
  it('a wrong key: the server answers bad_record_mac, nothing is delivered', async () => {
    const { server: s, port } = await server();
    const delivered: Buffer[] = [];
    s.on('message', (d) => delivered.push(d));
    const failed = once(s, 'handshakeFailed');
    await assert.rejects(connect(port, {}, IDENTITY, Buffer.from('not the right key')), (err: unknown) => {
      assert.ok(err instanceof DtlsAlertError);
      assert.equal(err.description, AlertDescription.BadRecordMac);
      assert.equal(err.sentBy, 'peer');
      return true;
    });
    const [peer, reason] = await failed;
    assert.equal(peer.address, '127.0.0.1');
    assert.ok(reason instanceof DtlsAlertError && reason.sentBy === 'us' && reason.description === AlertDescription.BadRecordMac);
    assert.match(reason.message, /wrong pre-shared key/);
    assert.equal(s.sessions().length, 0);
    assert.equal(s.handshakesInProgress, 0);
    assert.equal(delivered.length, 0);
    assert.equal(s.stats.handshakesFailed, 1);
  });

  it('an unknown identity: unknown_psk_identity', async () => {
    const { port } = await server();
    await assert.rejects(connect(port, {}, 'who-am-i', KEY), (err: unknown) => err instanceof DtlsAlertError && err.description === AlertDescription.UnknownPskIdentity);
  });

  it('a failing lookup: internal_error, and the server carries on', async () => {
    const { server: s, port } = await server({
      psk: (id) => {
        if (id === 'boom') throw new Error('credential store down');
        return KEY;
      },
    });
    await assert.rejects(connect(port, {}, 'boom', KEY), (err: unknown) => err instanceof DtlsAlertError && err.description === AlertDescription.InternalError);
    const c = await client(port);
    assert.equal((await roundTrip(c, 'x')).toString(), 'echo:x');
    assert.equal(s.sessions().length, 1);
  });

  it('no common cipher suite: handshake_failure', async () => {
    const { port } = await server({ cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8'] });
    await assert.rejects(
      connect(port, { cipherSuites: ['TLS_PSK_WITH_AES_128_CBC_SHA256'] }),
      (err: unknown) => err instanceof DtlsAlertError && err.description === AlertDescription.HandshakeFailure && err.sentBy === 'peer',
    );
  });
});

describe('hostile and broken records after the handshake', { timeout: 60_000 }, () => {
  it('drops replayed, truncated, garbled, wrong-epoch and foreign records and counts them; the session survives', async () => {
    const { server: s, port } = await server();
    const delivered: string[] = [];
    s.on('message', (d) => delivered.push(d.toString()));
    const relay = await new Relay(port).start();
    cleanup.push(() => relay.close());
    const c = await client(relay.port);
    await roundTrip(c, 'one');
    const data = relay.seen.filter((d) => d.direction === 'toServer').at(-1)!.datagram;
    const drops = s.stats.dropped;

    relay.toServer(data); // replay
    await until(() => drops.replayed === 1, 1000, 'replay counted');

    relay.toServer(data.subarray(0, data.length - 3)); // cut short: the header's length runs past the end
    await until(() => drops.malformed === 1, 1000, 'truncation counted');

    const shortened = Buffer.from(data.subarray(0, data.length - 3));
    shortened.writeUInt16BE(shortened.length - 13, 11); // consistent header, missing tag bytes
    shortened.writeUIntBE(1000, 5, 6); // fresh sequence number
    relay.toServer(shortened);
    await until(() => drops.authFailed === 1, 1000, 'short record fails authentication');

    const garbled = Buffer.from(data);
    garbled.writeUIntBE(1001, 5, 6);
    garbled[garbled.length - 10]! ^= 0x40;
    relay.toServer(garbled);
    await until(() => drops.authFailed === 2, 1000, 'garbled record counted');

    for (const epoch of [0, 2, 7]) {
      const wrong = Buffer.from(data);
      wrong.writeUInt16BE(epoch, 3);
      relay.toServer(wrong);
    }
    await until(() => drops.badEpoch === 3, 1000, 'wrong epochs counted');

    relay.toServer(Buffer.from('not dtls at all'));
    await until(() => drops.malformed === 2, 1000, 'garbage counted');

    assert.deepEqual(delivered, ['one']);
    assert.equal((await roundTrip(c, 'two')).toString(), 'echo:two');
    assert.deepEqual(delivered, ['one', 'two']);
    assert.equal(s.sessions().length, 1);
  });

  it('refuses renegotiation with a no_renegotiation warning and keeps the session', async () => {
    const { server: s, port } = await server();
    const c = await client(port);
    // White box: a ClientHello sealed in epoch 1 by the client's own connection.
    const conn = (c as unknown as { conn: ClientConnection }).conn as unknown as {
      seal(w: unknown, type: ContentType, plaintext: Buffer): Buffer;
      write: unknown;
      hooks: { send(d: Buffer): void };
    };
    const body = encodeClientHello({ version: DTLS_1_2, random: Buffer.alloc(32, 5), sessionId: Buffer.alloc(0), cookie: Buffer.alloc(0), cipherSuites: [0xc0a8], compressionMethods: Buffer.from([0]), extensions: [] });
    conn.hooks.send(conn.seal(conn.write, ContentType.Handshake, wholeMessage(HandshakeType.ClientHello, 9, body)));
    await until(() => c.stats.alertsReceived === 1, 1000, 'no_renegotiation alert');
    assert.equal((await roundTrip(c, 'still here')).toString(), 'echo:still here');
    assert.equal(s.sessions().length, 1);
  });
});

describe('session life cycle', { timeout: 60_000 }, () => {
  it('close_notify from the client ends the server session', async () => {
    const { server: s, port } = await server();
    const c = await connect(port);
    const closed = once(s, 'sessionClosed');
    await c.close();
    const [session, reason] = await closed;
    assert.equal(session.identity, IDENTITY);
    assert.ok(reason instanceof DtlsClosedError);
    assert.match(reason.message, /close_notify/);
    assert.equal(s.sessions().length, 0);
  });

  it('closeSession() sends close_notify to the client', async () => {
    const { server: s, port } = await server();
    const c = await connect(port);
    const closed = once(c, 'close');
    s.closeSession({ address: '127.0.0.1', port: c.address()!.port });
    const [reason] = await closed;
    assert.match((reason as Error).message, /close_notify/);
    assert.throws(() => c.send(Buffer.from('x')), DtlsClosedError);
    assert.equal(s.send({ address: '127.0.0.1', port: 1 }, Buffer.from('nobody')), false);
  });

  it('a new handshake from the same address:port replaces the session (a rebooted device)', async () => {
    const { server: s, port } = await server();
    const first = await connect(port);
    const localPort = first.address()!.port;
    const firstId = s.sessions()[0]!.id;
    // The device "reboots": its socket goes away without close_notify.
    (first as unknown as { socket: { close(): void } }).socket.close();
    const replaced = once(s, 'sessionClosed');
    const second = await client(port, { localPort });
    const [old, reason] = await replaced;
    assert.equal(old.id, firstId);
    assert.match((reason as Error).message, /replaced/);
    assert.equal(s.sessions().length, 1);
    assert.notEqual(s.sessions()[0]!.id, firstId);
    assert.equal((await roundTrip(second, 'again')).toString(), 'echo:again');
  });

  it('expires idle sessions', async () => {
    const { server: s, port } = await server({ idleTimeoutMs: 200 });
    const c = await connect(port);
    const closed = once(c, 'close');
    await until(() => s.sessions().length === 0, 2000, 'idle expiry');
    assert.equal(s.stats.sessionsExpired, 1);
    await closed;
  });

  it('keeps at most maxSessions, closing the least recently active', async () => {
    const { server: s, port } = await server({ maxSessions: 2 });
    const a = await client(port);
    await sleep(5);
    const b = await client(port);
    await sleep(5); // lastActivity has millisecond resolution
    await roundTrip(a, 'a is active'); // b is now the least recently active
    const bClosed = once(b, 'close');
    await client(port);
    await bClosed;
    assert.equal(s.sessions().length, 2);
  });

  it('serves on a socket bound elsewhere and leaves it open on close()', async () => {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    cleanup.push(() => socket.close());
    const s = new DtlsServer({ psk: () => KEY });
    s.on('message', (data, peer) => s.send(peer, data));
    s.attach(socket);
    const c = await client(socket.address().port);
    assert.equal((await roundTrip(c, 'shared')).toString(), 'shared');
    await s.close();
    assert.equal(socket.address().port > 0, true, 'still bound');
    assert.equal(socket.listenerCount('message'), 0);
  });

  it('close() tells every client and ends with a close event; listener exceptions are reported, not thrown', async () => {
    const { server: s, port } = await server();
    const errors: Error[] = [];
    s.on('error', (e) => errors.push(e));
    s.on('message', () => {
      throw new Error('listener bug');
    });
    const c = await connect(port);
    assert.equal((await roundTrip(c, 'survives')).toString(), 'echo:survives');
    await until(() => errors.length === 1, 1000, 'error event');
    assert.match(errors[0]!.message, /listener bug/);
    const clientClosed = once(c, 'close');
    const serverClosed = once(s, 'close');
    await s.close();
    await Promise.all([clientClosed, serverClosed]);
    assert.equal(s.address(), undefined);
  });
});
