/** The traffic log: every CoAP message in and out, kept in a bounded ring buffer. */

import { codeToString, type CoapOption, type MessageType } from '../coap/message';
import { OptionNumber as Opt, blockSize, decodeBlock, decodeUint, optionName } from '../coap/options';
import { formatPeer, type Peer } from '../coap/peer';
import { formatName } from '../contentFormat';
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

/**
 * What a message means in LwM2M terms, in a few words (the traffic log's decoded summary,
 * computed when shown rather than for every message):
 * `Register ep=dev1 lt=300 lwm2m=1.1 b=U (4 links)`, `Read /3/0 accept tlv`,
 * `Write (replace) /3/0/14 text 6 B`, `2.05 Content senml-cbor 80 B`, `Notify seq 12 tlv 9 B`,
 * `Created at /rd/5a3f`, `Empty ACK`, `RST`, `Ping`. Requests are named from method, path and
 * options (lwm2m-protocol.md §6.5); responses cannot know their request and say what they carry.
 */
export function summarizeTrafficEntry(e: TrafficEntry): string {
  if (e.kind === 'malformed') return `malformed datagram: ${e.reason}`;
  if (e.code === 0) return e.type === 'RST' ? 'RST' : e.type === 'ACK' ? 'Empty ACK' : 'Ping';
  const path = e.options.filter((o) => o.number === Opt.UriPath).map((o) => o.value.toString('utf8'));
  const query = e.options.filter((o) => o.number === Opt.UriQuery).map((o) => o.value.toString('utf8'));
  const uint = (n: number) => {
    const o = e.options.find((x) => x.number === n);
    return o ? decodeUint(o.value) : undefined;
  };
  const cf = uint(Opt.ContentFormat);
  const body = e.payload.length > 0 ? ` ${cf !== undefined ? `${formatName(cf)} ` : ''}${e.payload.length} B` : '';
  if (e.code >> 5 !== 0) {
    const observe = uint(Opt.Observe);
    const location = e.options.filter((o) => o.number === Opt.LocationPath).map((o) => o.value.toString('utf8'));
    if (observe !== undefined && e.code >> 5 === 2) return `Notify seq ${observe}${body}`;
    if (location.length > 0) return `${codeToString(e.code)} Created at /${location.join('/')}`;
    const name = RESPONSE_NAMES.get(e.code);
    return `${codeToString(e.code)}${name ? ` ${name}` : ''}${body}`;
  }
  const p = `/${path.join('/')}`;
  const q = query.length > 0 ? ` ${query.join(' ')}` : '';
  const accept = uint(Opt.Accept);
  const acc = accept !== undefined ? ` accept ${formatName(accept)}` : '';
  const observe = uint(Opt.Observe);
  const lwm2mPath = path.length <= 4 && path.every((x) => /^\d{1,5}$/.test(x));
  switch (e.code) {
    case 0x01:
      if (path[0] === 'bspack') return `Bootstrap-Pack-Request${q}`;
      if (observe === 0) return `Observe ${p}${acc}${q}`;
      if (observe === 1) return `Cancel observation ${p}`;
      return accept === 40 ? `Discover ${p}${q}` : `Read ${p}${acc}`;
    case 0x02:
      if (path[0] === 'rd' && path.length === 1) return `Register${q}${e.payload.length > 0 ? ` (${e.payload.toString('utf8').split(',').length} links)` : ''}`;
      if (path[0] === 'rd') return `Update ${p}${q}${e.payload.length > 0 ? ` (${e.payload.toString('utf8').split(',').length} links)` : ''}`;
      if (path[0] === 'bs') return query.length > 0 ? `Bootstrap-Request${q}` : 'Bootstrap-Finish';
      if (path[0] === 'dp') return `Send${body}`;
      if (!lwm2mPath) return `POST ${p}${body}`;
      return path.length === 1 ? `Create ${p}${body}` : path.length === 3 ? `Execute ${p}${e.payload.length > 0 ? ` ${e.payload.toString('utf8')}` : ''}` : `Write (update) ${p}${body}`;
    case 0x03:
      return e.payload.length === 0 && query.length > 0 ? `Write-Attributes ${p}${q}` : `Write (replace) ${p}${body}`;
    case 0x04:
      return path[0] === 'rd' ? `De-register ${p}` : `Delete ${p}`;
    case 0x05:
      return observe === 0 ? `Observe-Composite${acc}${body}` : observe === 1 ? 'Cancel observe-composite' : `Read-Composite${acc}${body}`;
    case 0x07:
      return `Write-Composite${body}`;
    default:
      return `${codeToString(e.code)} ${p}${body}`;
  }
}

const RESPONSE_NAMES = new Map<number, string>([
  [0x41, 'Created'],
  [0x42, 'Deleted'],
  [0x43, 'Valid'],
  [0x44, 'Changed'],
  [0x45, 'Content'],
  [0x5f, 'Continue'],
  [0x80, 'Bad Request'],
  [0x81, 'Unauthorized'],
  [0x82, 'Bad Option'],
  [0x83, 'Forbidden'],
  [0x84, 'Not Found'],
  [0x85, 'Method Not Allowed'],
  [0x86, 'Not Acceptable'],
  [0x88, 'Request Entity Incomplete'],
  [0x8c, 'Precondition Failed'],
  [0x8d, 'Request Entity Too Large'],
  [0x8f, 'Unsupported Content-Format'],
  [0xa0, 'Internal Server Error'],
  [0xa1, 'Not Implemented'],
  [0xa3, 'Service Unavailable'],
]);

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
