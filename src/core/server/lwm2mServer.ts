/**
 * The embedded LwM2M server: one CoAP transport (one UDP socket for uplinks and downlinks),
 * the registration store, a traffic log, downlink requests with a per-client queue, and
 * observations. Payload decoding is injected (the codec registry, wired by the caller).
 */

import type { CodecContext, DecodeResult } from '../codec/types';
import { systemClock, type Clock } from '../coap/clock';
import { TransportClosedError } from '../coap/errors';
import { Code, Method, codeToString, isSuccessCode, type MethodName } from '../coap/message';
import type { Observation, ObservationEnd } from '../coap/observe';
import { OptionNumber, stringOptions } from '../coap/options';
import type { Peer } from '../coap/peer';
import {
  CoapTransport,
  type BindOptions,
  type CoapRequest,
  type CoapResponse,
  type IncomingRequest,
  type OutgoingResponse,
  type TransportOptions,
  type TransportStats,
} from '../coap/transport';
import { Lwm2mPath } from '../path';
import { ClientNotFoundError, RegistrationError } from './errors';
import { TypedEmitter } from './events';
import { objectVersions, parseRegister, parseUpdate, SUPPORTED_LWM2M_VERSIONS, type RegisterParams, type Registration } from './registration';
import { RegistrationStore } from './registrationStore';
import { SerialQueue } from './serialQueue';
import { TrafficLog, type TrafficEntry } from './traffic';

/** Decodes a response payload; wired to the codec registry's `decode(format, bytes, ctx)`. */
export type PayloadDecoder = (format: number, bytes: Uint8Array, ctx: CodecContext) => DecodeResult;

export interface Lwm2mServerOptions {
  clock?: Clock;
  /** Decoder for response and notification payloads. Without it nothing is decoded. */
  decode?: PayloadDecoder;
  /** Entries kept by the traffic log, default 1000. */
  trafficLogSize?: number;
  /** Default deadline of a downlink request, default 93 000 ms (MAX_TRANSMIT_WAIT). */
  requestTimeoutMs?: number;
  /** Grace period added to registration lifetimes, default 10 000 ms. */
  expiryGraceMs?: number;
  /** How often expired registrations are looked for, default 1000 ms. */
  expiryCheckMs?: number;
  /** LwM2M versions accepted at Register (others get 4.12), default 1.0, 1.1, 1.2. */
  supportedVersions?: readonly string[];
  /** Return false to refuse a Register with 4.03 Forbidden. */
  authorize?: (params: RegisterParams, peer: Peer) => boolean;
  /** Registration id generator (tests). */
  newRegistrationId?: () => string;
  /** CoAP tunables (retransmission, dedup, block size, …). */
  transport?: Omit<TransportOptions, 'clock' | 'onRequest' | 'onTraffic' | 'onMalformed' | 'onError' | 'requestTimeoutMs'>;
}

/** A downlink request to a registered client. */
export interface DownlinkRequest {
  method: Exclude<MethodName, 'PATCH'>;
  /** LwM2M path, below the client's alternate path (which is prepended). */
  path: string | Lwm2mPath;
  /** Uri-Query parameters, e.g. `['pmin=10']` for Write-Attributes. */
  query?: string[];
  accept?: number;
  contentFormat?: number;
  payload?: Uint8Array;
  /** Observe=0: start an observation (GET or FETCH). */
  observe?: boolean;
  /** Deadline in ms, default the server's requestTimeoutMs. */
  timeoutMs?: number;
}

/** The complete response to a downlink request. */
export interface DownlinkResponse {
  /** `2.05`, `4.04`, … */
  code: string;
  /** Content-Format of the payload, when given. */
  format: number | undefined;
  payload: Uint8Array;
  /** Milliseconds from sending to the complete response. */
  rtt: number;
  /** The decoded payload, when a decoder is configured and the response is a 2.xx with a format. */
  decoded?: DecodeResult;
  /** Why decoding failed, if it did. */
  decodeError?: Error;
  /** Present when an Observe request was accepted. */
  observation?: ServerObservation;
}

/** An observation the server holds on a client. */
export interface ServerObservation {
  /** The token in hex; unique per client. */
  readonly id: string;
  readonly endpoint: string;
  readonly registrationId: string;
  readonly path: Lwm2mPath;
}

export interface NotificationEvent {
  observation: ServerObservation;
  code: string;
  format: number | undefined;
  payload: Uint8Array;
  /** Observe sequence number; undefined for the final (error) notification. */
  sequence: number | undefined;
  decoded?: DecodeResult;
  decodeError?: Error;
}

export interface Lwm2mServerEvents {
  registered: (registration: Registration) => void;
  updated: (registration: Registration, previous: Registration) => void;
  deregistered: (registration: Registration) => void;
  expired: (registration: Registration) => void;
  replaced: (previous: Registration, registration: Registration) => void;
  notification: (event: NotificationEvent) => void;
  observationEnded: (observation: ServerObservation, reason: ObservationEnd) => void;
  traffic: (entry: TrafficEntry) => void;
  /** Socket errors and internal errors that were contained. */
  error: (err: Error) => void;
}

