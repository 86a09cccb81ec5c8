/** The traffic log: every CoAP message in and out, kept in a bounded ring buffer. */

import { codeToString, type CoapOption, type MessageType } from '../coap/message';
import { OptionNumber as Opt, blockSize, decodeBlock, decodeUint, optionName } from '../coap/options';
import { formatPeer, type Peer } from '../coap/peer';
import type { MalformedEvent, TrafficEvent } from '../coap/transport';

interface EntryBase {
  /** Increases by one per entry over the log's life (gaps show what the ring dropped). */
  seq: number;
  /** Milliseconds since 1970. */
  time: number;
  direction: 'in' | 'out';
  peer: Peer;
}

/** A valid CoAP message. */
export interface TrafficMessageEntry extends EntryBase {
  kind: 'message';
  type: MessageType;
  /** Code byte (0x45 = 2.05). */
  code: number;
  mid: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
  /** Datagram size in bytes. */
  size: number;
  /** An incoming duplicate, answered from the dedup cache. */
  duplicate?: boolean;
  /** An outgoing retransmission (or a reply re-sent for a duplicate). */
  retransmission?: boolean;
}

/** A datagram that was not valid CoAP. */
export interface TrafficMalformedEntry extends EntryBase {
  kind: 'malformed';
  bytes: Buffer;
  reason: string;
}

export type TrafficEntry = TrafficMessageEntry | TrafficMalformedEntry;

/** A ring buffer of the last `capacity` entries. */
export class TrafficLog {
  private readonly ring: (TrafficEntry | undefined)[];
  private next = 0;
  private count = 0;
  private seq = 0;

  constructor(readonly capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<TrafficEntry | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Records a transport traffic event and returns the entry. */
  addMessage(e: TrafficEvent): TrafficMessageEntry {
    const m = e.message;
    const entry: TrafficMessageEntry = {
      kind: 'message',
      seq: ++this.seq,
      time: e.time,
      direction: e.direction,
      peer: e.peer,
      type: m.type,
      code: m.code,
      mid: m.mid,
      token: m.token,
      options: m.options,
      payload: m.payload,
      size: e.size,
    };
    if (e.duplicate) entry.duplicate = true;
    if (e.retransmission) entry.retransmission = true;
    this.put(entry);
    return entry;
  }

  /** Records a malformed incoming datagram and returns the entry. */
  addMalformed(e: MalformedEvent): TrafficMalformedEntry {
    const entry: TrafficMalformedEntry = { kind: 'malformed', seq: ++this.seq, time: e.time, direction: 'in', peer: e.peer, bytes: e.bytes, reason: e.reason };
    this.put(entry);
    return entry;
  }

  /** The retained entries, oldest first. */
  entries(): TrafficEntry[] {
    const out: TrafficEntry[] = [];
    const start = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.count = 0;
  }

  private put(entry: TrafficEntry): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }
}

/**
 * One line for people, e.g. `→ [::1]:5683 CON 0.01 mid=4711 token=a1b2 Uri-Path=rd Uri-Query=ep=dev1 (12 B payload)`.
 */
export function formatTrafficEntry(e: TrafficEntry): string {
  const arrow = e.direction === 'in' ? '←' : '→';
  if (e.kind === 'malformed') return `${arrow} ${formatPeer(e.peer)} malformed (${e.bytes.length} B): ${e.reason}`;
  const opts = e.options.map((o) => `${optionName(o.number)}=${optionText(o)}`).join(' ');
  const flags = `${e.duplicate ? ' duplicate' : ''}${e.retransmission ? ' retransmission' : ''}`;
  const body = e.payload.length > 0 ? ` (${e.payload.length} B payload)` : '';
  return `${arrow} ${formatPeer(e.peer)} ${e.type} ${codeToString(e.code)} mid=${e.mid} token=${e.token.toString('hex')}${opts ? ' ' + opts : ''}${body}${flags}`;
}

const UINT_OPTIONS = new Set<number>([Opt.Observe, Opt.UriPort, Opt.ContentFormat, Opt.MaxAge, Opt.Accept, Opt.Size2, Opt.Size1]);

function optionText(o: CoapOption): string {
  if (UINT_OPTIONS.has(o.number)) return String(decodeUint(o.value));
  if (o.number === Opt.Block1 || o.number === Opt.Block2) {
    const b = decodeBlock(o.value);
    return `${b.num}/${b.more ? 1 : 0}/${blockSize(b.szx)}`;
  }
  const text = o.value.toString('utf8');
  return o.value.length > 0 && /^[\x20-\x7e]*$/.test(text) ? text : `0x${o.value.toString('hex')}`;
}
