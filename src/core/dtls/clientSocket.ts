/**
 * A DtlsClient seen as a UDP socket, so that a CoAP transport written for `dgram` speaks CoAPS
 * to one server unchanged (the client-side counterpart of datagram.ts):
 *
 *   const dtls = new DtlsClientSocket({ host: '127.0.0.1', port: 5684, identity: 'dev1', key });
 *   const coaps = new CoapTransport({ socketFactory: () => clientDatagramSocket(dtls), onRequest });
 *   await coaps.bind({ port: 0, address: '127.0.0.1' });   // binds and runs the handshake
 *   await coaps.request({ address: '127.0.0.1', port: 5684 }, …);
 *   // session lost (server restarted, close_notify, alert): `dtls.connected` turns false
 *   await dtls.reconnect();                                 // a new handshake, same transport
 *
 * bind() runs the handshake; it fails (an 'error' event, which the transport's bind turns into
 * a rejection) when the handshake does. The session carries application data only: 'message'
 * delivers decrypted datagrams with the server as rinfo; send() encrypts to the server and
 * drops data while there is no session or for any other address (like a datagram to nowhere;
 * only a send callback learns). reconnect() closes the old session (close_notify) and
 * handshakes again from the same local port when it is still free, else from a new one.
 *
 * Only the part of dgram.Socket that a CoAP transport uses is provided: bind(options, callback),
 * address(), send(msg, port, address[, callback]), close([callback]), and the 'message' /
 * 'error' / 'listening' / 'close' events. Besides: 'session' (session) after every handshake
 * and 'sessionClosed' (reason) when an established session ends other than by reconnect() or
 * close().
 */

import type * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { canonicalAddress } from '../coap/peer';
import { DtlsClient, type DtlsClientOptions } from './client';
import { DtlsClosedError } from './errors';
import type { DtlsSession } from './session';

export interface DtlsClientSocketOptions {
  /** The server: host name or address, and UDP port. */
  host: string;
  port: number;
  /** PSK identity and key. */
  identity: string | Buffer;
  key: Uint8Array;
  /** DtlsClient options (cipher suites, timeouts, socket factory); the local port and address come from bind(). */
  client?: Omit<DtlsClientOptions, 'localPort' | 'localAddress'>;
}

/** Events of DtlsClientSocket besides those of dgram.Socket. */
export interface DtlsClientSocketEvents {
  message: [data: Buffer, rinfo: dgram.RemoteInfo];
  listening: [];
  close: [];
  error: [err: Error];
  session: [session: DtlsSession];
  sessionClosed: [reason: Error];
}

export class DtlsClientSocket extends EventEmitter<DtlsClientSocketEvents> {
  private client: DtlsClient | undefined;
  private server: { address: string; family: 'IPv4' | 'IPv6' } | undefined;
  private local: AddressInfo | undefined;
  private bindAddress: string | undefined;
  private closed = false;
  /** The handshake under way, shared by concurrent reconnect() calls, and its client. */
  private connecting: Promise<DtlsSession> | undefined;
  private handshaking: DtlsClient | undefined;

  constructor(private readonly options: DtlsClientSocketOptions) {
    super();
  }

  /** The established session, if any. */
  get session(): DtlsSession | undefined {
    return this.client?.session;
  }

  /** True while a session is established. */
  get connected(): boolean {
    return this.session !== undefined;
  }

  /** The DtlsClient of the current session (its stats), if any. */
  get dtlsClient(): DtlsClient | undefined {
    return this.client;
  }

  /** The server's address as resolved (after bind). */
  get serverAddress(): string | undefined {
    return this.server?.address;
  }

  bind(options: { port?: number; address?: string }, callback?: () => void): this {
    this.bindAddress = options.address;
    this.connecting = this.handshake(options.port ?? 0).finally(() => {
      this.connecting = undefined;
    });
    this.connecting.then(
      () => {
        this.emit('listening');
        callback?.();
      },
      (err: Error) => this.emit('error', err),
    );
    return this;
  }

  /**
   * Ends the current session (close_notify) and handshakes again, from the same local port when
   * it is free. Resolves with the new session; rejects like DtlsClient.connect().
   */
  reconnect(): Promise<DtlsSession> {
    if (this.closed) return Promise.reject(new DtlsClosedError('the socket is closed'));
    this.connecting ??= this.handshake(this.local?.port ?? 0).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async handshake(localPort: number): Promise<DtlsSession> {
    const old = this.client;
    this.client = undefined;
    if (old) await old.close();
    if (!this.server) {
      const host = this.options.host.replace(/^\[|\]$/g, '');
      const address = canonicalAddress(isIP(host) ? host : (await lookup(host)).address);
      this.server = { address, family: address.includes(':') ? 'IPv6' : 'IPv4' };
    }
    const key = Buffer.from(this.options.key.buffer, this.options.key.byteOffset, this.options.key.byteLength);
    const attempt = async (port: number): Promise<{ client: DtlsClient; session: DtlsSession }> => {
      const client = this.newClient(port);
      this.handshaking = client;
      try {
        return { client, session: await client.connect(this.server!.address, this.options.port, this.options.identity, key) };
      } finally {
        this.handshaking = undefined;
      }
    };
    let client: DtlsClient;
    let session: DtlsSession;
    try {
      ({ client, session } = await attempt(localPort));
    } catch (err) {
      // The old local port was taken meanwhile: any port will do.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || localPort === 0 || this.closed) throw err;
      ({ client, session } = await attempt(0));
    }
    if (this.closed) {
      await client.close();
      throw new DtlsClosedError('the socket was closed during the handshake');
    }
    this.client = client;
    const a = client.address();
    if (a) this.local = { address: a.address, port: a.port, family: this.server.family };
    this.emit('session', session);
    return session;
  }

  private newClient(localPort: number): DtlsClient {
    const client = new DtlsClient({ ...this.options.client, localPort, localAddress: this.bindAddress });
    client.on('message', (data) => {
      if (this.client !== client || !this.server) return;
      const rinfo: dgram.RemoteInfo = { address: this.server.address, port: this.options.port, family: this.server.family, size: data.length };
      this.emit('message', data, rinfo);
    });
    client.on('close', (reason) => {
      if (this.client === client && !this.closed) this.emit('sessionClosed', reason);
    });
    client.on('error', (err) => {
      if (this.client === client && this.listenerCount('error') > 0) this.emit('error', err);
    });
    return client;
  }

  address(): AddressInfo {
    if (!this.local) throw new Error('the DTLS client socket is not bound');
    return this.local;
  }

  send(msg: Uint8Array, port: number, address: string, callback?: (err: Error | null, bytes: number) => void): void {
    let err: Error | null = null;
    const client = this.client;
    if (!client?.session || port !== this.options.port || canonicalAddress(address) !== this.server?.address) {
      err = new DtlsClosedError(`no DTLS session with ${address}:${port}`);
    } else {
      try {
        client.send(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength));
      } catch (e) {
        err = e as Error;
        if (!callback && this.listenerCount('error') > 0) this.emit('error', err);
      }
    }
    callback?.(err, err ? 0 : msg.byteLength);
  }

  close(callback?: () => void): this {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    // A handshake under way ends now (its connect() rejects).
    void this.handshaking?.close();
    void Promise.resolve(this.connecting?.catch(() => undefined))
      .then(() => client?.close())
      .then(() => {
        this.emit('close');
        callback?.();
      });
    return this;
  }
}

/** A DtlsClientSocket as a dgram.Socket for a transport's socket factory (see the module comment). */
export function clientDatagramSocket(socket: DtlsClientSocket): dgram.Socket {
  return socket as unknown as dgram.Socket;
}