interface HeldObservation {
  info: ServerObservation;
  handle: Observation;
}

/**
 * An LwM2M server on one UDP port: accepts Register/Update/De-register on `/rd`, expires
 * registrations, and sends downlink requests to registered clients.
 */
export class Lwm2mServer extends TypedEmitter<Lwm2mServerEvents> {
  /** Every CoAP message in and out, most recent `trafficLogSize`. */
  readonly traffic: TrafficLog;
  private readonly clock: Clock;
  private readonly store: RegistrationStore;
  private readonly queue = new SerialQueue();
  /** Registration id → token hex → observation. */
  private readonly observationsByReg = new Map<string, Map<string, HeldObservation>>();
  private transport: CoapTransport | undefined;
  private expiryTimer: unknown;

  constructor(private readonly options: Lwm2mServerOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.traffic = new TrafficLog(options.trafficLogSize ?? 1000);
    this.store = new RegistrationStore({ clock: this.clock, graceMs: options.expiryGraceMs, newId: options.newRegistrationId });
    this.store.on('registered', (r) => this.emit('registered', r));
    this.store.on('updated', (r, p) => this.emit('updated', r, p));
    this.store.on('deregistered', (r) => this.dropRegistration('deregistered', r));
    this.store.on('expired', (r) => this.dropRegistration('expired', r));
    this.store.on('replaced', (p, r) => {
      this.forgetObservations(p.id);
      this.emit('replaced', p, r);
    });
  }

  /** Starts listening. Default port 5683; default address dual-stack `::` (else 0.0.0.0). Rejects with PortInUseError. */
  async start(options: BindOptions = {}): Promise<void> {
    if (this.transport) throw new Error('the server is already running');
    const transport = new CoapTransport({
      ...this.options.transport,
      clock: this.clock,
      requestTimeoutMs: this.options.requestTimeoutMs,
      onRequest: (req) => this.onUplink(req),
      onTraffic: (e) => this.emit('traffic', this.traffic.addMessage(e)),
      onMalformed: (e) => this.emit('traffic', this.traffic.addMalformed(e)),
      onError: (err) => this.emit('error', err),
    });
    await transport.bind({ port: options.port ?? 5683, address: options.address });
    this.transport = transport;
    this.scheduleExpiryCheck();
  }

  /** Stops listening: pending requests fail with TransportClosedError, observations end. Registrations are kept. */
  async stop(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    this.transport = undefined;
    this.clock.clearTimeout(this.expiryTimer);
    await transport.close();
    for (const id of [...this.observationsByReg.keys()]) this.forgetObservations(id);
  }

  /** The bound address, or undefined when stopped. */
  address(): { address: string; port: number; family: 'IPv4' | 'IPv6' } | undefined {
    return this.transport?.address();
  }

  /** CoAP counters (received, sent, malformed, duplicates, retransmissions, …). */
  get stats(): TransportStats | undefined {
    return this.transport?.stats;
  }

  registrations(): Registration[] {
    return this.store.list();
  }

  registration(endpoint: string): Registration | undefined {
    return this.store.byEndpoint(endpoint);
  }

  /** Observations currently held on a client. */
  observations(endpoint: string): ServerObservation[] {
    const reg = this.store.byEndpoint(endpoint);
    return reg ? [...(this.observationsByReg.get(reg.id)?.values() ?? [])].map((o) => o.info) : [];
  }

