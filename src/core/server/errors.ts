/** Errors of the LwM2M server API. Transport errors are re-exported so callers import from one place. */

import { codeToString } from '../coap/message';
import { toHex } from '../codec/bytes';

export { BlockTransferError, PortInUseError, RequestAbortedError, ResetError, TimeoutError, TransportClosedError } from '../coap/errors';

/** No registration exists (any more) for this endpoint name. */
export class ClientNotFoundError extends Error {
  override readonly name = 'ClientNotFoundError';
  constructor(
    readonly endpoint: string,
    message = `no registered client with endpoint name "${endpoint}"`,
  ) {
    super(message);
  }
}

/** A Register or Update that the server refuses, with the CoAP code to answer (lwm2m-protocol.md §6.2). */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(
    /** Response code byte, e.g. 0x80 (4.00) or 0x8c (4.12). */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** LwM2M meanings of response codes (lwm2m-protocol.md §6.3), by code byte. */
const MEANINGS = new Map<number, string>([
  [0x80, 'Bad Request: malformed request, payload/format mismatch, unknown or missing parameter'],
  [0x81, 'Unauthorized: access control denies this operation to this server'],
  [0x82, 'Bad Option: the client does not understand a critical option of the request'],
  [0x83, 'Forbidden: the operation is not allowed'],
  [0x84, 'Not Found: the target object, instance or resource does not exist'],
  [0x85, 'Method Not Allowed: the operation is not allowed on this target (e.g. Write on a read-only resource, Execute on a non-executable one, Create on a single-instance object)'],
  [0x86, 'Not Acceptable: none of the requested (Accept) formats can be produced'],
  [0x88, 'Request Entity Incomplete: the Block1 sequence was incomplete'],
  [0x8c, 'Precondition Failed: LwM2M versions incompatible'],
  [0x8d, 'Request Entity Too Large: the body is too large (see Size1)'],
  [0x8f, 'Unsupported Content-Format: the client does not support the payload format'],
  [0xa0, 'Internal Server Error: generic failure on the client'],
  [0xa1, 'Not Implemented: the client does not implement this'],
  [0xa3, 'Service Unavailable: the client is temporarily unable to answer'],
]);

/**
 * What a response code means in LwM2M terms. An unknown 4.xx is read as 4.00 and an unknown
 * 5.xx as 5.00 (RFC 7252 §5.9), which the text says.
 */
export function lwm2mCodeMeaning(code: number): string {
  const known = MEANINGS.get(code);
  if (known) return known;
  const cls = code >> 5;
  if (cls === 4) return `unknown 4.xx code, treated as ${MEANINGS.get(0x80)!}`;
  if (cls === 5) return `unknown 5.xx code, treated as ${MEANINGS.get(0xa0)!}`;
  return `unexpected response code ${codeToString(code)}`;
}

/** Where a failed operation went: for messages and for error reporting. */
export interface OperationTarget {
  endpoint: string;
  /** `read`, `write`, `observe-composite`, … */
  operation: string;
  /** The target path (`/` for composite operations). */
  path: string;
}

/** The client answered with an error code (4.xx / 5.xx, or anything that is not 2.xx). */
export class ResponseCodeError extends Error {
  override readonly name = 'ResponseCodeError';
  /** `4.04` */
  readonly code: string;
  /** The LwM2M meaning of the code (lwm2m-protocol.md §6.3). */
  readonly meaning: string;
  /** The diagnostic payload as UTF-8 text ('' when none). */
  readonly diagnostic: string;

  constructor(
    /** The CoAP code byte (0x84). */
    readonly coapCode: number,
    /** The raw payload of the error response. */
    readonly payload: Uint8Array,
    readonly target: OperationTarget,
    /** Milliseconds from sending to the response. */
    readonly rtt: number,
  ) {
    const code = codeToString(coapCode);
    const diagnostic = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    super(`${target.operation} ${target.path} on "${target.endpoint}" failed with ${code} ${lwm2mCodeMeaning(coapCode).split(':')[0]}${diagnostic ? `: ${diagnostic}` : ''}`);
    this.code = code;
    this.meaning = lwm2mCodeMeaning(coapCode);
    this.diagnostic = diagnostic;
  }
}

/**
 * A successful response whose payload could not be decoded. `cause` is the codec's
 * DecodeError (or UnsupportedFormatError); the raw bytes are kept.
 */
export class ResponseDecodeError extends Error {
  override readonly name = 'ResponseDecodeError';
  constructor(
    override readonly cause: Error,
    /** Content-Format of the payload (undefined when the response had none and none could be assumed). */
    readonly format: number | undefined,
    readonly payload: Uint8Array,
    /** The response code (`2.05`). */
    readonly code: string,
    readonly target: OperationTarget,
    readonly rtt: number,
  ) {
    super(`${target.operation} ${target.path} on "${target.endpoint}": ${code} answer not decodable: ${cause.message} (payload ${payload.length} B: ${toHex(payload.subarray(0, 32))}${payload.length > 32 ? '…' : ''})`);
  }
}

/** The request is not valid as given (caught before anything is sent). */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

/** A queued request was cancelled before it was sent. */
export class RequestCancelledError extends Error {
  override readonly name = 'RequestCancelledError';
}

/** A queued request waited longer than its queue timeout for its (sleeping) client. */
export class QueueTimeoutError extends Error {
  override readonly name = 'QueueTimeoutError';
  constructor(
    message: string,
    /** Milliseconds the request waited. */
    readonly waitedMs: number,
  ) {
    super(message);
  }
}
