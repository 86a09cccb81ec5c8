/**
 * The server side of a PSK handshake, from the ClientHello that carried a valid cookie:
 *
 *   ClientHello (cookie)          →
 *                                 ←  ServerHello, [ServerKeyExchange (hint)], ServerHelloDone
 *   ClientKeyExchange (identity),
 *   ChangeCipherSpec, Finished    →
 *                                 ←  ChangeCipherSpec, Finished
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Peer } from '../coap/peer';
import { AlertDescription, DTLS_1_2, EMPTY_RENEGOTIATION_INFO_SCSV, ExtensionType, HandshakeType } from './constants';
import { DtlsConnection, type ConnectionHooks, type ConnectionOptions } from './connection';
import { DtlsAlertError } from './errors';
import { encodePskField, encodeServerHello, parseClientHello, parsePskField, type ClientHello, type Extension } from './handshake';
import { finishedVerifyData, masterSecret, pskPremasterSecret, transcriptHash } from './prf';
import type { HandshakeMessage } from './reassembly';

/** Finds the key of a PSK identity; undefined when the identity is unknown. */
export type PskLookup = (identity: Buffer) => Promise<Buffer | undefined>;

/** RFC 4279 §5.3: keys up to 64 bytes must be supported; we accept up to 256. */
const MAX_PSK_LENGTH = 256;

export class ServerConnection extends DtlsConnection {
  private step: 'clientHello' | 'clientKeyExchange' | 'finished' = 'clientHello';
  private readonly serverRandom = randomBytes(32);
  private master: Buffer | undefined;

  /** The random of the ClientHello that started this handshake: a copy with it is a retransmission. */
  readonly clientRandom: Buffer;

  /**
   * @param clientHello the ClientHello the server verified the cookie of
   * @param helloRecordSeq its record sequence number, where our epoch-0 numbering continues
   * @param helloMessageSeq its message_seq, where our message numbering continues
   */
  constructor(
    peer: Peer,
    opts: ConnectionOptions,
    hooks: ConnectionHooks,
    clientHello: ClientHello,
    helloRecordSeq: number,
    helloMessageSeq: number,
    private readonly lookup: PskLookup,
    private readonly hint: Buffer | undefined,
  ) {
    super(peer, opts, hooks);
    this.clientRandom = Buffer.from(clientHello.random); // not a view pinning the datagram
    this.reassembler.nextSeq = helloMessageSeq;
    this.nextSendSeq = helloMessageSeq;
    this.continueSequenceAt(helloRecordSeq);
  }

  protected onHandshakeMessage(m: HandshakeMessage): Promise<void> | void {
    const expected = { clientHello: HandshakeType.ClientHello, clientKeyExchange: HandshakeType.ClientKeyExchange, finished: HandshakeType.Finished }[this.step];
    if (m.msgType !== expected) {
      return this.fail(new DtlsAlertError(AlertDescription.UnexpectedMessage, 'us', `handshake message ${m.msgType} while expecting ${expected}`), AlertDescription.UnexpectedMessage);
    }
    switch (this.step) {
      case 'clientHello':
        return this.onClientHello(m);
      case 'clientKeyExchange':
        return this.onClientKeyExchange(m);
      case 'finished':
        return this.onFinished(m);
    }
  }

  private onClientHello(m: HandshakeMessage): void {
    const hello = parseClientHello(m.body);
    this.hashIn(m);
    this.peerFlightEnd = m.messageSeq;
    // DTLS versions count down: {254, 253} is 1.2, {254, 255} is 1.0.
    if (hello.version > DTLS_1_2) {
      return this.fail(new DtlsAlertError(AlertDescription.ProtocolVersion, 'us', 'the client does not offer DTLS 1.2'), AlertDescription.ProtocolVersion);
    }
    this.suite = this.opts.suites.find((s) => hello.cipherSuites.includes(s.id));
    if (!this.suite || !hello.compressionMethods.includes(0)) {
      const offered = hello.cipherSuites.map((s) => `0x${s.toString(16).padStart(4, '0')}`).join(' ');
      return this.fail(new DtlsAlertError(AlertDescription.HandshakeFailure, 'us', `no common cipher suite (client offers ${offered})`), AlertDescription.HandshakeFailure);
    }
    const extensions: Extension[] = [];
    const renegotiationInfo = hello.extensions.find((e) => e.type === ExtensionType.RenegotiationInfo);
    if (renegotiationInfo && !(renegotiationInfo.data.length === 1 && renegotiationInfo.data[0] === 0)) {
      return this.fail(new DtlsAlertError(AlertDescription.HandshakeFailure, 'us', 'non-empty renegotiation_info in an initial handshake'), AlertDescription.HandshakeFailure);
    }
    if (renegotiationInfo || hello.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV)) {
      extensions.push({ type: ExtensionType.RenegotiationInfo, data: Buffer.from([0]) });
    }
    if (hello.extensions.some((e) => e.type === ExtensionType.ExtendedMasterSecret)) {
      this.extendedMasterSecret = true;
      extensions.push({ type: ExtensionType.ExtendedMasterSecret, data: Buffer.alloc(0) });
    }
    const flight = [
      this.message(
        HandshakeType.ServerHello,
        // Empty session_id: we keep no sessions for resumption.
        encodeServerHello({ version: DTLS_1_2, random: this.serverRandom, sessionId: Buffer.alloc(0), cipherSuite: this.suite.id, compressionMethod: 0, extensions }),
      ),
    ];
    if (this.hint) flight.push(this.message(HandshakeType.ServerKeyExchange, encodePskField(this.hint)));
    flight.push(this.message(HandshakeType.ServerHelloDone, Buffer.alloc(0)));
    this.sendFlight(flight, true);
    this.step = 'clientKeyExchange';
  }

  private async onClientKeyExchange(m: HandshakeMessage): Promise<void> {
    this.stopRetransmitting();
    this.identityBytes = parsePskField(m.body);
    this.hashIn(m);
    const psk = await this.lookup(this.identityBytes);
    if (this.state === 'closed') return;
    if (!psk || psk.length === 0 || psk.length > MAX_PSK_LENGTH) {
      const detail = `unknown PSK identity ${JSON.stringify(this.identity)}`;
      return this.fail(new DtlsAlertError(AlertDescription.UnknownPskIdentity, 'us', detail), AlertDescription.UnknownPskIdentity);
    }
    const sessionHash = this.extendedMasterSecret ? transcriptHash(this.transcript) : undefined;
    this.master = masterSecret(pskPremasterSecret(psk), this.clientRandom, this.serverRandom, sessionHash);
    this.installKeys(this.master, this.clientRandom, this.serverRandom, 'server');
    this.step = 'finished';
  }

  private onFinished(m: HandshakeMessage): void {
    if (this.epoch === 0) {
      return this.fail(new DtlsAlertError(AlertDescription.UnexpectedMessage, 'us', 'Finished before ChangeCipherSpec'), AlertDescription.UnexpectedMessage);
    }
    const expected = finishedVerifyData(this.master!, 'client', transcriptHash(this.transcript));
    if (m.body.length !== expected.length || !timingSafeEqual(m.body, expected)) {
      return this.fail(new DtlsAlertError(AlertDescription.DecryptError, 'us', "the client's Finished does not verify (wrong pre-shared key?)"), AlertDescription.DecryptError);
    }
    this.hashIn(m);
    this.peerFlightEnd = m.messageSeq;
    const ccs = this.changeCipherSpec();
    const finished = this.message(HandshakeType.Finished, finishedVerifyData(this.master!, 'server', transcriptHash(this.transcript)));
    this.sendFlight([ccs, finished], false);
    this.established();
  }
}
