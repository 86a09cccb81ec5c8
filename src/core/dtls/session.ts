/** What the layers above see of one DTLS association. */

import type { Peer } from '../coap/peer';

export interface DtlsSession {
  /**
   * Random, unique per handshake. A new handshake with the same peer is a new session: CoAP
   * exchanges and observations of the old one must not match (lwm2m-protocol.md §18.1).
   */
  readonly id: string;
  readonly peer: Peer;
  /** The PSK identity the peer authenticated with, decoded as UTF-8. */
  readonly identity: string;
  /** The PSK identity as sent (identities are opaque bytes, though usually UTF-8). */
  readonly identityBytes: Buffer;
  /** e.g. TLS_PSK_WITH_AES_128_CCM_8. */
  readonly cipherSuite: string;
  /** Whether the master secret is the extended one of RFC 7627. */
  readonly extendedMasterSecret: boolean;
  /** The epoch application data travels in (1: no renegotiation). */
  readonly epoch: number;
  /** When the handshake completed (ms since 1970), 0 before. */
  readonly establishedAt: number;
  /** Last record received or application data sent (ms since 1970). */
  readonly lastActivity: number;
}
