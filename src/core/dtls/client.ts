/**
 * A DTLS 1.2 PSK client on its own UDP socket, for one server: connect() runs the handshake,
 * then send() and the 'message' event carry application data (a CoAP client sits on top).
 *
 * Events:
 *   message (data: Buffer)   application data from the server
 *   close   (reason: Error)  the session ended (close_notify, fatal alert, close())
 *   error   (err: Error)     socket errors, exceptions of listeners
 */

import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../coap/clock';
import { canonicalAddress, type Peer } from '../coap/peer';
import { ClientConnection } from './clientConnection';
import { DtlsClosedError } from './errors';
import { parseRecords } from './record';
import type { DtlsSession } from './session';
import { newStats, type DtlsStats } from './stats';
import { resolveSuites, type CipherSuiteName } from './suites';

export interface DtlsClientOptions {
  /** Suites offered, in order of preference. Default: all, CCM_8 first. */
  cipherSuites?: readonly (CipherSuiteName | number)[];
  /** Largest handshake datagram we send. Default 1200. */
  mtu?: number;
  /** connect() fails when the handshake takes longer. Default 60 s. */
  handshakeTimeoutMs?: number;
  /** Initial retransmission timeout of a flight; doubles up to `retransmitMaxMs`. Default 1000 / 60 000. */
  retransmitInitialMs?: number;
  retransmitMaxMs?: number;
  /** Local port to bind; default any. */
  localPort?: number;
  /** Local address to bind; default any address of the server's family. */
  localAddress?: string;
  clock?: Clock;
  /** For tests: creates the UDP socket. */
  socketFactory?: (type: 'udp4' | 'udp6') => dgram.Socket;
}

/** Events of DtlsClient and their arguments. */
export interface DtlsClientEvents {
  message: [data: Buffer];
  close: [reason: Error];
  error: [err: Error];
}

export class DtlsClient extends EventEmitter<DtlsClientEvents> {
  readonly stats: DtlsStats = newStats();
  private socket: dgram.Socket | undefined;
  private conn: ClientConnection | undefined;
  private socketClosed: Promise<void> | undefined;
  /** Datagrams handed to the socket whose send has not completed yet. */
  private unsent = 0;
  private onFlushed: (() => void) | undefined;

  constructor(private readonly options: DtlsClientOptions = {}) {
    super();
  }

  /** The session once connected. */
  get session(): DtlsSession | undefined {
    return this.conn?.state === 'established' ? this.conn : undefined;
  }

  /** The server's psk_identity_hint, if it sent one. */
  get identityHint(): Buffer | undefined {
    return this.conn?.hint;
  }

  /** Local address of the socket (after connect). */
  address(): { address: string; port: number } | undefined {
    return this.socket?.address();
  }

  /**
   * Handshakes with a server. Resolves with the session; rejects with DtlsAlertError (e.g. the
   * server refused the identity or key), DtlsTimeoutError or DtlsClosedError.
   */
  async connect(host: string, port: number, identity: string | Buffer, key: Buffer): Promise<DtlsSession> {
    if (this.conn) throw new Error('this DtlsClient is already connected; use a new one');
    const resolved = await lookup(host);
    const type = resolved.family === 6 ? 'udp6' : 'udp4';
    const socket = this.options.socketFactory?.(type) ?? dgram.createSocket(type);
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        void this.closeSocket();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(this.options.localPort ?? 0, this.options.localAddress, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.on('error', (err) => this.report(err));
    const server: Peer = { address: canonicalAddress(resolved.address), port };
    return new Promise<DtlsSession>((resolve, reject) => {
      const conn = new ClientConnection(
        server,
        {
          suites: resolveSuites(this.options.cipherSuites),
          mtu: this.options.mtu ?? 1200,
          retransmitInitialMs: this.options.retransmitInitialMs ?? 1000,
          retransmitMaxMs: this.options.retransmitMaxMs ?? 60_000,
          handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 60_000,
          clock: this.options.clock ?? systemClock,
          stats: this.stats,
        },
        {
          send: (datagram) => this.sendDatagram(datagram, port, resolved.address),
          established: () => resolve(conn),
          data: (plaintext) => this.safeEmit('message', plaintext),
          closed: (reason) => {
            if (conn.establishedAt === 0) reject(reason);
            else this.safeEmit('close', reason);
            void this.closeSocket();
          },
        },
        typeof identity === 'string' ? Buffer.from(identity, 'utf8') : identity,
        key,
      );
      this.conn = conn;
      socket.on('message', (buf, rinfo) => {
        try {
          this.stats.datagramsReceived++;
          if (rinfo.port !== port || canonicalAddress(rinfo.address) !== server.address) {
            this.stats.dropped.noSession++;
            return;
          }
          const { records, malformed } = parseRecords(buf);
          if (malformed) this.stats.dropped.malformed++;
          for (const rec of records) {
            this.stats.recordsReceived++;
            conn.handleRecord(rec);
          }
        } catch (err) {
          this.report(err);
        }
      });
      conn.start();
    });
  }

  /** Sends application data. Throws unless connected. */
  send(data: Buffer): void {
    if (!this.conn) throw new DtlsClosedError('not connected');
    this.conn.send(data);
  }

  /** Sends close_notify, closes the socket, clears every timer. */
  async close(): Promise<void> {
    this.conn?.close();
    await this.closeSocket();
  }

  private sendDatagram(datagram: Buffer, port: number, address: string): void {
    if (!this.socket) return;
    this.unsent++;
    this.socket.send(datagram, port, address, () => {
      if (--this.unsent === 0) this.onFlushed?.();
    });
  }

  /** Closes the socket once what was sent (a close_notify) has left it. */
  private closeSocket(): Promise<void> {
    const socket = this.socket;
    if (!this.socketClosed) {
      this.socket = undefined;
      this.socketClosed = (async () => {
        if (!socket) return;
        if (this.unsent > 0) await new Promise<void>((resolve) => (this.onFlushed = resolve));
        await new Promise<void>((resolve) => socket.close(() => resolve()));
      })();
    }
    return this.socketClosed;
  }

  private safeEmit<K extends keyof DtlsClientEvents>(event: K, ...args: DtlsClientEvents[K]): void {
    try {
      // The emitter cannot relate a generic event name to its argument tuple.
      (this as unknown as NodeJS.EventEmitter).emit(event, ...args);
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // A throwing error listener has nowhere left to go.
    }
  }
}
