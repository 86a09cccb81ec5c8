/**
 * Types of the typed device-management and information-reporting API of Lwm2mServer
 * (lwm2m-protocol.md §6.3, §6.4): options per operation and the response of each.
 *
 * Every operation resolves to a response that extends `Lwm2mResponse` (a 2.xx answer, its
 * payload decoded with the object models and the client's object versions) or rejects with:
 * - ResponseCodeError: any other code, with its LwM2M meaning and diagnostic payload;
 * - ResponseDecodeError: a 2.xx whose payload could not be decoded (raw bytes kept);
 * - TimeoutError, ResetError, BlockTransferError: the exchange failed;
 * - QueueTimeoutError, RequestCancelledError: the request never left the client's queue;
 * - ClientNotFoundError, TransportClosedError: no such client / server stopped;
 * - InvalidRequestError, EncodeError, PathError: the request could not be built.
 */

import type { DiscoveredLink } from '../codec/link';
import type { Lwm2mRecord } from '../node';
import type { Lwm2mPath } from '../path';
import type { AttributeUpdate } from './attributes';
import type { ResponseDecodeError } from './errors';

/** Options every operation takes. */
export interface OperationOptions {
  /** Deadline of the exchange once sent (retransmissions, separate response, blocks), default the server's requestTimeoutMs. */
  timeoutMs?: number;
  /** How long the request may wait in the client's queue (queue mode), default the server's queueTimeoutMs. */
  queueTimeoutMs?: number;
  /**
   * Cancels the request: while it waits in the client's queue it leaves the queue
   * (RequestCancelledError); once sent, retransmissions stop and it ends with RequestAbortedError.
   */
  signal?: AbortSignal;
}

export interface ReadOptions extends OperationOptions {
  /** Accept: content format wanted; default the client's (setDefaultFormat, else from its version and `ct`). */
  format?: number;
}

export interface DiscoverOptions extends OperationOptions {
  /** LwM2M 1.2 `depth` (0..3). */
  depth?: number;
}

export interface WriteOptions extends OperationOptions {
  /** `replace` (PUT, default) or `update` (POST, partial update). */
  mode?: 'replace' | 'update';
  /** Content-Format of the payload; default the client's. */
  format?: number;
}

export interface CreateOptions extends OperationOptions {
  format?: number;
  /**
   * Let the client choose the instance id (TLV only: the records are sent as bare resources;
   * SenML names always carry an id). The id is then read from the 2.01 Location-Path.
   */
  clientAssignsId?: boolean;
}

export interface ObserveOptions extends ReadOptions {
  /** LwM2M 1.2: attributes for this observation only, sent as Uri-Query. */
  attributes?: AttributeUpdate | string;
}

export interface CompositeReadOptions extends ReadOptions {
  /** Content-Format of the path list (SenML JSON or CBOR); default the response format when it is SenML, else the client's SenML. */
  requestFormat?: number;
}

export interface CompositeWriteOptions extends OperationOptions {
  /** SenML JSON or CBOR (1.2: LwM2M CBOR); default the client's SenML. */
  format?: number;
}

export interface CancelOptions extends OperationOptions {
  /** Send GET/FETCH Observe=1 (active); default passive (forget, RST the next notification). */
  active?: boolean;
}

/** A successful (2.xx) answer. */
export interface Lwm2mResponse {
  /** `2.05`, `2.04`, … */
  code: string;
  /** The CoAP code byte (0x45). */
  coapCode: number;
  /** Content-Format of the payload (as sent, or assumed from Accept when the client sent none). */
  format: number | undefined;
  /** The decoded payload, one record per resource / resource instance; [] when there is no payload. */
  records: Lwm2mRecord[];
  /** Decoder remarks (e.g. values without a model). */
  notes: string[];
  /** The raw payload. */
  payload: Uint8Array;
  /** Milliseconds from the first transmission to the complete answer. */
  rtt: number;
}

export type ReadResponse = Lwm2mResponse;
export type WriteResponse = Lwm2mResponse;
export type ExecuteResponse = Lwm2mResponse;
export type DeleteResponse = Lwm2mResponse;
export type WriteAttributesResponse = Lwm2mResponse;

export interface DiscoverResponse extends Lwm2mResponse {
  /** One entry per link, attributes typed. */
  links: DiscoveredLink[];
  /** Links or attribute values that could not be read. */
  problems: string[];
}

export interface CreateResponse extends Lwm2mResponse {
  /** The new instance id: from the Location-Path, else the one requested. */
  instanceId: number | undefined;
  /** The Location-Path of the 2.01 as a path (`/3303/1`), when sent. */
  location: string | undefined;
}

/** An observation the server holds on a client. */
export interface ServerObservation {
  /** The token in hex; unique per client. */
  readonly id: string;
  readonly endpoint: string;
  readonly registrationId: string;
  /** The observed path; `/` for an Observe-Composite. */
  readonly path: Lwm2mPath;
  /** Observe-Composite: the observed paths; otherwise `[path]`. */
  readonly paths: readonly Lwm2mPath[];
  readonly composite: boolean;
  /** The Accept asked for, if any. */
  readonly format: number | undefined;
  readonly createdAt: number;
}

export interface ObserveResponse extends Lwm2mResponse {
  /** The observation, when the client accepted it (a 2.05 with Observe); undefined for a plain 2.05. */
  observation: ServerObservation | undefined;
}

/** A notification of an observation. */
export interface NotificationEvent {
  observation: ServerObservation;
  endpoint: string;
  /** `2.05`; an error code ends the observation. */
  code: string;
  format: number | undefined;
  payload: Uint8Array;
  /** Observe sequence number; undefined for the final (error) notification. */
  sequence: number | undefined;
  records: Lwm2mRecord[];
  notes: string[];
  /** Set when the payload could not be decoded (records then empty). */
  decodeError?: ResponseDecodeError;
  time: number;
}

/** A Send (POST /dp) received from a registered client. */
export interface SendEvent {
  endpoint: string;
  registrationId: string;
  format: number | undefined;
  payload: Uint8Array;
  records: Lwm2mRecord[];
  notes: string[];
  /** Set when the payload could not be decoded; the client got 4.00 (4.15 for an unsupported format). */
  decodeError?: ResponseDecodeError;
  time: number;
}
