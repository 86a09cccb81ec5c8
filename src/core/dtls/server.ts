/**
 * A DTLS 1.2 PSK server on one UDP socket: one session per peer (address:port).
 *
 * A ClientHello without a valid cookie is answered statelessly with a HelloVerifyRequest;
 * only a ClientHello that echoes its cookie (the peer proved it receives at its address) creates
 * state, and at most `maxHandshakes` handshakes are under way at once. A new handshake from a
 * peer that has a session replaces that session once its cookie verifies (RFC 6347 §4.2.8: a
 * client that rebooted). Sessions idle for `idleTimeoutMs` expire; at `maxSessions` the least
 * recently active one makes room. Every timer is unref'd and cleared by close(); nothing thrown
 * by a listener or a malformed datagram escapes the socket handler.
 *
 * Events:
 *   session         (session: DtlsSession)                          a handshake completed
 *   message         (data: Buffer, peer: Peer, session: DtlsSession)  application data
 *   sessionClosed   (session: DtlsSession, reason: Error)           close_notify, alert, expiry, replacement, close()
 *   handshakeFailed (peer: Peer, reason: Error)                     alert (e.g. wrong key), timeout
 *   error           (err: Error)                                    socket errors, exceptions of listeners
 *   close           ()                                              the server closed
 */

import type * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../coap/clock';
import { canonicalAddress, formatPeer, socketAddress, type Peer } from '../coap/peer';
import { openUdpSocket, type SocketFactory } from '../coap/udp';
import { ContentType, DTLS_1_0, HandshakeType } from './constants';
import type { ConnectionHooks, ConnectionOptions } from './connection';
import { CookieJar } from './cookie';
import { DtlsClosedError } from './errors';
import { encodeHelloVerifyRequest, parseClientHello, parseHandshakeFragments, wholeMessage, type ClientHello } from './handshake';
import { parseRecords, serializeRecord, type DtlsRecord } from './record';
import { ServerConnection } from './serverConnection';
import type { DtlsSession } from './session';
import { newStats, type DtlsStats } from './stats';
import { resolveSuites, type CipherSuiteName } from './suites';

export interface DtlsServerOptions {
  /**
   * The pre-shared key of an identity, or undefined to refuse it (unknown_psk_identity).
   * May be asynchronous (a credential store).
   */
  psk: (identity: string, peer: Peer, identityBytes: Buffer) => Buffer | undefined | Promise<Buffer | undefined>;
  /**
   * psk_identity_hint sent in ServerKeyExchange; none by default (the message is then omitted).
   * Keep it within 128 bytes: OpenSSL clients refuse longer hints.
   */
  identityHint?: string | Buffer;
  /** Accepted suites by name or IANA number, in order of preference. Default: all, CCM_8 first. */
  cipherSuites?: readonly (CipherSuiteName | number)[];
  /** Largest handshake datagram we send. Default 1200. */
  mtu?: number;
  /** A session without traffic for this long is closed. Default 24 h. */
  idleTimeoutMs?: number;
  /** A handshake must complete within this time. Default 60 s. */
  handshakeTimeoutMs?: number;
  /** Handshakes under way at once; further ClientHellos are dropped. Default 256. */
  maxHandshakes?: number;
  /** Established sessions; the least recently active one is closed to make room. Default 10 000. */
  maxSessions?: number;
  /** Cookie secret lifetime. Default 60 s. */
  cookieRotateMs?: number;
  /** Initial retransmission timeout of a flight; doubles up to `retransmitMaxMs`. Default 1000 / 60 000. */
  retransmitInitialMs?: number;
  retransmitMaxMs?: number;
  clock?: Clock;
  /** For tests: creates the UDP socket of bind(). */
  socketFactory?: SocketFactory;
}

/** Events of DtlsServer and their arguments. */
export interface DtlsServerEvents {
  session: [session: DtlsSession];
  message: [data: Buffer, peer: Peer, session: DtlsSession];
  sessionClosed: [session: DtlsSession, reason: Error];
  handshakeFailed: [peer: Peer, reason: Error];
  error: [err: Error];
  close: [];
}

export class DtlsServer extends EventEmitter<DtlsServerEvents> {
  /** Counters of what was received, dropped and why. */
  readonly stats: DtlsStats = newStats();
  private socket: dgram.Socket | undefined;
  private ownsSocket = false;
  private family: 'udp4' | 'udp6' = 'udp4';
  private readonly connections = new Map<string, ServerConnection>();
  private handshakes = 0;
  private readonly cookies: CookieJar;
  private readonly connectionOptions: ConnectionOptions;
  private readonly hint: Buffer | undefined;
  private readonly idleTimeoutMs: number;
  private readonly maxHandshakes: number;
  private readonly maxSessions: number;
  private readonly clock: Clock;
  private sweepTimer: unknown;
  /** Datagrams handed to the socket whose send has not completed yet. */
  private unsent = 0;
  private onFlushed: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly onMessage = (buf: Buffer, rinfo: dgram.RemoteInfo): void => this.onDatagram(buf, rinfo);
  private readonly onSocketError = (err: Error): void => this.report(err);

