/**
 * A DtlsServer seen as a UDP socket, so that a CoAP transport written for `dgram` serves CoAPS
 * unchanged:
 *
 *   const dtls = new DtlsServer({ psk: lookup });
 *   const coaps = new CoapTransport({ socketFactory: () => datagramSocket(dtls), onRequest });
 *   await coaps.bind({ port: 5684 });
 *   // in onRequest: dtls.sessionFor(request.peer)?.identity
 *
 * It carries application data only: 'message' delivers decrypted datagrams with the peer as
 * rinfo, send() encrypts to the peer's session (and drops data for a peer without one, like a
 * datagram to nowhere). Only the part of dgram.Socket that such a transport uses is provided:
 * bind(options, callback), address(), send(msg, port, address[, callback]), close([callback]),
 * and the 'message' / 'error' / 'listening' / 'close' events.
 */

import type * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Peer } from '../coap/peer';
import { DtlsClosedError } from './errors';
import type { DtlsServer } from './server';

class DatagramAdapter extends EventEmitter {
  private readonly forward = (data: Buffer, peer: Peer): void => {
    const rinfo: dgram.RemoteInfo = { address: peer.address, port: peer.port, family: peer.address.includes(':') ? 'IPv6' : 'IPv4', size: data.length };
    this.emit('message', data, rinfo);
  };
  private readonly forwardError = (err: Error): void => {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };

  constructor(private readonly server: DtlsServer) {
    super();
  }

  bind(options: { port?: number; address?: string }, callback?: () => void): this {
    this.server.bind(options.port ?? 0, options.address).then(
      () => {
        this.server.on('message', this.forward);
        this.server.on('error', this.forwardError);
        this.emit('listening');
        callback?.();
      },
      (err: Error) => this.emit('error', err),
    );
    return this;
  }

  address(): AddressInfo {
    const a = this.server.address();
    if (!a) throw new Error('the DTLS server is not bound');
    return a;
  }

  send(msg: Uint8Array, port: number, address: string, callback?: (err: Error | null, bytes: number) => void): void {
    let err: Error | null = null;
    try {
      // Like UDP to a host that is gone: no session, no error event (only the callback learns).
      if (!this.server.send({ address, port }, Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength))) err = new DtlsClosedError(`no DTLS session with ${address}:${port}`);
    } catch (e) {
      err = e as Error;
      if (!callback) this.forwardError(err);
    }
    callback?.(err, err ? 0 : msg.byteLength);
  }

  close(callback?: () => void): this {
    this.server.off('message', this.forward);
    this.server.off('error', this.forwardError);
    void this.server.close().then(() => {
      this.emit('close');
      callback?.();
    });
    return this;
  }
}

/** The server as a dgram.Socket for a transport's socket factory (see the module comment). */
export function datagramSocket(server: DtlsServer): dgram.Socket {
  return new DatagramAdapter(server) as unknown as dgram.Socket;
}
