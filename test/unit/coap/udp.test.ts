import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { PortInUseError } from '../../../src/core/coap/errors';
import { Code, Method } from '../../../src/core/coap/message';
import { CoapTransport } from '../../../src/core/coap/transport';
import { openUdpSocket, type SocketFactory } from '../../../src/core/coap/udp';

async function ipv6Available(): Promise<boolean> {
  try {
    const s = await openUdpSocket(0, '::1');
    s.close();
    return true;
  } catch {
    return false;
  }
}

/** A socket stand-in whose bind fails with `code`, or succeeds recording the address. */
function fakeSocket(code: string | undefined, bound: string[]): dgram.Socket {
  const s = new EventEmitter() as EventEmitter & { bind: unknown; close: unknown };
  s.bind = (opts: { address: string }, cb: () => void) => {
    if (code) setImmediate(() => s.emit('error', Object.assign(new Error(code), { code })));
    else {
      bound.push(opts.address);
      setImmediate(cb);
    }
  };
  s.close = () => {};
  return s as unknown as dgram.Socket;
}

describe('UDP binding', () => {
  it('binds an ephemeral port and reports it', async () => {
    const t = new CoapTransport();
    await t.bind({ port: 0, address: '127.0.0.1' });
    const a = t.address()!;
    assert.equal(a.address, '127.0.0.1');
    assert.equal(a.family, 'IPv4');
    assert.ok(a.port > 0);
    await t.close();
    assert.equal(t.address(), undefined);
  });

  it('fails with PortInUseError instead of sharing a port', async () => {
    const first = new CoapTransport();
    await first.bind({ port: 0, address: '127.0.0.1' });
    const port = first.address()!.port;
    const second = new CoapTransport();
    await assert.rejects(second.bind({ port, address: '127.0.0.1' }), (err: Error) => {
      assert.ok(err instanceof PortInUseError);
      assert.equal(err.port, port);
      assert.match(err.message, /port in use/);
      return true;
    });
    await first.close();
  });

  it('fails with PortInUseError even against a socket bound with SO_REUSEADDR (node-coap style)', async () => {
    const other = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
    const t = new CoapTransport();
    await assert.rejects(t.bind({ port: other.address().port, address: '127.0.0.1' }), PortInUseError);
    other.close();
  });

  it('falls back to 0.0.0.0 when dual-stack :: is unavailable, only for the default address', async () => {
    const bound: string[] = [];
    const factory: SocketFactory = (o) => fakeSocket(o.type === 'udp6' ? 'EAFNOSUPPORT' : undefined, bound);
    await openUdpSocket(0, undefined, factory);
    assert.deepEqual(bound, ['0.0.0.0']);
    await assert.rejects(openUdpSocket(0, '::', factory), /EAFNOSUPPORT/);
    const inUse: SocketFactory = () => fakeSocket('EADDRINUSE', bound);
    await assert.rejects(openUdpSocket(5683, undefined, inUse), PortInUseError, 'port in use is not an IPv6 problem');
  });

  it('serves and requests over IPv6 loopback', async (t) => {
    if (!(await ipv6Available())) return t.skip('no IPv6 on this host');
    const server = new CoapTransport({ onRequest: (req) => ({ code: Code.Content, payload: Buffer.from(req.peer.address) }) });
    await server.bind({ port: 0, address: '::1' });
    const client = new CoapTransport();
    await client.bind({ port: 0, address: '::1' });
    try {
      const res = await client.request({ address: '::1', port: server.address()!.port }, { method: Method.GET });
      assert.equal(res.payload.toString(), '::1');
    } finally {
      await client.close();
      await server.close();
    }
  });
});
