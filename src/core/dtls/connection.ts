/**
 * One DTLS association with one peer, the part both roles share: epochs and their record
 * protection, the anti-replay window, handshake reassembly and transcript, flights and their
 * retransmission (RFC 6347 §4.2.4: 1 s doubling to 60 s), alerts, application data.
 * ServerConnection and ClientConnection add the handshake of their role.
 *
 * Records that are replayed, from an epoch we cannot read, or that do not authenticate are
 * dropped and counted (§4.1.2.7), with one exception: a handshake record of the new epoch that
 * does not authenticate during the handshake is the peer's Finished under another key, i.e. a
 * wrong PSK; it ends the handshake with a fatal bad_record_mac alert.
 */

import { randomBytes } from 'node:crypto';
import type { Clock } from '../coap/clock';
import type { Peer } from '../coap/peer';
import { AlertDescription, AlertLevel, ContentType, DTLS_1_2, HandshakeType, HANDSHAKE_HEADER_LENGTH, MAX_PLAINTEXT, RECORD_HEADER_LENGTH } from './constants';
import { DtlsAlertError, DtlsClosedError, DtlsTimeoutError } from './errors';
import { fragmentMessage, parseHandshakeFragments, wholeMessage } from './handshake';
import { keyBlock } from './prf';
import { HandshakeReassembler, type HandshakeMessage } from './reassembly';
import { ReplayWindow, serializeRecord, type DtlsRecord } from './record';
import type { DtlsSession } from './session';
import type { DtlsStats } from './stats';
import { NULL_PROTECTION, createProtection, type CipherSuite, type RecordProtection } from './suites';
import { DecodeError } from './wire';

export interface ConnectionOptions {
  /** Suites we accept, in order of preference. */
  suites: CipherSuite[];
  /** Largest datagram we send during the handshake (fragmenting messages to fit). */
  mtu: number;
  retransmitInitialMs: number;
  retransmitMaxMs: number;
  /** The whole handshake must complete within this time. */
  handshakeTimeoutMs: number;
  clock: Clock;
  stats: DtlsStats;
}

/** How a connection talks to its owner (server or client). Called synchronously. */
export interface ConnectionHooks {
  /** Sends one datagram to the peer. */
  send(datagram: Buffer): void;
  established(): void;
  data(plaintext: Buffer): void;
  /** Called once, when the connection ends for any reason. */
  closed(reason: Error): void;
}

/** One entry of a flight: a handshake message or a ChangeCipherSpec, in the epoch it is sent in. */
type FlightEntry = { kind: 'handshake'; epoch: number; msgType: number; messageSeq: number; body: Buffer } | { kind: 'ccs'; epoch: number };

interface ReadEpoch {
  epoch: number;
  protection: RecordProtection;
  window: ReplayWindow;
}

interface WriteEpoch {
  epoch: number;
  protection: RecordProtection;
  nextSeq: number;
}

/**
 * Bytes of records kept for later: records of the next epoch until its ChangeCipherSpec arrives
 * (reordering), and records arriving while an asynchronous step (the PSK lookup) runs.
 */
const MAX_BUFFERED_BYTES = 16 * 1024;
/** Fragments smaller than this are never worth it, whatever the MTU says. */
const MIN_FRAGMENT = 32;

export abstract class DtlsConnection implements DtlsSession {
  readonly id = randomBytes(8).toString('hex');
  state: 'handshake' | 'established' | 'closed' = 'handshake';
  identityBytes: Buffer = Buffer.alloc(0);
  suite: CipherSuite | undefined;
  extendedMasterSecret = false;
  establishedAt = 0;
  lastActivity: number;

  protected readonly reassembler = new HandshakeReassembler();
  /** Every handshake message of this handshake so far, unfragmented, DTLS header included. */
  protected readonly transcript: Buffer[] = [];
  /** message_seq of our next handshake message. */
  protected nextSendSeq = 0;
  /** message_seq of the last message of the peer's previous flight: seeing it again means our answer was lost. */
  protected peerFlightEnd = -1;

  private read: ReadEpoch = { epoch: 0, protection: NULL_PROTECTION, window: new ReplayWindow() };
  private pendingRead: ReadEpoch | undefined;
  private readonly writes: WriteEpoch[] = [{ epoch: 0, protection: NULL_PROTECTION, nextSeq: 0 }];
  private write: WriteEpoch = this.writes[0]!;
  /** Epoch of the next entry added to a flight being built. */
  private buildEpoch = 0;
  private nextEpochRecords: DtlsRecord[] = [];
  private flight: FlightEntry[] = [];
  private flightTimer: unknown;
  private retransmitMs: number;
  private handshakeTimer: unknown;
  private busy = false;
  private queue: DtlsRecord[] = [];
  private bufferedBytes = 0;

