/**
 * DtlsClientSocket (a DtlsClient as a dgram.Socket for a CoAP transport) against a DtlsServer
 * on 127.0.0.1: bind handshakes, data both ways with the server as rinfo, nothing for other
 * addresses or without a session, sessionClosed on close_notify, reconnect() from the same local
 * port, close() during a handshake.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { DtlsAlertError, DtlsClientSocket, DtlsClosedError, type DtlsSession } from '../../../src/core/dtls';
import { IDENTITY, KEY, echoServer, until } from './helpers';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function bind(socket: DtlsClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address: '127.0.0.1' }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function sendOf(socket: DtlsClientSocket, data: string, port: number, address = '127.0.0.1'): Promise<Error | null> {
  return new Promise((resolve) => socket.send(Buffer.from(data), port, address, (err) => resolve(err)));
}

describe('DtlsClientSocket', { timeout: 30_000 }, () => {
  it('handshakes in bind(), carries data both ways, refuses other addresses, reconnects after close_notify from the same port', async () => {
    const { server, port } = await echoServer();
    cleanup.push(() => server.close());
    const socket = new DtlsClientSocket({ host: '127.0.0.1', port, identity: IDENTITY, key: KEY });
    cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
    const sessions: DtlsSession[] = [];
    socket.on('session', (s) => sessions.push(s));
    await bind(socket);
    assert.equal(socket.connected, true);
    assert.equal(sessions.length, 1);
    const local = socket.address();
    assert.equal(local.address, '127.0.0.1');
    assert.ok(local.port > 0);

    const got = once(socket, 'message');
    assert.equal(await sendOf(socket, 'hello', port), null);
    const [data, rinfo] = (await got) as [Buffer, dgram.RemoteInfo];
    assert.equal(data.toString(), 'echo:hello');
    assert.deepEqual([rinfo.address, rinfo.port, rinfo.family], ['127.0.0.1', port, 'IPv4']);
    // An IPv4-mapped address is the same server.
    assert.equal(await sendOf(socket, 'mapped', port, '::ffff:127.0.0.1'), null);
    await once(socket, 'message');

    const elsewhere = await sendOf(socket, 'x', port + 1);
    assert.ok(elsewhere instanceof DtlsClosedError);

    const closed = once(socket, 'sessionClosed');
    server.closeSession({ address: '127.0.0.1', port: local.port });
    const [reason] = (await closed) as [Error];
    assert.match(reason.message, /close_notify/);
    assert.equal(socket.connected, false);
    assert.ok((await sendOf(socket, 'lost', port)) instanceof DtlsClosedError);

    const session = await socket.reconnect();
    assert.notEqual(session.id, sessions[0]!.id);
    assert.equal(sessions.length, 2);
    assert.equal(socket.address().port, local.port, 'the same local port');
    const again = once(socket, 'message');
    assert.equal(await sendOf(socket, 'back', port), null);
    assert.equal(((await again) as [Buffer])[0].toString(), 'echo:back');
    assert.equal(server.sessions().length, 1);
  });

  it('fails bind() with the alert of a wrong key', async () => {
    const { server, port } = await echoServer();
    cleanup.push(() => server.close());
    const socket = new DtlsClientSocket({ host: '127.0.0.1', port, identity: IDENTITY, key: Buffer.from('wrong') });
    cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
    const err = await bind(socket).then(
      () => assert.fail('bound'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DtlsAlertError, String(err));
    assert.equal(socket.connected, false);
    assert.equal(server.sessions().length, 0);
  });

  it('close() during a handshake with a silent server ends it at once', async () => {
    const silent = dgram.createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanup.push(() => silent.close());
    let heard = 0;
    silent.on('message', () => heard++);
    const socket = new DtlsClientSocket({ host: '127.0.0.1', port: silent.address().port, identity: IDENTITY, key: KEY, client: { handshakeTimeoutMs: 20_000 } });
    const binding = bind(socket);
    await until(() => heard > 0, 2000, 'a ClientHello');
    const started = Date.now();
    const closed = new Promise<void>((r) => socket.close(() => r()));
    await assert.rejects(binding);
    await closed;
    assert.ok(Date.now() - started < 2000, 'not after the handshake timeout');
    await assert.rejects(socket.reconnect(), DtlsClosedError);
  });
});