  /**
   * Sends a request to a registered client, from the registration socket to the address the
   * client last talked from, below its alternate path. Requests to one client run one at a time.
   * Resolves with any response code; rejects with ClientNotFoundError, TimeoutError,
   * ResetError, BlockTransferError, TransportClosedError, or PathError for a malformed path.
   */
  request(endpoint: string, req: DownlinkRequest): Promise<DownlinkResponse> {
    if (!this.transport) return Promise.reject(new TransportClosedError('the LwM2M server is not running'));
    if (!this.store.byEndpoint(endpoint)) return Promise.reject(new ClientNotFoundError(endpoint));
    let path: Lwm2mPath;
    try {
      path = typeof req.path === 'string' ? Lwm2mPath.parse(req.path) : req.path;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(endpoint, () => this.send(endpoint, path, req));
  }

  /**
   * Ends an observation. Passive (default): forget it; the client's next notification gets a
   * RST. Active: send GET Observe=1 with the same token first.
   */
  async cancelObservation(endpoint: string, id: string, options: { active?: boolean } = {}): Promise<void> {
    const reg = this.store.byEndpoint(endpoint);
    const held = reg ? this.observationsByReg.get(reg.id)?.get(id) : undefined;
    if (!reg || !held) return;
    if (options.active) await this.queue.run(endpoint, () => held.handle.cancel({ active: true }));
    else await held.handle.cancel();
  }

  // ----- Downlink -----------------------------------------------------------------------------

  private async send(endpoint: string, path: Lwm2mPath, req: DownlinkRequest): Promise<DownlinkResponse> {
    const transport = this.transport;
    if (!transport) throw new TransportClosedError('the LwM2M server is not running');
    const reg = this.store.byEndpoint(endpoint);
    if (!reg) throw new ClientNotFoundError(endpoint);
    const coapReq: CoapRequest = {
      method: Method[req.method],
      path: [...reg.rootPath.split('/').filter((s) => s !== ''), ...path.ids.map(String)],
      query: req.query,
      accept: req.accept,
      contentFormat: req.contentFormat,
      payload: req.payload,
    };
    const timing = { timeoutMs: req.timeoutMs };
    if (!req.observe) return this.toDownlink(reg, path, await transport.request(reg.address, coapReq, timing));

    let info: ServerObservation | undefined;
    const { response, observation } = await transport.observe(
      reg.address,
      coapReq,
      {
        onNotification: (res) => {
          if (info) this.onNotification(reg, info, res);
        },
        onEnd: (reason) => {
          if (info) this.onObservationEnd(info, reason);
        },
      },
      timing,
    );
    const result = this.toDownlink(reg, path, response);
    if (observation) {
      info = { id: observation.token.toString('hex'), endpoint: reg.endpoint, registrationId: reg.id, path };
      if (this.store.get(reg.id)) {
        const held = this.observationsByReg.get(reg.id) ?? new Map<string, HeldObservation>();
        held.set(info.id, { info, handle: observation });
        this.observationsByReg.set(reg.id, held);
        result.observation = info;
      } else {
        await observation.cancel();
      }
    }
    return result;
  }

  private toDownlink(reg: Registration, path: Lwm2mPath, res: CoapResponse & { rtt: number }): DownlinkResponse {
    return { code: codeToString(res.code), format: res.contentFormat, payload: res.payload, rtt: res.rtt, ...this.decode(reg, path, res) };
  }

  private decode(reg: Registration, path: Lwm2mPath, res: CoapResponse): { decoded?: DecodeResult; decodeError?: Error } {
    const decode = this.options.decode;
    if (!decode || res.contentFormat === undefined || res.payload.length === 0 || !isSuccessCode(res.code)) return {};
    try {
      return { decoded: decode(res.contentFormat, res.payload, { path, objectVersions: objectVersions(reg) }) };
    } catch (err) {
      return { decodeError: err as Error };
    }
  }

  private onNotification(reg: Registration, observation: ServerObservation, res: CoapResponse): void {
    const current = this.store.get(reg.id) ?? reg;
    this.emit('notification', {
      observation,
      code: codeToString(res.code),
      format: res.contentFormat,
      payload: res.payload,
      sequence: res.observe,
      ...this.decode(current, observation.path, res),
    });
  }

  private onObservationEnd(info: ServerObservation, reason: ObservationEnd): void {
    const held = this.observationsByReg.get(info.registrationId);
    held?.delete(info.id);
    if (held?.size === 0) this.observationsByReg.delete(info.registrationId);
    this.emit('observationEnded', info, reason);
  }

  /** Passive cancel of every observation of a registration that is gone. */
  private forgetObservations(registrationId: string): void {
    const held = this.observationsByReg.get(registrationId);
    if (!held) return;
    for (const o of [...held.values()]) void o.handle.cancel();
    this.observationsByReg.delete(registrationId);
  }

  private dropRegistration(event: 'deregistered' | 'expired', reg: Registration): void {
    this.forgetObservations(reg.id);
    this.emit(event, reg);
  }

  private scheduleExpiryCheck(): void {
    this.expiryTimer = this.clock.setTimeout(() => {
      this.store.expire();
      this.scheduleExpiryCheck();
    }, this.options.expiryCheckMs ?? 1000);
  }

  // ----- Uplink (Client Registration interface) ------------------------------------------------

  private onUplink(req: IncomingRequest): OutgoingResponse {
    const [root, id, ...rest] = req.path;
    if (root !== 'rd' || rest.length > 0) return { code: Code.NotFound };
    try {
      if (id === undefined) return req.method === Method.POST ? this.onRegister(req) : { code: Code.MethodNotAllowed };
      if (req.method === Method.POST) return this.onUpdate(id, req);
      if (req.method === Method.DELETE) {
        return this.store.deregister(id) ? { code: Code.Deleted } : { code: Code.NotFound };
      }
      return { code: Code.MethodNotAllowed };
    } catch (err) {
      if (err instanceof RegistrationError) return { code: err.code, payload: Buffer.from(err.message) };
      throw err;
    }
  }

  private onRegister(req: IncomingRequest): OutgoingResponse {
    const params = parseRegister(req.query, req.payload, req.contentFormat, this.options.supportedVersions ?? SUPPORTED_LWM2M_VERSIONS);
    if (this.options.authorize && !this.options.authorize(params, req.peer)) {
      return { code: Code.Forbidden, payload: Buffer.from(`endpoint "${params.endpoint}" may not register`) };
    }
    const reg = this.store.register(params, req.peer);
    return { code: Code.Created, options: stringOptions(OptionNumber.LocationPath, ['rd', reg.id]) };
  }

  private onUpdate(id: string, req: IncomingRequest): OutgoingResponse {
    if (!this.store.get(id)) return { code: Code.NotFound };
    this.store.update(id, parseUpdate(req.query, req.payload, req.contentFormat), req.peer);
    return { code: Code.Changed };
  }
}
