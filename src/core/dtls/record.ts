/**
 * The DTLS 1.2 record layer framing (RFC 6347 §4.1) and the anti-replay window (§4.1.2.6).
 *
 *   type(1) version(2) epoch(2) sequence_number(6) length(2) fragment(length)
 *
 * One datagram may carry several records.
 */

import { ContentType, DTLS_1_0, DTLS_1_2, MAX_PLAINTEXT, RECORD_HEADER_LENGTH } from './constants';

export interface DtlsRecord {
  type: number;
  version: number;
  epoch: number;
  seq: number;
  /** Still protected, as received. */
  fragment: Buffer;
}

/** Largest fragment we accept: a full plaintext plus generous room for protection. */
const MAX_FRAGMENT = MAX_PLAINTEXT + 2048;

const KNOWN_TYPES = new Set<number>([ContentType.ChangeCipherSpec, ContentType.Alert, ContentType.Handshake, ContentType.ApplicationData]);

/**
 * Splits a datagram into records. Parsing stops at the first record whose header is not DTLS
 * (unknown type or version, length past the end or too large): what came before it is kept,
 * and `malformed` says whether anything was left unread.
 */
export function parseRecords(datagram: Buffer): { records: DtlsRecord[]; malformed: boolean } {
  const records: DtlsRecord[] = [];
  let at = 0;
  while (at < datagram.length) {
    if (datagram.length - at < RECORD_HEADER_LENGTH) return { records, malformed: true };
    const type = datagram[at]!;
    const version = datagram.readUInt16BE(at + 1);
    const length = datagram.readUInt16BE(at + 11);
    const end = at + RECORD_HEADER_LENGTH + length;
    if (!KNOWN_TYPES.has(type) || (version !== DTLS_1_2 && version !== DTLS_1_0) || length > MAX_FRAGMENT || end > datagram.length) {
      return { records, malformed: true };
    }
    records.push({
      type,
      version,
      epoch: datagram.readUInt16BE(at + 3),
      seq: datagram.readUIntBE(at + 5, 6),
      fragment: datagram.subarray(at + RECORD_HEADER_LENGTH, end),
    });
    at = end;
  }
  return { records, malformed: false };
}

/** Header and fragment of one record. */
export function serializeRecord(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + fragment.length);
  out[0] = type;
  out.writeUInt16BE(version, 1);
  out.writeUInt16BE(epoch, 3);
  out.writeUIntBE(seq, 5, 6);
  out.writeUInt16BE(fragment.length, 11);
  fragment.copy(out, RECORD_HEADER_LENGTH);
  return out;
}

const WINDOW = 64;

/**
 * The sliding window of the sequence numbers received in one epoch: a record is fresh when it
 * is newer than the newest seen, or within the 64 before it and not yet seen. Mark a record only
 * after it authenticated, so that forged records cannot move the window.
 */
export class ReplayWindow {
  private newest = -1;
  /** seen[seq % 64] for seq in (newest - 64, newest]. */
  private readonly seen = new Uint8Array(WINDOW);

  isFresh(seq: number): boolean {
    if (seq > this.newest) return true;
    if (this.newest - seq >= WINDOW) return false;
    return this.seen[seq % WINDOW] === 0;
  }

  mark(seq: number): void {
    if (seq > this.newest) {
      const gap = Math.min(seq - this.newest, WINDOW);
      for (let i = 1; i < gap; i++) this.seen[(seq - i) % WINDOW] = 0;
      this.newest = seq;
    }
    this.seen[seq % WINDOW] = 1;
  }
}
