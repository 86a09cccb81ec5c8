/** Errors of the CoAP layer. Every one has a stable `name` to branch on. */

import type { MessageType } from './message';

/** A datagram that is not a valid CoAP message. */
export class MessageFormatError extends Error {
  override readonly name = 'MessageFormatError';
  constructor(
    message: string,
    /** Set when the fixed header could be read, so a CON can still be rejected with RST. */
    readonly header?: { type: MessageType; mid: number },
  ) {
    super(message);
  }
}

/** The UDP port is already bound by another socket (we never share a port). */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly address: string,
  ) {
    super(`port in use: ${address.includes(':') ? `[${address}]` : address}:${port} is already bound by another socket`);
  }
}

/** No (complete) response arrived in time: CON retransmissions exhausted or the request deadline passed. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(
    message: string,
    /** Milliseconds waited. */
    readonly elapsedMs: number,
  ) {
    super(message);
  }
}

/** The request's AbortSignal fired before the response arrived (the user cancelled it). */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
  constructor(message = 'the request was cancelled') {
    super(message);
  }
}

/** The peer rejected our message with RST. */
export class ResetError extends Error {
  override readonly name = 'ResetError';
}

/** The transport was closed (or never bound) while the operation was pending. */
export class TransportClosedError extends Error {
  override readonly name = 'TransportClosedError';
  constructor(message = 'the CoAP transport is closed') {
    super(message);
  }
}

/** A block-wise transfer could not be completed (body changed, too large, blocks out of sequence). */
export class BlockTransferError extends Error {
  override readonly name = 'BlockTransferError';
}
