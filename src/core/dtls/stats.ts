/** Counters shared by the connections of one server or client: what was dropped and why. */

export interface DtlsDropCounts {
  /** Not DTLS, truncated records, or handshake messages that do not parse. */
  malformed: number;
  /** Sequence number already seen or older than the 64-record window. */
  replayed: number;
  /** An epoch we have no keys for (old, or too far ahead). */
  badEpoch: number;
  /** Did not authenticate (bad MAC or tag, bad padding). */
  authFailed: number;
  /** Well-formed but out of place (application data before the handshake ends, stray ChangeCipherSpec, …). */
  unexpected: number;
  /** Server: a record from a peer with no session that is not a ClientHello. */
  noSession: number;
  /** Server: a handshake refused because too many are under way; or a full per-connection queue. */
  overload: number;
}

export interface DtlsStats {
  datagramsReceived: number;
  recordsReceived: number;
  dropped: DtlsDropCounts;
  helloVerifyRequestsSent: number;
  handshakesStarted: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  /** Flights sent again, by timer or because the peer repeated its flight. */
  retransmissions: number;
  sessionsExpired: number;
  alertsSent: number;
  alertsReceived: number;
}

export function newStats(): DtlsStats {
  return {
    datagramsReceived: 0,
    recordsReceived: 0,
    dropped: { malformed: 0, replayed: 0, badEpoch: 0, authFailed: 0, unexpected: 0, noSession: 0, overload: 0 },
    helloVerifyRequestsSent: 0,
    handshakesStarted: 0,
    handshakesCompleted: 0,
    handshakesFailed: 0,
    retransmissions: 0,
    sessionsExpired: 0,
    alertsSent: 0,
    alertsReceived: 0,
  };
}
