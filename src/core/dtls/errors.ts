/** Errors of the DTLS layer. Every one has a stable `name` to branch on. */

import { alertName } from './constants';

/** A handshake or session ended by an alert, sent by us or received from the peer. */
export class DtlsAlertError extends Error {
  override readonly name = 'DtlsAlertError';
  constructor(
    /** AlertDescription number, e.g. 20 bad_record_mac. */
    readonly description: number,
    readonly sentBy: 'peer' | 'us',
    detail?: string,
  ) {
    super(`${sentBy === 'us' ? 'sent' : 'received'} fatal alert ${alertName(description)}${detail ? `: ${detail}` : ''}`);
  }
}

/** The handshake did not complete in time (retransmissions unanswered). */
export class DtlsTimeoutError extends Error {
  override readonly name = 'DtlsTimeoutError';
}

/** The connection or server was closed (locally, by close_notify, or because the session expired). */
export class DtlsClosedError extends Error {
  override readonly name = 'DtlsClosedError';
}
