/** Client-side Observe (RFC 7641; lwm2m-protocol.md §2). */

import type { Peer } from './peer';

/** 2^23: half of the 24-bit Observe sequence space. */
const HALF = 1 << 23;
/** After this much silence any notification counts as newer. */
const FRESHNESS_WINDOW_MS = 128_000;

/**
 * The RFC 7641 §3.4 ordering rule: is notification (v2 received at t2) newer than the last
 * accepted one (v1 received at t1)? Times in milliseconds.
 */
export function isNewerNotification(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + FRESHNESS_WINDOW_MS;
}

/** Why an observation ended. */
export type ObservationEnd =
  /** We cancelled it (actively with GET Observe=1, or passively by forgetting the token). */
  | 'cancelled'
  /** The peer sent an error or a response without Observe. */
  | 'ended-by-peer'
  /** The transport closed. */
  | 'closed';

/** What an Observation needs from the transport that owns it. */
export interface ObservationHost {
  /** Drops the token so that further notifications are answered with RST. */
  forget(observation: Observation): void;
  /** Sends GET (or FETCH) Observe=1 with the original token and options. */
  sendCancel(observation: Observation): Promise<void>;
}

/** A live observation, identified by (peer, token). */
export class Observation {
  private seq: number;
  private seqTime: number;
  private ended: ObservationEnd | undefined;

  constructor(
    /** The observed peer; it changes when the peer's notifications come from a new address. */
    public peer: Peer,
    readonly token: Buffer,
    firstSequence: number,
    receivedAt: number,
    private readonly host: ObservationHost,
    private readonly onEnd: (reason: ObservationEnd) => void,
  ) {
    this.seq = firstSequence;
    this.seqTime = receivedAt;
  }

  /** The peer now notifies from another address (NAT rebinding): an active cancel and Block2 fetches go there. */
  follow(peer: Peer): void {
    this.peer = peer;
  }

  /** Last accepted Observe sequence number. */
  get lastSequence(): number {
    return this.seq;
  }

  get active(): boolean {
    return this.ended === undefined;
  }

  /**
   * Applies the ordering rule to a notification; true (and remembered) when it is newer.
   * Stale notifications must still be acknowledged, but their content ignored.
   */
  accept(sequence: number, receivedAt: number): boolean {
    if (!isNewerNotification(this.seq, this.seqTime, sequence, receivedAt)) return false;
    this.seq = sequence;
    this.seqTime = receivedAt;
    return true;
  }

  /**
   * Ends the observation. Passive (default): forget the token; the next notification gets a
   * RST, which makes the peer drop it. Active: also send GET Observe=1 with the same token and
   * options, and wait for its response.
   */
  async cancel(options: { active?: boolean } = {}): Promise<void> {
    if (this.ended) return;
    this.end('cancelled');
    if (options.active) await this.host.sendCancel(this);
  }

  /** Marks the observation ended (idempotent) and tells the owner. */
  end(reason: ObservationEnd): void {
    if (this.ended) return;
    this.ended = reason;
    this.host.forget(this);
    this.onEnd(reason);
  }
}