  constructor(private readonly options: DtlsServerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.cookies = new CookieJar(options.cookieRotateMs ?? 60_000, () => this.clock.now());
    this.hint = typeof options.identityHint === 'string' ? Buffer.from(options.identityHint, 'utf8') : options.identityHint;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 24 * 3600_000;
    this.maxHandshakes = options.maxHandshakes ?? 256;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.connectionOptions = {
      suites: resolveSuites(options.cipherSuites),
      mtu: options.mtu ?? 1200,
      retransmitInitialMs: options.retransmitInitialMs ?? 1000,
      retransmitMaxMs: options.retransmitMaxMs ?? 60_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 60_000,
      clock: this.clock,
      stats: this.stats,
    };
  }

  /** Binds a UDP socket (dual-stack `::` without an address). Rejects with PortInUseError. */
  async bind(port: number, address?: string): Promise<AddressInfo> {
    if (this.socket) throw new Error('the DTLS server is already bound');
    const socket = await openUdpSocket(port, address, this.options.socketFactory);
    this.attach(socket);
    this.ownsSocket = true;
    return socket.address();
  }

  /** Serves on a socket bound elsewhere; close() then detaches from it but does not close it. */
  attach(socket: dgram.Socket): void {
    if (this.socket) throw new Error('the DTLS server already has a socket');
    this.socket = socket;
    this.family = socket.address().family === 'IPv6' ? 'udp6' : 'udp4';
    socket.on('message', this.onMessage);
    socket.on('error', this.onSocketError);
    const sweepMs = Math.min(Math.max(this.idleTimeoutMs / 4, 100), 60_000);
    const sweep = (): void => {
      this.expireIdle();
      this.sweepTimer = this.clock.setTimeout(sweep, sweepMs);
    };
    this.sweepTimer = this.clock.setTimeout(sweep, sweepMs);
  }

  address(): AddressInfo | undefined {
    return this.socket?.address();
  }

  /** The established session with this peer. */
  sessionFor(peer: Peer): DtlsSession | undefined {
    const c = this.connections.get(formatPeer({ address: canonicalAddress(peer.address), port: peer.port }));
    return c?.state === 'established' ? c : undefined;
  }

  /** Handshakes under way (bounded by `maxHandshakes`). */
  get handshakesInProgress(): number {
    return this.handshakes;
  }

  /** Every established session. */
  sessions(): DtlsSession[] {
    return [...this.connections.values()].filter((c) => c.state === 'established');
  }

  /** Sends application data to a peer; false when it has no established session. Throws for data over 16 KiB. */
  send(peer: Peer, data: Buffer): boolean {
    const c = this.connections.get(formatPeer({ address: canonicalAddress(peer.address), port: peer.port }));
    if (c?.state !== 'established') return false;
    c.send(data);
    return true;
  }

  /** Ends the session with a peer (close_notify). */
  closeSession(peer: Peer): void {
    this.connections.get(formatPeer({ address: canonicalAddress(peer.address), port: peer.port }))?.close();
  }

