/**
 * The client side of a PSK handshake:
 *
 *   ClientHello                   →
 *                                 ←  HelloVerifyRequest (cookie)       (if the server asks)
 *   ClientHello (cookie)          →
 *                                 ←  ServerHello, [ServerKeyExchange (hint)], ServerHelloDone
 *   ClientKeyExchange (identity),
 *   ChangeCipherSpec, Finished    →
 *                                 ←  ChangeCipherSpec, Finished
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Peer } from '../coap/peer';
import { AlertDescription, DTLS_1_2, ExtensionType, HandshakeType } from './constants';
import { DtlsConnection, type ConnectionHooks, type ConnectionOptions } from './connection';
import { DtlsAlertError } from './errors';
import { encodeClientHello, encodePskField, parseHelloVerifyRequest, parsePskField, parseServerHello } from './handshake';
import { finishedVerifyData, masterSecret, pskPremasterSecret, transcriptHash } from './prf';
import type { HandshakeMessage } from './reassembly';

/** HelloVerifyRequests answered before giving up (a server that never accepts its own cookie). */
const MAX_HELLO_VERIFY_REQUESTS = 4;

export class ClientConnection extends DtlsConnection {
  private step: 'serverHello' | 'serverKeyExchange' | 'serverHelloDone' | 'finished' = 'serverHello';
  private readonly clientRandom = randomBytes(32);
  private serverRandom: Buffer = Buffer.alloc(0);
  private cookie: Buffer = Buffer.alloc(0);
  private helloVerifyRequests = 0;
  private master: Buffer | undefined;
  /** The server's psk_identity_hint, if it sent one. */
  hint: Buffer | undefined;

  constructor(
    peer: Peer,
    opts: ConnectionOptions,
    hooks: ConnectionHooks,
    identity: Buffer,
    private readonly psk: Buffer,
  ) {
    super(peer, opts, hooks);
    this.identityBytes = identity;
  }

  /** Sends the first ClientHello. */
  start(): void {
    this.sendClientHello();
  }

  private sendClientHello(): void {
    const body = encodeClientHello({
      version: DTLS_1_2,
      random: this.clientRandom,
      sessionId: Buffer.alloc(0),
      cookie: this.cookie,
      cipherSuites: this.opts.suites.map((s) => s.id),
      compressionMethods: Buffer.from([0]),
      extensions: [
        { type: ExtensionType.ExtendedMasterSecret, data: Buffer.alloc(0) },
        { type: ExtensionType.RenegotiationInfo, data: Buffer.from([0]) },
      ],
    });
    this.sendFlight([this.message(HandshakeType.ClientHello, body)], true);
  }

  protected onHandshakeMessage(m: HandshakeMessage): void {
    switch (this.step) {
      case 'serverHello':
        if (m.msgType === HandshakeType.HelloVerifyRequest) return this.onHelloVerifyRequest(m);
        if (m.msgType === HandshakeType.ServerHello) return this.onServerHello(m);
        break;
      case 'serverKeyExchange':
        if (m.msgType === HandshakeType.ServerKeyExchange) {
          this.hint = parsePskField(m.body);
          this.hashIn(m);
          this.step = 'serverHelloDone';
          return;
        }
        if (m.msgType === HandshakeType.ServerHelloDone) return this.onServerHelloDone(m);
        break;
      case 'serverHelloDone':
        if (m.msgType === HandshakeType.ServerHelloDone) return this.onServerHelloDone(m);
        break;
      case 'finished':
        if (m.msgType === HandshakeType.Finished) return this.onFinished(m);
        break;
    }
    this.fail(new DtlsAlertError(AlertDescription.UnexpectedMessage, 'us', `unexpected handshake message ${m.msgType} (${this.step})`), AlertDescription.UnexpectedMessage);
  }

  /** The first ClientHello and the HelloVerifyRequest stay out of the transcript (RFC 6347 §4.2.1). */
  private onHelloVerifyRequest(m: HandshakeMessage): void {
    if (++this.helloVerifyRequests > MAX_HELLO_VERIFY_REQUESTS) {
      return this.fail(new DtlsAlertError(AlertDescription.HandshakeFailure, 'us', 'the server keeps asking for a cookie'), AlertDescription.HandshakeFailure);
    }
    this.cookie = parseHelloVerifyRequest(m.body).cookie;
    this.transcript.length = 0;
    this.sendClientHello();
  }

  private onServerHello(m: HandshakeMessage): void {
    this.stopRetransmitting();
    const hello = parseServerHello(m.body);
    this.hashIn(m);
    if (hello.version !== DTLS_1_2) {
      return this.fail(new DtlsAlertError(AlertDescription.ProtocolVersion, 'us', 'the server did not choose DTLS 1.2'), AlertDescription.ProtocolVersion);
    }
    this.suite = this.opts.suites.find((s) => s.id === hello.cipherSuite);
    if (!this.suite || hello.compressionMethod !== 0) {
      return this.fail(new DtlsAlertError(AlertDescription.IllegalParameter, 'us', `the server chose a cipher suite we did not offer (0x${hello.cipherSuite.toString(16)})`), AlertDescription.IllegalParameter);
    }
    this.serverRandom = hello.random;
    this.extendedMasterSecret = hello.extensions.some((e) => e.type === ExtensionType.ExtendedMasterSecret);
    this.step = 'serverKeyExchange';
  }

  private onServerHelloDone(m: HandshakeMessage): void {
    this.hashIn(m);
    this.peerFlightEnd = m.messageSeq;
    const keyExchange = this.message(HandshakeType.ClientKeyExchange, encodePskField(this.identityBytes));
    const sessionHash = this.extendedMasterSecret ? transcriptHash(this.transcript) : undefined;
    this.master = masterSecret(pskPremasterSecret(this.psk), this.clientRandom, this.serverRandom, sessionHash);
    this.installKeys(this.master, this.clientRandom, this.serverRandom, 'client');
    const ccs = this.changeCipherSpec();
    const finished = this.message(HandshakeType.Finished, finishedVerifyData(this.master, 'client', transcriptHash(this.transcript)));
    this.sendFlight([keyExchange, ccs, finished], true);
    this.step = 'finished';
  }

  private onFinished(m: HandshakeMessage): void {
    if (this.epoch === 0) {
      return this.fail(new DtlsAlertError(AlertDescription.UnexpectedMessage, 'us', 'Finished before ChangeCipherSpec'), AlertDescription.UnexpectedMessage);
    }
    const expected = finishedVerifyData(this.master!, 'server', transcriptHash(this.transcript));
    if (m.body.length !== expected.length || !timingSafeEqual(m.body, expected)) {
      return this.fail(new DtlsAlertError(AlertDescription.DecryptError, 'us', "the server's Finished does not verify"), AlertDescription.DecryptError);
    }
    this.established();
  }
}
