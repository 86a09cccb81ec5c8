/**
 * Stateless cookies for HelloVerifyRequest (RFC 6347 §4.2.1): an HMAC over the peer's address
 * and its ClientHello parameters, keyed by a secret that rotates; a cookie made with the current
 * or the previous secret is accepted, so a cookie lives between one and two rotation periods.
 * Nothing is stored per peer, so a flood of ClientHellos costs no memory.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientHello } from './handshake';

/** HMAC-SHA256 output. */
const COOKIE_LENGTH = 32;

export class CookieJar {
  private current = randomBytes(32);
  private previous = randomBytes(32);
  private rotatedAt: number;

  constructor(
    private readonly rotateMs: number,
    private readonly now: () => number,
  ) {
    this.rotatedAt = now();
  }

  /** The cookie this peer must echo in its next ClientHello. */
  make(peerKey: string, hello: ClientHello): Buffer {
    this.rotate();
    return this.mac(this.current, peerKey, hello);
  }

  /** Whether the ClientHello carries a cookie we made for this peer and these parameters. */
  verify(peerKey: string, hello: ClientHello): boolean {
    this.rotate();
    if (hello.cookie.length !== COOKIE_LENGTH) return false;
    return timingSafeEqual(hello.cookie, this.mac(this.current, peerKey, hello)) || timingSafeEqual(hello.cookie, this.mac(this.previous, peerKey, hello));
  }

  private rotate(): void {
    const t = this.now();
    if (t - this.rotatedAt < this.rotateMs) return;
    // After a long pause both secrets are stale.
    this.previous = t - this.rotatedAt < 2 * this.rotateMs ? this.current : randomBytes(32);
    this.current = randomBytes(32);
    this.rotatedAt = t;
  }

  private mac(secret: Buffer, peerKey: string, hello: ClientHello): Buffer {
    const suites = Buffer.allocUnsafe(hello.cipherSuites.length * 2);
    hello.cipherSuites.forEach((s, i) => suites.writeUInt16BE(s, i * 2));
    return createHmac('sha256', secret)
      .update(peerKey)
      .update(Buffer.from([hello.version >> 8, hello.version & 0xff, hello.sessionId.length]))
      .update(hello.random)
      .update(hello.sessionId)
      .update(suites)
      .update(hello.compressionMethods)
      .digest();
  }
}