  constructor(
    readonly peer: Peer,
    protected readonly opts: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.lastActivity = opts.clock.now();
    this.retransmitMs = opts.retransmitInitialMs;
    opts.stats.handshakesStarted++;
    this.handshakeTimer = opts.clock.setTimeout(
      () => this.terminate(new DtlsTimeoutError(`handshake with the peer did not complete within ${opts.handshakeTimeoutMs} ms`)),
      opts.handshakeTimeoutMs,
    );
  }

  get identity(): string {
    return this.identityBytes.toString('utf8');
  }

  get cipherSuite(): string {
    return this.suite?.name ?? '';
  }

  get epoch(): number {
    return this.read.epoch;
  }

  // ----- Receiving --------------------------------------------------------------------------

  /** Handles one record from the peer. Never throws. */
  handleRecord(rec: DtlsRecord): void {
    if (this.state === 'closed') return;
    if (this.busy) {
      const kept = this.keep(rec);
      if (kept) this.queue.push(kept);
      return;
    }
    try {
      this.processRecord(rec);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)), AlertDescription.InternalError);
    }
  }

  private processRecord(rec: DtlsRecord): void {
    const stats = this.opts.stats;
    if (rec.epoch !== this.read.epoch) {
      if (rec.epoch === this.read.epoch + 1 && this.state === 'handshake') {
        const kept = this.keep(rec);
        if (kept) this.nextEpochRecords.push(kept);
      } else {
        stats.dropped.badEpoch++;
      }
      return;
    }
    const read = this.read;
    if (!read.window.isFresh(rec.seq)) {
      stats.dropped.replayed++;
      return;
    }
    const plaintext = read.protection.open(rec.type, rec.version, rec.epoch, rec.seq, rec.fragment);
    if (!plaintext || plaintext.length > MAX_PLAINTEXT) {
      stats.dropped.authFailed++;
      if (this.state === 'handshake' && read.epoch > 0 && rec.type === ContentType.Handshake) {
        this.fail(new DtlsAlertError(AlertDescription.BadRecordMac, 'us', "the peer's Finished does not authenticate (wrong pre-shared key?)"), AlertDescription.BadRecordMac);
      }
      return;
    }
    read.window.mark(rec.seq);
    this.lastActivity = this.opts.clock.now();
    switch (rec.type) {
      case ContentType.Handshake:
        return this.onHandshakeRecord(plaintext);
      case ContentType.ChangeCipherSpec:
        return this.onChangeCipherSpec(plaintext);
      case ContentType.Alert:
        return this.onAlert(plaintext);
      case ContentType.ApplicationData:
        if (this.state === 'established') this.hooks.data(plaintext);
        else stats.dropped.unexpected++;
        return;
    }
  }

  /** A copy of a record to process later (not pinning its datagram), within the byte budget. */
  private keep(rec: DtlsRecord): DtlsRecord | undefined {
    if (this.bufferedBytes + rec.fragment.length > MAX_BUFFERED_BYTES) {
      this.opts.stats.dropped.overload++;
      return undefined;
    }
    this.bufferedBytes += rec.fragment.length;
    return { ...rec, fragment: Buffer.from(rec.fragment) };
  }

  /** Processes a record taken out of the queue or the next-epoch buffer. */
  private release(rec: DtlsRecord): void {
    this.bufferedBytes -= rec.fragment.length;
    this.handleRecord(rec);
  }

  private onHandshakeRecord(plaintext: Buffer): void {
    let fragments;
    try {
      fragments = parseHandshakeFragments(plaintext);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.opts.stats.dropped.malformed++;
      return;
    }
    for (const f of fragments) {
      const isNew = f.messageSeq >= this.reassembler.nextSeq;
      if (this.state === 'established' && isNew) {
        // A ClientHello in the new epoch, or a HelloRequest: renegotiation, which we refuse.
        if (f.msgType === HandshakeType.ClientHello || f.msgType === HandshakeType.HelloRequest) this.sendAlert(AlertLevel.Warning, AlertDescription.NoRenegotiation);
        else this.opts.stats.dropped.unexpected++;
        continue;
      }
      const verdict = this.reassembler.add(f);
      if (verdict === 'old') {
        // The peer repeats its previous flight: it did not get our answer. Resend once per
        // repetition, on the last fragment of its last message.
        if (f.messageSeq === this.peerFlightEnd && f.offset + f.data.length === f.length) this.retransmit();
      } else if (verdict === 'ignored') {
        this.opts.stats.dropped.unexpected++;
      }
    }
    this.drainMessages();
  }

  private drainMessages(): void {
    while (!this.busy && this.state === 'handshake') {
      const m = this.reassembler.next();
      if (!m) return;
      let pending: Promise<void> | void;
      try {
        pending = this.onHandshakeMessage(m);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.fail(new DtlsAlertError(AlertDescription.DecodeError, 'us', err.message), AlertDescription.DecodeError);
        return;
      }
      if (pending) {
        this.busy = true;
        pending
          .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)), AlertDescription.InternalError))
          .finally(() => {
            this.busy = false;
            this.drainQueue();
          });
      }
    }
  }

  private drainQueue(): void {
    try {
      this.drainMessages();
      while (!this.busy && this.queue.length > 0 && this.state !== 'closed') this.release(this.queue.shift()!);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)), AlertDescription.InternalError);
    }
  }

  private onChangeCipherSpec(plaintext: Buffer): void {
    if (plaintext.length !== 1 || plaintext[0] !== 1) {
      this.opts.stats.dropped.malformed++;
      return;
    }
    if (this.state !== 'handshake' || !this.pendingRead) {
      this.opts.stats.dropped.unexpected++;
      return;
    }
    this.read = this.pendingRead;
    this.pendingRead = undefined;
    const early = this.nextEpochRecords;
    this.nextEpochRecords = [];
    for (const rec of early) this.release(rec);
  }

  private onAlert(plaintext: Buffer): void {
    if (plaintext.length !== 2) {
      this.opts.stats.dropped.malformed++;
      return;
    }
    this.opts.stats.alertsReceived++;
    const [level, description] = [plaintext[0]!, plaintext[1]!];
    if (description === AlertDescription.CloseNotify) this.terminate(new DtlsClosedError('the peer closed the session (close_notify)'));
    else if (level === AlertLevel.Fatal) this.terminate(new DtlsAlertError(description, 'peer'));
    // Other warnings (e.g. no_renegotiation) change nothing.
  }

  /** The role's handshake logic: one complete message, in order. May return a promise (PSK lookup). */
  protected abstract onHandshakeMessage(m: HandshakeMessage): Promise<void> | void;

  /** Adds a received message to the transcript. */
  protected hashIn(m: HandshakeMessage): void {
    this.transcript.push(wholeMessage(m.msgType, m.messageSeq, m.body));
  }

  // ----- Sending ----------------------------------------------------------------------------

  /** A handshake message for the next flight; adds it to the transcript. */
  protected message(msgType: number, body: Buffer): FlightEntry {
    const messageSeq = this.nextSendSeq++;
    this.transcript.push(wholeMessage(msgType, messageSeq, body));
    return { kind: 'handshake', epoch: this.buildEpoch, msgType, messageSeq, body };
  }

  /** A ChangeCipherSpec for the next flight; what follows it is sent in the next epoch. */
  protected changeCipherSpec(): FlightEntry {
    return { kind: 'ccs', epoch: this.buildEpoch++ };
  }

  /**
   * Sends a flight. With `retransmit`, it is sent again on a doubling timer until
   * stopRetransmitting() (the peer's next flight arrived); a final flight is only sent again
   * when the peer repeats its own.
   */
  protected sendFlight(entries: FlightEntry[], retransmit: boolean): void {
    this.stopRetransmitting();
    this.flight = entries;
    this.write = this.writes[this.buildEpoch]!;
    this.transmitFlight();
    if (retransmit) this.armRetransmit();
  }

  protected stopRetransmitting(): void {
    if (this.flightTimer !== undefined) this.opts.clock.clearTimeout(this.flightTimer);
    this.flightTimer = undefined;
    this.retransmitMs = this.opts.retransmitInitialMs;
  }

  private armRetransmit(): void {
    this.flightTimer = this.opts.clock.setTimeout(() => {
      this.flightTimer = undefined;
      if (this.state !== 'handshake') return;
      this.retransmitMs = Math.min(this.retransmitMs * 2, this.opts.retransmitMaxMs);
      this.retransmit();
      this.armRetransmit();
    }, this.retransmitMs);
  }

  private retransmit(): void {
    if (this.flight.length === 0) return;
    this.opts.stats.retransmissions++;
    this.transmitFlight();
  }

  /** Seals the flight's records (fresh sequence numbers) and packs them into datagrams up to the MTU. */
  private transmitFlight(): void {
    const mtu = this.opts.mtu;
    const datagrams: Buffer[][] = [];
    let current: Buffer[] = [];
    let size = 0;
    const add = (record: Buffer): void => {
      if (size + record.length > mtu && current.length > 0) {
        datagrams.push(current);
        current = [];
        size = 0;
      }
      current.push(record);
      size += record.length;
    };
    for (const e of this.flight) {
      const w = this.writes[e.epoch]!;
      if (e.kind === 'ccs') {
        add(this.seal(w, ContentType.ChangeCipherSpec, Buffer.from([1])));
        continue;
      }
      // A ClientHello always travels whole: a stateless server cannot reassemble it.
      const maxData = e.msgType === HandshakeType.ClientHello ? Infinity : Math.max(MIN_FRAGMENT, mtu - RECORD_HEADER_LENGTH - HANDSHAKE_HEADER_LENGTH - w.protection.overhead);
      for (const fragment of fragmentMessage(e.msgType, e.messageSeq, e.body, maxData)) add(this.seal(w, ContentType.Handshake, fragment));
    }
    if (current.length > 0) datagrams.push(current);
    for (const d of datagrams) this.hooks.send(d.length === 1 ? d[0]! : Buffer.concat(d));
  }

  private seal(w: WriteEpoch, type: ContentType, plaintext: Buffer): Buffer {
    const seq = w.nextSeq++;
    return serializeRecord(type, DTLS_1_2, w.epoch, seq, w.protection.seal(type, DTLS_1_2, w.epoch, seq, plaintext));
  }

  /** Continues the sequence numbers of epoch 0 from `seq` (a server answering a ClientHello, RFC 6347 §4.2.1). */
  protected continueSequenceAt(seq: number): void {
    this.writes[0]!.nextSeq = seq;
  }

  /** Installs the keys of epoch 1: ours for writing, the peer's for reading once its ChangeCipherSpec arrives. */
  protected installKeys(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, role: 'client' | 'server'): void {
    const suite = this.suite!;
    const keys = keyBlock(master, clientRandom, serverRandom, suite);
    const [mine, theirs] = role === 'client' ? [keys.client, keys.server] : [keys.server, keys.client];
    this.writes[1] = { epoch: 1, protection: createProtection(suite, mine), nextSeq: 0 };
    this.pendingRead = { epoch: 1, protection: createProtection(suite, theirs), window: new ReplayWindow() };
  }

  /** Sends application data. Throws unless established or when larger than a record. */
  send(plaintext: Buffer): void {
    if (this.state !== 'established') throw new DtlsClosedError('the DTLS session is not established');
    if (plaintext.length > MAX_PLAINTEXT) throw new RangeError(`${plaintext.length} bytes do not fit one DTLS record (max ${MAX_PLAINTEXT})`);
    this.lastActivity = this.opts.clock.now();
    this.hooks.send(this.seal(this.write, ContentType.ApplicationData, plaintext));
  }

  private sendAlert(level: AlertLevel, description: AlertDescription): void {
    this.opts.stats.alertsSent++;
    this.hooks.send(this.seal(this.write, ContentType.Alert, Buffer.from([level, description])));
  }

  // ----- Life cycle -------------------------------------------------------------------------

  protected established(): void {
    this.state = 'established';
    this.establishedAt = this.opts.clock.now();
    this.opts.clock.clearTimeout(this.handshakeTimer);
    this.stopRetransmitting();
    this.transcript.length = 0;
    this.opts.stats.handshakesCompleted++;
    this.hooks.established();
  }

  /** Ends the connection with a fatal alert to the peer. */
  protected fail(reason: Error, alert: AlertDescription): void {
    if (this.state === 'closed') return;
    this.sendAlert(AlertLevel.Fatal, alert);
    this.terminate(reason instanceof DtlsAlertError ? reason : new DtlsAlertError(alert, 'us', reason.message));
  }

  /** Closes politely: close_notify when established. */
  close(reason: Error = new DtlsClosedError('closed locally')): void {
    if (this.state === 'established') this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
    this.terminate(reason);
  }

  /** Ends the connection without telling the peer; clears every timer. */
  terminate(reason: Error): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') this.opts.stats.handshakesFailed++;
    this.state = 'closed';
    this.opts.clock.clearTimeout(this.handshakeTimer);
    this.stopRetransmitting();
    this.queue = [];
    this.bufferedBytes = 0;
    this.nextEpochRecords = [];
    this.flight = [];
    this.hooks.closed(reason);
  }
}
