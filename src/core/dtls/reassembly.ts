/**
 * Reassembly of handshake messages from fragments that may arrive duplicated, overlapping or
 * out of order (RFC 6347 §4.2.3), delivered strictly in message_seq order.
 */

import type { HandshakeFragment } from './handshake';

export interface HandshakeMessage {
  msgType: number;
  messageSeq: number;
  body: Buffer;
}

interface Partial {
  msgType: number;
  body: Buffer;
  /** One byte per body byte: 1 once received. */
  have: Uint8Array;
  missing: number;
}

/** How far ahead of the next expected message we buffer. */
const LOOKAHEAD = 4;
/** Bytes of message bodies under reassembly at once: bounds the memory of a half-open handshake. */
const MAX_PENDING_BYTES = 16 * 1024;

export type FragmentVerdict = 'old' | 'accepted' | 'ignored';

export class HandshakeReassembler {
  private readonly partials = new Map<number, Partial>();
  private pendingBytes = 0;

  /** message_seq of the next message to deliver. */
  constructor(public nextSeq = 0) {}

  /**
   * Stores a fragment. 'old' means the message was already delivered (the peer retransmits);
   * 'ignored' means too far ahead, over the memory bound, or inconsistent with earlier
   * fragments of the same message.
   */
  add(f: HandshakeFragment): FragmentVerdict {
    if (f.messageSeq < this.nextSeq) return 'old';
    if (f.messageSeq >= this.nextSeq + LOOKAHEAD) return 'ignored';
    let p = this.partials.get(f.messageSeq);
    if (!p) {
      if (this.pendingBytes + f.length > MAX_PENDING_BYTES) return 'ignored';
      this.pendingBytes += f.length;
      p = { msgType: f.msgType, body: Buffer.alloc(f.length), have: new Uint8Array(f.length), missing: f.length };
      this.partials.set(f.messageSeq, p);
    } else if (p.msgType !== f.msgType || p.body.length !== f.length) {
      return 'ignored';
    }
    f.data.copy(p.body, f.offset);
    for (let i = f.offset, end = f.offset + f.data.length; i < end; i++) {
      if (p.have[i] === 0) {
        p.have[i] = 1;
        p.missing--;
      }
    }
    return 'accepted';
  }

  /** The next message if it is complete. */
  next(): HandshakeMessage | undefined {
    const p = this.partials.get(this.nextSeq);
    if (!p || p.missing > 0) return undefined;
    this.partials.delete(this.nextSeq);
    this.pendingBytes -= p.body.length;
    return { msgType: p.msgType, messageSeq: this.nextSeq++, body: p.body };
  }
}
