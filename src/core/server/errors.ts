/** Errors of the LwM2M server API. Transport errors are re-exported so callers import from one place. */

export { BlockTransferError, PortInUseError, ResetError, TimeoutError, TransportClosedError } from '../coap/errors';

/** No registration exists (any more) for this endpoint name. */
export class ClientNotFoundError extends Error {
  override readonly name = 'ClientNotFoundError';
  constructor(readonly endpoint: string) {
    super(`no registered client with endpoint name "${endpoint}"`);
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