  /** Closes every session (close_notify) and the socket if we bound it; clears every timer. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    for (const c of [...this.connections.values()]) c.close(new DtlsClosedError('the server closed'));
    this.clock.clearTimeout(this.sweepTimer);
    socket.off('message', this.onMessage);
    // Let the close_notify alerts leave before the socket closes.
    if (this.unsent > 0) await new Promise<void>((resolve) => (this.onFlushed = resolve));
    socket.off('error', this.onSocketError);
    this.socket = undefined;
    if (this.ownsSocket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.closing = undefined;
    this.safeEmit('close');
  }

  // ----- Receiving --------------------------------------------------------------------------

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    try {
      this.stats.datagramsReceived++;
      const peer: Peer = { address: canonicalAddress(rinfo.address), port: rinfo.port };
      const key = formatPeer(peer);
      const { records, malformed } = parseRecords(buf);
      if (malformed) this.stats.dropped.malformed++;
      for (const rec of records) {
        this.stats.recordsReceived++;
        this.onRecord(rec, peer, key);
      }
    } catch (err) {
      this.report(err);
    }
  }

  private onRecord(rec: DtlsRecord, peer: Peer, key: string): void {
    const conn = this.connections.get(key);
    const hello = rec.epoch === 0 && rec.type === ContentType.Handshake ? this.clientHelloIn(rec) : undefined;
    // A repeated ClientHello of a known handshake goes to its connection (which answers a
    // retransmission, or drops a stale copy once established).
    if (!hello || conn?.clientRandom.equals(hello.hello.random)) {
      if (conn) conn.handleRecord(rec);
      else this.stats.dropped.noSession++;
      return;
    }
    if (!this.cookies.verify(key, hello.hello)) {
      this.sendHelloVerifyRequest(rec, hello.messageSeq, peer, key, hello.hello);
      return;
    }
    if (this.handshakes >= this.maxHandshakes) {
      this.stats.dropped.overload++;
      return;
    }
    if (conn) conn.terminate(new DtlsClosedError('replaced by a new handshake from the same peer'));
    else this.makeRoom();
    const hooks = this.hooksFor(peer, key, () => created);
    const created: ServerConnection = new ServerConnection(peer, this.connectionOptions, hooks, hello.hello, rec.seq, hello.messageSeq, (identity) => this.lookup(identity, peer), this.hint);
    this.handshakes++;
    this.connections.set(key, created);
    created.handleRecord(rec);
  }

  /** The ClientHello in a record, when the record holds exactly one, whole. */
  private clientHelloIn(rec: DtlsRecord): { hello: ClientHello; messageSeq: number } | undefined {
    try {
      const fragments = parseHandshakeFragments(rec.fragment);
      const f = fragments[0];
      if (fragments.length !== 1 || f!.msgType !== HandshakeType.ClientHello || f!.offset !== 0 || f!.data.length !== f!.length) return undefined;
      return { hello: parseClientHello(f!.data), messageSeq: f!.messageSeq };
    } catch {
      return undefined;
    }
  }

  /** Stateless: same record sequence number and message_seq as the ClientHello (RFC 6347 §4.2.1). */
  private sendHelloVerifyRequest(rec: DtlsRecord, messageSeq: number, peer: Peer, key: string, hello: ClientHello): void {
    const body = encodeHelloVerifyRequest(DTLS_1_0, this.cookies.make(key, hello));
    this.stats.helloVerifyRequestsSent++;
    this.sendTo(peer, serializeRecord(ContentType.Handshake, rec.version, 0, rec.seq, wholeMessage(HandshakeType.HelloVerifyRequest, messageSeq, body)));
  }

  private async lookup(identity: Buffer, peer: Peer): Promise<Buffer | undefined> {
    return this.options.psk(identity.toString('utf8'), peer, identity);
  }

  /** Hooks of a connection, reporting to our listeners; `conn` is called only after construction. */
  private hooksFor(peer: Peer, key: string, conn: () => ServerConnection): ConnectionHooks {
    return {
      send: (datagram) => this.sendTo(peer, datagram),
      established: () => {
        this.handshakes--;
        this.safeEmit('session', conn());
      },
      data: (plaintext) => this.safeEmit('message', plaintext, peer, conn()),
      closed: (reason) => {
        const c = conn();
        if (this.connections.get(key) === c) this.connections.delete(key);
        if (c.establishedAt === 0) {
          this.handshakes--;
          this.safeEmit('handshakeFailed', peer, reason);
        } else {
          this.safeEmit('sessionClosed', c, reason);
        }
      },
    };
  }

  // ----- Housekeeping -----------------------------------------------------------------------

  private expireIdle(): void {
    const cutoff = this.clock.now() - this.idleTimeoutMs;
    for (const c of [...this.connections.values()]) {
      if (c.state === 'established' && c.lastActivity < cutoff) {
        this.stats.sessionsExpired++;
        c.close(new DtlsClosedError(`idle for more than ${this.idleTimeoutMs} ms`));
      }
    }
  }

  /** At the session limit, closes the least recently active session. */
  private makeRoom(): void {
    if (this.connections.size - this.handshakes < this.maxSessions) return;
    let oldest: ServerConnection | undefined;
    for (const c of this.connections.values()) if (c.state === 'established' && (!oldest || c.lastActivity < oldest.lastActivity)) oldest = c;
    if (oldest) {
      this.stats.sessionsExpired++;
      oldest.close(new DtlsClosedError('evicted: too many sessions'));
    }
  }

  private sendTo(peer: Peer, datagram: Buffer): void {
    if (!this.socket) return;
    this.unsent++;
    this.socket.send(datagram, peer.port, socketAddress(peer.address, this.family), () => {
      if (--this.unsent === 0) this.onFlushed?.();
    });
  }

  private safeEmit<K extends keyof DtlsServerEvents>(event: K, ...args: DtlsServerEvents[K]): void {
    try {
      // The emitter cannot relate a generic event name to its argument tuple.
      (this as unknown as NodeJS.EventEmitter).emit(event, ...args);
    } catch (err) {
      this.report(err);
    }
  }

  /** 'error' only when someone listens: an EventEmitter would throw it otherwise. */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
      } catch {
        // A throwing error listener has nowhere left to go.
      }
    }
  }
}
