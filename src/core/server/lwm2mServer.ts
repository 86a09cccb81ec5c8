/**
 * The embedded LwM2M server: one CoAP transport (one UDP socket for uplinks and downlinks),
 * the registration store, a traffic log, and the device-management / information-reporting
 * API (Leshan-style: one method per operation, each with its typed response; see
 * ./operations.ts), with a per-client request queue and queue mode (lwm2m-protocol.md §6, §7).
 *
 * Decoding uses the codec registry and a ModelRegistry (both constructor options), with the
 * object versions each client announced. Queue mode: a client that registered with `Q` (1.1+)
 * or a `Q` binding (1.0) is taken to be awake for `awakeWindowMs` after each message it sends;
 * requests to it wait in its queue while it sleeps and go out, one at a time, after its next
 * uplink (Register, Update, Send, a notification, an ACK…).
 *
 * Status (issue 4, items 2–4, 6): registration interface with every parameter, re-registration
 * replacing the registration and its observations, a `Q` in an Update, address changes;
 * every DM / information-reporting operation typed (./operations.ts), Send on `/dp`; the
 * per-client queue with queue mode (./downlinkQueue.ts); the traffic log with a summary per
 * message (./traffic.ts); observations follow a client whose notifications come from a new
 * address (the transport matches a live observation by its token). Not done yet:
 * - requests still go to the address of the last Register/Update, not to the address a
 *   notification came from (a client behind a rebinding NAT is reached after its next Update);
 * - after stop()/start() queue-mode clients count as awake until they next send something;
 *
 * CoAPS (issue 7, part of item 2): with the `dtls` option, start() also runs a second
 * CoapTransport over a DtlsServer (src/core/dtls, via datagramSocket) sharing the registration
 * store. A client registering over it is recorded with `security: 'PSK'` and its identity;
 * its identity must be bound to its endpoint name (else 4.03), its Update / De-register / Send
 * must come over a session with the same identity, and downlinks to it go out through the DTLS
 * session of its address.
 */

import { codecRegistry, detectFormat, type CodecRegistry } from '../codec/registry';
import { readDiscoverLinks } from '../codec/link';
import type { CodecContext, DecodeResult } from '../codec/types';
import { systemClock, type Clock } from '../coap/clock';
import { TransportClosedError } from '../coap/errors';
import { Code, Method, codeToString, isSuccessCode, type MethodName } from '../coap/message';
import type { Observation, ObservationEnd } from '../coap/observe';
import { OptionNumber, getStringOptions, stringOptions } from '../coap/options';
import { formatPeer, type Peer } from '../coap/peer';
import {
  CoapTransport,
  type BindOptions,
  type CoapRequest,
  type CoapResponse,
  type IncomingRequest,
  type OutgoingResponse,
  type RequestResult,
  type TransportOptions,
  type TransportStats,
} from '../coap/transport';
import { ContentFormat, formatName } from '../contentFormat';
import { createModelRegistry } from '../model/bundled';
import type { ModelLookup } from '../model/types';
import type { DtlsServer } from '../dtls';
import type { Lwm2mRecord } from '../node';
import { Lwm2mPath } from '../path';
import { attributeQuery, parseAttributes, type AttributeUpdate } from './attributes';
import { DownlinkQueue, type QueuedRequestInfo } from './downlinkQueue';
import { ClientNotFoundError, InvalidRequestError, RegistrationError, ResponseCodeError, ResponseDecodeError, type OperationTarget } from './errors';
import { TypedEmitter } from './events';
import { formatExecuteArguments, type ExecuteArgument } from './execute';
import { compositeFormat, isCompositeRequestFormat, preferredFormat } from './formats';
import type {
  CancelOptions,
  CompositeReadOptions,
  CompositeWriteOptions,
  CreateOptions,
  CreateResponse,
  DeleteResponse,
  DiscoverOptions,
  DiscoverResponse,
  ExecuteResponse,
  Lwm2mResponse,
  NotificationEvent,
  ObserveOptions,
  ObserveResponse,
  OperationOptions,
  ReadOptions,
  ReadResponse,
  SendEvent,
  ServerObservation,
  WriteAttributesResponse,
  WriteOptions,
  WriteResponse,
} from './operations';
import { objectVersions, parseRegister, parseUpdate, SUPPORTED_LWM2M_VERSIONS, type Channel, type RegisterParams, type Registration } from './registration';
import { RegistrationStore } from './registrationStore';
import { PskBindings, openCoaps, type Lwm2mDtlsOptions } from './psk';
import { TrafficLog, type TrafficEntry } from './traffic';

export type * from './operations';
export type { QueuedRequestInfo } from './downlinkQueue';

export type { PskCredential, PskLookupResult, Lwm2mDtlsOptions } from './psk';

/** Decodes a payload; by default the codec registry's `decode(format, bytes, ctx)`. */
export type PayloadDecoder = (format: number, bytes: Uint8Array, ctx: CodecContext) => DecodeResult;

export interface Lwm2mServerOptions {
  clock?: Clock;
  /** Object models for decoding and encoding, default the bundled ones (createModelRegistry()). */
  models?: ModelLookup;
  /** Codecs, default the core's codecRegistry. */
  codecs?: CodecRegistry;
  /** Replaces `codecs.decode` for response, notification and Send payloads. */
  decode?: PayloadDecoder;
  /** Entries kept by the traffic log, default 1000. */
  trafficLogSize?: number;
  /** Default deadline of a downlink exchange, default 93 000 ms (MAX_TRANSMIT_WAIT). */
  requestTimeoutMs?: number;
  /** Grace period added to registration lifetimes, default 10 000 ms. */
  expiryGraceMs?: number;
  /** How often expired registrations are looked for, default 1000 ms. */
  expiryCheckMs?: number;
  /** LwM2M versions accepted at Register (others get 4.12), default 1.0, 1.1, 1.2. */
  supportedVersions?: readonly string[];
  /** Return false to refuse a Register with 4.03 Forbidden (`channel`: NoSec, or PSK with the identity). */
  authorize?: (params: RegisterParams, peer: Peer, channel: Channel) => boolean;
  /** Serve CoAPS (DTLS 1.2 with PSK) too. */
  dtls?: Lwm2mDtlsOptions;
  /** Registration id generator (tests). */
  newRegistrationId?: () => string;
  /** Queue mode: how long a client stays reachable after its last message, default 93 000 ms (MAX_TRANSMIT_WAIT). */
  awakeWindowMs?: number;
  /** How long a request may wait in a client's queue; default the client's lifetime plus the expiry grace. */
  queueTimeoutMs?: number;
  /** CoAP tunables (retransmission, dedup, block size, …). */
  transport?: Omit<TransportOptions, 'clock' | 'onRequest' | 'onTraffic' | 'onMalformed' | 'onError' | 'requestTimeoutMs'>;
}

/** A low-level downlink request to a registered client (see `request`). */
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
  /** Deadline in ms once sent, default the server's requestTimeoutMs. */
  timeoutMs?: number;
  /** How long it may wait in the client's queue. */
  queueTimeoutMs?: number;
}

/** The complete answer to a low-level downlink request, whatever its code. */
export interface DownlinkResponse {
  /** `2.05`, `4.04`, … */
  code: string;
  /** Content-Format of the payload, when given. */
  format: number | undefined;
  payload: Uint8Array;
  /** Milliseconds from sending to the complete response. */
  rtt: number;
  /** Location-Path segments (2.01 of a Create). */
  location?: string[];
  /** The decoded payload, for a 2.xx with a payload and a Content-Format. */
  decoded?: DecodeResult;
  /** Why decoding failed, if it did. */
  decodeError?: Error;
  /** Present when an Observe request was accepted. */
  observation?: ServerObservation;
}

export interface Lwm2mServerEvents {
  registered: (registration: Registration) => void;
  updated: (registration: Registration, previous: Registration) => void;
  deregistered: (registration: Registration) => void;
  expired: (registration: Registration) => void;
  /** A new Register of a known endpoint replaced `previous` (its observations were dropped). Emitted before `registered`. */
  replaced: (previous: Registration, registration: Registration) => void;
  notification: (event: NotificationEvent) => void;
  observationEnded: (observation: ServerObservation, reason: ObservationEnd) => void;
  /** A Send (POST /dp) arrived. */
  send: (event: SendEvent) => void;
  /** A queue-mode client's awake window passed without a message from it. */
  sleeping: (registration: Registration) => void;
  /** A sleeping queue-mode client sent something; its queued requests go out now. */
  awake: (registration: Registration) => void;
  /** A request has to wait because its client sleeps. */
  requestQueued: (request: QueuedRequestInfo) => void;
  /** A queued request expired before its client woke up. */
  requestExpired: (request: QueuedRequestInfo) => void;
  traffic: (entry: TrafficEntry) => void;
  /** Socket errors and internal errors that were contained. */
  error: (err: Error) => void;
}

interface HeldObservation {
  info: ServerObservation;
  handle: Observation;
}

/** Queue-mode state of a client. */
interface Presence {
  lastUplink: number;
  sleeping: boolean;
  timer: unknown;
}

/** What came back: the transport's result, and the observation an Observe established. */
type Exchanged = RequestResult & { observation?: ServerObservation };

/** A request as the server builds it, before the alternate path is prepended. */
interface Outgoing {
  method: number;
  path: Lwm2mPath;
  query?: readonly string[];
  accept?: number;
  contentFormat?: number;
  payload?: Uint8Array;
  observe?: { paths: readonly Lwm2mPath[]; composite: boolean };
}

const METHOD_NAMES = new Map<number, string>(Object.entries(Method).map(([k, v]) => [v, k]));
const NO_NOTES: string[] = [];
/** SO_RCVBUF asked for the server socket: ~5 000 datagrams of headroom (capped by net.core.rmem_max). */
const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;

/**
 * An LwM2M server on one UDP port: accepts Register/Update/De-register on `/rd` and Send on
 * `/dp`, expires registrations, and runs operations on registered clients.
 */
export class Lwm2mServer extends TypedEmitter<Lwm2mServerEvents> {
  /** Every CoAP message in and out, most recent `trafficLogSize`. */
  readonly traffic: TrafficLog;
  /** The object models used for decoding and encoding. */
  readonly models: ModelLookup;
  private readonly codecs: CodecRegistry;
  private readonly decoder: PayloadDecoder;
  private readonly clock: Clock;
  private readonly store: RegistrationStore;
  private readonly queue: DownlinkQueue;
  private readonly awakeWindowMs: number;
  /** Registration id → token hex → observation. */
  private readonly observationsByReg = new Map<string, Map<string, HeldObservation>>();
  /** Queue-mode clients by endpoint. */
  private readonly presence = new Map<string, Presence>();
  /** Per-client default formats set with setDefaultFormat. */
  private readonly formatOverrides = new Map<string, number>();
  private readonly versionsCache = new WeakMap<Registration, Map<number, string>>();
  private readonly rootCache = new WeakMap<Registration, string[]>();
  private readonly preferredCache = new WeakMap<Registration, number>();
  private transport: CoapTransport | undefined;
  private secureTransport: CoapTransport | undefined;
  private dtlsServer: DtlsServer | undefined;
  /** Keys of the CoAPS port, and the endpoint each identity is bound to. */
  private readonly psk: PskBindings;
  private expiryTimer: unknown;

  constructor(private readonly options: Lwm2mServerOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.models = options.models ?? createModelRegistry();
    this.codecs = options.codecs ?? codecRegistry;
    this.decoder = options.decode ?? ((format, bytes, ctx) => this.codecs.decode(format, bytes, ctx));
    this.awakeWindowMs = options.awakeWindowMs ?? 93_000;
    this.psk = new PskBindings(options.dtls ?? {});
    this.traffic = new TrafficLog(options.trafficLogSize ?? 1000);
    this.queue = new DownlinkQueue(this.clock, {
      canSend: (endpoint) => this.canSend(endpoint),
      onQueued: (info) => this.emit('requestQueued', info),
      onExpired: (info) => this.emit('requestExpired', info),
    });
    this.store = new RegistrationStore({ clock: this.clock, graceMs: options.expiryGraceMs, newId: options.newRegistrationId });
    this.store.on('registered', (r) => {
      this.touch(r);
      this.emit('registered', r);
    });
    this.store.on('updated', (r, p) => {
      this.touch(r);
      this.emit('updated', r, p);
    });
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
    const transport = this.newTransport((req) => this.onUplink(req, NOSEC));
    await transport.bind({ port: options.port ?? 5683, address: options.address });
    const dtls = this.options.dtls;
    if (dtls) {
      const coaps = await openCoaps({
        dtls,
        psk: this.psk,
        clock: this.clock,
        defaultPort: 5684,
        address: options.address,
        plain: transport,
        transportFor: (dtlsServer, socketFactory) => this.newTransport((req) => this.onUplink(req, this.channelOf(dtlsServer, req.peer)), socketFactory),
      });
      this.dtlsServer = coaps.dtlsServer;
      this.secureTransport = coaps.transport;
    }
    this.transport = transport;
    this.scheduleExpiryCheck();
  }

  private newTransport(onRequest: (req: IncomingRequest) => OutgoingResponse, socketFactory?: TransportOptions['socketFactory']): CoapTransport {
    return new CoapTransport({
      receiveBufferBytes: DEFAULT_RECEIVE_BUFFER,
      ...this.options.transport,
      ...(socketFactory ? { socketFactory } : {}),
      clock: this.clock,
      requestTimeoutMs: this.options.requestTimeoutMs,
      onRequest,
      onTraffic: (e) => {
        if (e.direction === 'in' && this.presence.size > 0) this.onUplinkMessage(e.peer);
        if (this.listenerCount('traffic') > 0) this.emit('traffic', this.traffic.addMessage(e));
        else this.traffic.addMessage(e);
      },
      onMalformed: (e) => this.emit('traffic', this.traffic.addMalformed(e)),
      onError: (err) => this.emit('error', err),
    });
  }

  /** The channel of a request that came over DTLS: the identity of the peer's session. */
  private channelOf(dtls: DtlsServer, peer: Peer): Channel {
    const identity = dtls.sessionFor(peer)?.identity;
    // Only an established session delivers application data, so the identity is always there.
    return identity === undefined ? { security: 'PSK', identity: '' } : { security: 'PSK', identity };
  }

  /** Stops listening: queued and pending requests fail with TransportClosedError, observations end. Registrations are kept. */
  async stop(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const secure = this.secureTransport;
    this.transport = undefined;
    this.secureTransport = undefined;
    this.dtlsServer = undefined;
    this.clock.clearTimeout(this.expiryTimer);
    this.queue.clear(() => new TransportClosedError('the LwM2M server stopped'));
    for (const p of this.presence.values()) this.clock.clearTimeout(p.timer);
    this.presence.clear();
    await Promise.all([transport.close(), secure?.close()]);
    for (const id of [...this.observationsByReg.keys()]) this.forgetObservations(id);
  }

  /** The bound address, or undefined when stopped. */
  address(): { address: string; port: number; family: 'IPv4' | 'IPv6' } | undefined {
    return this.transport?.address();
  }

  /** The bound CoAPS (DTLS) address, or undefined when stopped or without the `dtls` option. */
  secureAddress(): { address: string; port: number; family: 'IPv4' | 'IPv6' } | undefined {
    return this.secureTransport?.address();
  }

  /** The DTLS server under CoAPS while running (sessions, stats). */
  get dtls(): DtlsServer | undefined {
    return this.dtlsServer;
  }

  /** CoAP counters (received, sent, malformed, duplicates, retransmissions, …). */
  get stats(): TransportStats | undefined {
    return this.transport?.stats;
  }

  /** CoAP counters of the CoAPS transport (DTLS counters: `dtls.stats`). */
  get secureStats(): TransportStats | undefined {
    return this.secureTransport?.stats;
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

  // ----- Formats and queue mode ---------------------------------------------------------------

  /**
   * The content format used by default for a client (Read Accept, Write, Create, Observe):
   * what setDefaultFormat set, else TLV for LwM2M 1.0, else from its `ct` hint (SenML CBOR,
   * SenML JSON, TLV, LwM2M CBOR), else SenML CBOR. Undefined for an unknown client.
   */
  defaultFormat(endpoint: string): number | undefined {
    const reg = this.store.byEndpoint(endpoint);
    return reg ? this.formatFor(reg) : undefined;
  }

  /** Sets (or with undefined clears) the default format of an endpoint; kept across re-registrations. */
  setDefaultFormat(endpoint: string, format: number | undefined): void {
    if (format === undefined) this.formatOverrides.delete(endpoint);
    else this.formatOverrides.set(endpoint, format);
  }

  /** Is a queue-mode client sleeping (no message from it within the awake window)? False for other clients. */
  isSleeping(endpoint: string): boolean {
    return !this.canSend(endpoint);
  }

  /** The requests of a client: the one on the wire first, then those waiting, in order. */
  queuedRequests(endpoint: string): QueuedRequestInfo[] {
    return this.queue.list(endpoint);
  }

  /** Cancels a request still waiting in a client's queue (it rejects with RequestCancelledError). False when unknown or already sent. */
  cancelQueuedRequest(endpoint: string, id: number): boolean {
    return this.queue.cancel(endpoint, id);
  }

  // ----- Device management ----------------------------------------------------------------------

  /** Read (GET) with Accept = `format` or the client's default. */
  read(endpoint: string, path: string | Lwm2mPath, options: ReadOptions = {}): Promise<ReadResponse> {
    // Not async: the hot path of a busy server holds as few promises as it can.
    let p: Lwm2mPath;
    let reg: Registration;
    try {
      p = toPath(path);
      reg = this.requireClient(endpoint);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const accept = options.format ?? this.formatFor(reg);
    return this.perform(endpoint, 'read', { method: Method.GET, path: p, accept }, options, reg).then((ex) => this.decoded(ex, reg, endpoint, 'read', p, accept));
  }

  /** Discover (GET, Accept link format); attributes parsed per link. */
  async discover(endpoint: string, path: string | Lwm2mPath, options: DiscoverOptions = {}): Promise<DiscoverResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    if (options.depth !== undefined && (!Number.isInteger(options.depth) || options.depth < 0 || options.depth > 3)) {
      throw new InvalidRequestError(`depth ${options.depth} is not 0..3`);
    }
    const query = options.depth === undefined ? undefined : [`depth=${options.depth}`];
    const ex = await this.perform(endpoint, 'discover', { method: Method.GET, path: p, accept: ContentFormat.Link, query }, options);
    const base = this.decoded(ex, reg, endpoint, 'discover', p, ContentFormat.Link);
    const text = Buffer.from(base.payload.buffer, base.payload.byteOffset, base.payload.byteLength).toString('utf8');
    try {
      return { ...base, ...readDiscoverLinks(text) };
    } catch (err) {
      throw new ResponseDecodeError(err as Error, base.format, base.payload, base.code, target(endpoint, 'discover', p), base.rtt);
    }
  }

  /**
   * Write: replace (PUT, default) or partial update (POST) of `path` with `records` (each at or
   * below `path`), encoded as `format` or the client's default.
   */
  async write(endpoint: string, path: string | Lwm2mPath, records: readonly Lwm2mRecord[], options: WriteOptions = {}): Promise<WriteResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    if (records.length === 0) throw new InvalidRequestError('nothing to write: no records');
    for (const r of records) if (!p.contains(r.path)) throw new InvalidRequestError(`record ${r.path.toString()} is not inside the write target ${p.toString()}`);
    const format = options.format ?? this.formatFor(reg);
    const payload = this.encode(reg, format, records, p);
    const operation = options.mode === 'update' ? 'write-update' : 'write';
    const method = options.mode === 'update' ? Method.POST : Method.PUT;
    const ex = await this.perform(endpoint, operation, { method, path: p, contentFormat: format, payload }, options);
    return this.decoded(ex, reg, endpoint, operation, p, undefined, false);
  }

  /** Write-Attributes (PUT with Uri-Query, no payload): `pmin=1&pmax=5` sets, `pmin` (or null) unsets. */
  async writeAttributes(endpoint: string, path: string | Lwm2mPath, attributes: AttributeUpdate | string, options: OperationOptions = {}): Promise<WriteAttributesResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    const query = attributeQuery(parseAttributes(attributes));
    const ex = await this.perform(endpoint, 'write-attributes', { method: Method.PUT, path: p, query }, options);
    return this.decoded(ex, reg, endpoint, 'write-attributes', p, undefined, false);
  }

  /**
   * Execute (POST). Arguments as text (sent as given, text/plain) or as a list (validated and
   * formatted, §6.7); none → no payload and no Content-Format.
   */
  async execute(endpoint: string, path: string | Lwm2mPath, args: string | readonly ExecuteArgument[] = '', options: OperationOptions = {}): Promise<ExecuteResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    const text = typeof args === 'string' ? args : formatExecuteArguments(args);
    const payload = text === '' ? undefined : Buffer.from(text, 'utf8');
    const ex = await this.perform(endpoint, 'execute', { method: Method.POST, path: p, payload, contentFormat: payload ? ContentFormat.Text : undefined }, options);
    return this.decoded(ex, reg, endpoint, 'execute', p, undefined, false);
  }

  /**
   * Create (POST on the object) of an instance holding `records` (resources under
   * `/O/I`). The instance id is the records' (or, with `clientAssignsId`, the client's choice,
   * TLV only) and is returned from the 2.01 Location-Path when the client sends one.
   */
  async create(endpoint: string, path: string | Lwm2mPath | number, records: readonly Lwm2mRecord[], options: CreateOptions = {}): Promise<CreateResponse> {
    const p = typeof path === 'number' ? Lwm2mPath.of(path) : toPath(path);
    const reg = this.requireClient(endpoint);
    if (p.level !== 'object') throw new InvalidRequestError(`Create targets an object (/O), not ${p.toString()}`);
    const ids = new Set<number>();
    for (const r of records) {
      if (!p.contains(r.path) || r.path.length < 3) throw new InvalidRequestError(`record ${r.path.toString()} is not a resource of ${p.toString()}/<instance>`);
      ids.add(r.path.instanceId!);
    }
    if (ids.size > 1) throw new InvalidRequestError(`the records name ${ids.size} different instances; Create makes one`);
    const format = options.format ?? this.formatFor(reg);
    const requested = ids.size === 1 ? [...ids][0]! : undefined;
    let encodePath = p;
    if (options.clientAssignsId) {
      if (format !== ContentFormat.Tlv && format !== ContentFormat.LegacyTlv) {
        throw new InvalidRequestError(`only TLV can leave the instance id to the client (${formatName(format)} names carry the id); use format tlv or give an instance id`);
      }
      encodePath = p.child(requested ?? 0);
    } else if (requested === undefined) {
      throw new InvalidRequestError('Create needs records naming the new instance (/O/I/R), or clientAssignsId with TLV');
    }
    const payload = records.length > 0 ? this.encode(reg, format, records, encodePath) : undefined;
    const ex = await this.perform(endpoint, 'create', { method: Method.POST, path: p, contentFormat: payload ? format : undefined, payload }, options);
    const base = this.decoded(ex, reg, endpoint, 'create', p, undefined, false);
    const segments = getStringOptions(ex.options, OptionNumber.LocationPath);
    const last = segments.length > 0 ? segments[segments.length - 1]! : undefined;
    const fromLocation = last !== undefined && /^\d{1,5}$/.test(last) ? Number(last) : undefined;
    return {
      ...base,
      instanceId: fromLocation ?? (options.clientAssignsId ? undefined : requested),
      location: segments.length > 0 ? `/${segments.join('/')}` : undefined,
    };
  }

  /** Delete (DELETE) of an object instance. */
  async delete(endpoint: string, path: string | Lwm2mPath, options: OperationOptions = {}): Promise<DeleteResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    const ex = await this.perform(endpoint, 'delete', { method: Method.DELETE, path: p }, options);
    return this.decoded(ex, reg, endpoint, 'delete', p, undefined, false);
  }

  /** Read-Composite (FETCH `/` with a SenML path list). */
  async readComposite(endpoint: string, paths: readonly (string | Lwm2mPath)[], options: CompositeReadOptions = {}): Promise<ReadResponse> {
    const ps = paths.map(toPath);
    const reg = this.requireClient(endpoint);
    const { accept, requestFormat } = this.compositeFormats(reg, options);
    const payload = this.encode(reg, requestFormat, pathList(ps), Lwm2mPath.ROOT);
    const ex = await this.perform(endpoint, 'read-composite', { method: Method.FETCH, path: Lwm2mPath.ROOT, accept, contentFormat: requestFormat, payload }, options);
    return this.decoded(ex, reg, endpoint, 'read-composite', Lwm2mPath.ROOT, accept);
  }

  /** Write-Composite (iPATCH `/`): records with values, each anywhere; a null value deletes a resource instance (1.2). */
  async writeComposite(endpoint: string, records: readonly Lwm2mRecord[], options: CompositeWriteOptions = {}): Promise<WriteResponse> {
    const reg = this.requireClient(endpoint);
    if (records.length === 0) throw new InvalidRequestError('nothing to write: no records');
    const format = options.format ?? compositeFormat(this.formatFor(reg));
    const payload = this.encode(reg, format, records, Lwm2mPath.ROOT);
    const ex = await this.perform(endpoint, 'write-composite', { method: Method.iPATCH, path: Lwm2mPath.ROOT, contentFormat: format, payload }, options);
    return this.decoded(ex, reg, endpoint, 'write-composite', Lwm2mPath.ROOT, undefined, false);
  }

  // ----- Information reporting ----------------------------------------------------------------

  /**
   * Observe (GET Observe=0). Notifications arrive as `notification` events. An earlier
   * observation of the same path and format on this client is replaced (passively cancelled).
   */
  async observe(endpoint: string, path: string | Lwm2mPath, options: ObserveOptions = {}): Promise<ObserveResponse> {
    const p = toPath(path);
    const reg = this.requireClient(endpoint);
    const accept = options.format ?? this.formatFor(reg);
    const query = options.attributes === undefined ? undefined : attributeQuery(parseAttributes(options.attributes));
    const ex = await this.perform(endpoint, 'observe', { method: Method.GET, path: p, accept, query, observe: { paths: [p], composite: false } }, options);
    return { ...this.decoded(ex, reg, endpoint, 'observe', p, accept), observation: ex.observation };
  }

  /** Observe-Composite (FETCH `/` Observe=0 with a SenML path list). */
  async observeComposite(endpoint: string, paths: readonly (string | Lwm2mPath)[], options: CompositeReadOptions = {}): Promise<ObserveResponse> {
    const ps = paths.map(toPath);
    const reg = this.requireClient(endpoint);
    const { accept, requestFormat } = this.compositeFormats(reg, options);
    const payload = this.encode(reg, requestFormat, pathList(ps), Lwm2mPath.ROOT);
    const ex = await this.perform(
      endpoint,
      'observe-composite',
      { method: Method.FETCH, path: Lwm2mPath.ROOT, accept, contentFormat: requestFormat, payload, observe: { paths: ps, composite: true } },
      options,
    );
    return { ...this.decoded(ex, reg, endpoint, 'observe-composite', Lwm2mPath.ROOT, accept), observation: ex.observation };
  }

  /**
   * Ends observations: the one with this id, else every one on this path (`/` for composite
   * ones). Passive (default): forget them; the client's next notification gets a RST. Active:
   * send GET/FETCH Observe=1 with the same token and options (queued like any request).
   * Resolves with the number of observations ended.
   */
  async cancelObservation(endpoint: string, idOrPath: string | Lwm2mPath, options: CancelOptions = {}): Promise<number> {
    const reg = this.store.byEndpoint(endpoint);
    const held = reg ? this.observationsByReg.get(reg.id) : undefined;
    if (!reg || !held) return 0;
    let chosen: HeldObservation[];
    const byId = typeof idOrPath === 'string' ? held.get(idOrPath) : undefined;
    if (byId) chosen = [byId];
    else {
      const p = toPath(idOrPath);
      chosen = [...held.values()].filter((o) => o.info.path.equals(p));
    }
    for (const o of chosen) {
      if (options.active) {
        const t = target(endpoint, 'cancel-observation', o.info.path);
        await this.queue.enqueue(endpoint, { operation: t.operation, method: o.info.composite ? 'FETCH' : 'GET', path: t.path }, this.queueTtl(reg, options), () =>
          o.handle.cancel({ active: true }),
        );
      } else await o.handle.cancel();
    }
    return chosen.length;
  }

  // ----- Low-level downlink ---------------------------------------------------------------------

  /**
   * Sends any request to a registered client, from the registration socket to the address the
   * client last talked from, below its alternate path, through its queue. Resolves with any
   * response code (the payload of a 2.xx decoded when possible); rejects with
   * ClientNotFoundError, TimeoutError, ResetError, BlockTransferError, TransportClosedError,
   * QueueTimeoutError, RequestCancelledError, or PathError for a malformed path.
   */
  async request(endpoint: string, req: DownlinkRequest): Promise<DownlinkResponse> {
    const path = toPath(req.path);
    const reg = this.requireClient(endpoint);
    const res = await this.perform(
      endpoint,
      'request',
      {
        method: Method[req.method],
        path,
        query: req.query,
        accept: req.accept,
        contentFormat: req.contentFormat,
        payload: req.payload,
        observe: req.observe ? { paths: [path], composite: req.method === 'FETCH' } : undefined,
      },
      req,
    );
    const out: DownlinkResponse = { code: codeToString(res.code), format: res.contentFormat, payload: res.payload, rtt: res.rtt };
    const location = getStringOptions(res.options, OptionNumber.LocationPath);
    if (location.length > 0) out.location = location;
    if (isSuccessCode(res.code) && res.contentFormat !== undefined && res.payload.length > 0) {
      try {
        out.decoded = this.decoder(res.contentFormat, res.payload, this.context(this.store.get(reg.id) ?? reg, path));
      } catch (err) {
        out.decodeError = err as Error;
      }
    }
    if (res.observation) out.observation = res.observation;
    return out;
  }

  // ----- Internals: sending ---------------------------------------------------------------------

  private requireClient(endpoint: string): Registration {
    if (!this.transport) throw new TransportClosedError('the LwM2M server is not running');
    const reg = this.store.byEndpoint(endpoint);
    if (!reg) throw new ClientNotFoundError(endpoint);
    return reg;
  }

  private formatFor(reg: Registration): number {
    if (this.formatOverrides.size > 0) {
      const chosen = this.formatOverrides.get(reg.endpoint);
      if (chosen !== undefined) return chosen;
    }
    let format = this.preferredCache.get(reg);
    if (format === undefined) {
      format = preferredFormat(reg);
      this.preferredCache.set(reg, format);
    }
    return format;
  }

  private compositeFormats(reg: Registration, options: CompositeReadOptions): { accept: number; requestFormat: number } {
    const accept = options.format ?? compositeFormat(this.formatFor(reg));
    const requestFormat = options.requestFormat ?? (isCompositeRequestFormat(accept) ? accept : compositeFormat(this.formatFor(reg)));
    if (!isCompositeRequestFormat(requestFormat)) throw new InvalidRequestError(`a composite path list cannot be written as ${formatName(requestFormat)} (use senml-json or senml-cbor)`);
    return { accept, requestFormat };
  }

  private context(reg: Registration, path: Lwm2mPath): CodecContext {
    let versions = this.versionsCache.get(reg);
    if (!versions) {
      versions = objectVersions(reg);
      this.versionsCache.set(reg, versions);
    }
    return { path, models: this.models, objectVersions: versions };
  }

  private encode(reg: Registration, format: number, records: readonly Lwm2mRecord[], path: Lwm2mPath): Uint8Array {
    return this.codecs.encode(format, records, this.context(reg, path));
  }

  private queueTtl(reg: Registration, options: OperationOptions): number {
    return options.queueTimeoutMs ?? this.options.queueTimeoutMs ?? reg.lifetime * 1000 + (this.options.expiryGraceMs ?? 10_000);
  }

  /** Queues the request on the client's lane and sends it when its turn comes (and the client is awake). */
  private perform(endpoint: string, operation: string, out: Outgoing, options: OperationOptions, client?: Registration): Promise<Exchanged> {
    const reg = client ?? this.requireClient(endpoint);
    const what = { operation, method: METHOD_NAMES.get(out.method) ?? String(out.method), path: out.path };
    return this.queue.enqueue(endpoint, what, this.queueTtl(reg, options), () => this.send(endpoint, out, options), options.signal);
  }

  private send(endpoint: string, out: Outgoing, options: OperationOptions): Promise<Exchanged> {
    if (!this.transport) return Promise.reject(new TransportClosedError('the LwM2M server is not running'));
    const reg = this.store.byEndpoint(endpoint);
    if (!reg) return Promise.reject(new ClientNotFoundError(endpoint, `client "${endpoint}" is no longer registered`));
    const transport = reg.security === 'PSK' ? this.secureTransport : this.transport;
    if (!transport) return Promise.reject(new TransportClosedError(`CoAPS is not running, client "${endpoint}" cannot be reached`));
    const root = this.rootSegments(reg);
    const coapReq: CoapRequest = {
      method: out.method,
      path: root.length === 0 ? pathSegments(out.path) : [...root, ...pathSegments(out.path)],
      query: out.query,
      accept: out.accept,
      contentFormat: out.contentFormat,
      payload: out.payload,
    };
    // OperationOptions carries timeoutMs as the transport's RequestOptions expects it.
    if (!out.observe) return transport.request(reg.address, coapReq, options);
    return this.sendObserve(transport, reg, out as Outgoing & { observe: NonNullable<Outgoing['observe']> }, coapReq, options.timeoutMs, options.signal);
  }

  private rootSegments(reg: Registration): readonly string[] {
    if (reg.rootPath === '/') return NO_SEGMENTS;
    let segments = this.rootCache.get(reg);
    if (!segments) {
      segments = reg.rootPath.split('/').filter((s) => s !== '');
      this.rootCache.set(reg, segments);
    }
    return segments;
  }

  private async sendObserve(transport: CoapTransport, reg: Registration, out: Outgoing & { observe: NonNullable<Outgoing['observe']> }, coapReq: CoapRequest, timeoutMs: number | undefined, signal?: AbortSignal): Promise<Exchanged> {
    const timing = { timeoutMs, signal };
    // Filled in once the client accepted the observation.
    const held: { info?: ServerObservation } = {};
    const { response, observation } = await transport.observe(
      reg.address,
      coapReq,
      {
        onNotification: (res) => {
          if (held.info) this.onNotification(reg, held.info, res);
        },
        onEnd: (reason) => {
          if (held.info) this.onObservationEnd(held.info, reason);
        },
      },
      timing,
    );
    if (!observation) return response;
    const info: ServerObservation = (held.info = {
      id: observation.token.toString('hex'),
      endpoint: reg.endpoint,
      registrationId: reg.id,
      path: out.observe.composite ? Lwm2mPath.ROOT : out.path,
      paths: out.observe.paths,
      composite: out.observe.composite,
      format: out.accept,
      createdAt: this.clock.now(),
    });
    if (!this.store.get(reg.id)) {
      // The registration ended while the Observe was on the wire.
      await observation.cancel();
      return response;
    }
    const mine = this.observationsByReg.get(reg.id) ?? new Map<string, HeldObservation>();
    for (const old of [...mine.values()]) {
      if (old.info.composite === info.composite && old.info.format === info.format && samePaths(old.info.paths, info.paths)) void old.handle.cancel();
    }
    mine.set(info.id, { info, handle: observation });
    this.observationsByReg.set(reg.id, mine);
    return Object.assign(response, { observation: info });
  }

  /** A 2.xx answer decoded, or the typed error for anything else. `reg` is the client when the operation started. */
  private decoded(
    res: RequestResult,
    reg: Registration,
    endpoint: string,
    operation: string,
    path: Lwm2mPath,
    assumedFormat: number | undefined,
    expectContent = true,
  ): Lwm2mResponse {
    if (!isSuccessCode(res.code)) throw new ResponseCodeError(res.code, res.payload, target(endpoint, operation, path), res.rtt);
    const out: Lwm2mResponse = { code: codeToString(res.code), coapCode: res.code, format: res.contentFormat, records: [], notes: [], payload: res.payload, rtt: res.rtt };
    // Operations that answer without content keep any payload raw.
    if (res.payload.length === 0 || !expectContent) return out;
    const current = this.store.get(reg.id) ?? reg;
    const decoded = this.decodePayload(current, path, res.contentFormat ?? assumedFormat, res.payload);
    out.format = decoded.format;
    if (decoded.error) throw new ResponseDecodeError(decoded.error, decoded.format, res.payload, out.code, target(endpoint, operation, path), res.rtt);
    out.records = decoded.records;
    out.notes = decoded.notes;
    return out;
  }

  /** Decodes a payload of a client; a missing format is detected from the bytes (with a note). */
  private decodePayload(reg: Registration, path: Lwm2mPath, format: number | undefined, payload: Uint8Array): { format: number | undefined; records: Lwm2mRecord[]; notes: string[]; error?: Error } {
    let notes: string[] = NO_NOTES;
    if (format === undefined) {
      notes = [];
      const guess = detectFormat(payload);
      format = guess.format;
      notes.push(`no Content-Format: decoded as ${formatName(format)} (${guess.reason})`);
    }
    try {
      const result = this.decoder(format, payload, this.context(reg, path));
      return { format, records: result.records, notes: notes.length === 0 ? result.notes : [...notes, ...result.notes] };
    } catch (err) {
      return { format, records: [], notes, error: err as Error };
    }
  }

  // ----- Internals: observations ----------------------------------------------------------------

  private onNotification(reg: Registration, observation: ServerObservation, res: CoapResponse): void {
    const current = this.store.get(reg.id) ?? reg;
    const code = codeToString(res.code);
    const event: NotificationEvent = {
      observation,
      endpoint: observation.endpoint,
      code,
      format: res.contentFormat,
      payload: res.payload,
      sequence: res.observe,
      records: [],
      notes: [],
      time: this.clock.now(),
    };
    if (isSuccessCode(res.code) && res.payload.length > 0) {
      const decoded = this.decodePayload(current, observation.path, res.contentFormat ?? observation.format, res.payload);
      event.format = decoded.format;
      event.records = decoded.records;
      event.notes = decoded.notes;
      if (decoded.error) {
        event.decodeError = new ResponseDecodeError(decoded.error, decoded.format, res.payload, code, target(observation.endpoint, 'notification', observation.path), 0);
      }
    }
    this.emit('notification', event);
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
    const presence = this.presence.get(reg.endpoint);
    if (presence) {
      this.clock.clearTimeout(presence.timer);
      this.presence.delete(reg.endpoint);
    }
    const why = event === 'expired' ? 'its registration expired' : 'it de-registered';
    this.queue.rejectAll(reg.endpoint, () => new ClientNotFoundError(reg.endpoint, `client "${reg.endpoint}" is gone (${why}) before the request was sent`));
    this.queue.forget(reg.endpoint);
    this.emit(event, reg);
  }

  private scheduleExpiryCheck(): void {
    this.expiryTimer = this.clock.setTimeout(() => {
      this.store.expire();
      this.scheduleExpiryCheck();
    }, this.options.expiryCheckMs ?? 1000);
  }

  // ----- Internals: queue mode ------------------------------------------------------------------

  private canSend(endpoint: string): boolean {
    const p = this.presence.get(endpoint);
    return !p || this.clock.now() - p.lastUplink < this.awakeWindowMs;
  }

  /** Any message from a peer: a queue-mode client at that address is awake. */
  private onUplinkMessage(peer: Peer): void {
    const reg = this.store.byAddress(peer);
    if (reg?.queueMode) this.touch(reg);
  }

  /** The client just sent something. */
  private touch(reg: Registration): void {
    const endpoint = reg.endpoint;
    let p = this.presence.get(endpoint);
    if (!reg.queueMode) {
      if (p) {
        this.clock.clearTimeout(p.timer);
        this.presence.delete(endpoint);
        this.kickLater(endpoint);
      }
      return;
    }
    const now = this.clock.now();
    if (!p) {
      p = { lastUplink: now, sleeping: false, timer: undefined };
      this.presence.set(endpoint, p);
      this.armSleepTimer(endpoint, p, this.awakeWindowMs);
    } else {
      p.lastUplink = now;
      if (p.sleeping) {
        p.sleeping = false;
        this.armSleepTimer(endpoint, p, this.awakeWindowMs);
        this.emit('awake', reg);
      }
    }
    this.kickLater(endpoint);
  }

  /** Queued requests go out after the answer to the uplink that woke the client. */
  private kickLater(endpoint: string): void {
    if (this.queue.waitingCount(endpoint) > 0) queueMicrotask(() => this.queue.kick(endpoint));
  }

  private armSleepTimer(endpoint: string, p: Presence, ms: number): void {
    this.clock.clearTimeout(p.timer);
    p.timer = this.clock.setTimeout(() => {
      p.timer = undefined;
      if (this.presence.get(endpoint) !== p) return;
      const left = p.lastUplink + this.awakeWindowMs - this.clock.now();
      if (left > 0) {
        this.armSleepTimer(endpoint, p, left);
        return;
      }
      p.sleeping = true;
      const reg = this.store.byEndpoint(endpoint);
      if (reg) this.emit('sleeping', reg);
    }, ms);
  }

  // ----- Uplink (Client Registration interface, Send) -------------------------------------------

  private onUplink(req: IncomingRequest, channel: Channel): OutgoingResponse {
    const [root, id, ...rest] = req.path;
    if (root === 'dp' && id === undefined) return req.method === Method.POST ? this.onSend(req, channel) : { code: Code.MethodNotAllowed };
    if (root !== 'rd' || rest.length > 0) return { code: Code.NotFound };
    try {
      if (id === undefined) return req.method === Method.POST ? this.onRegister(req, channel) : { code: Code.MethodNotAllowed };
      if (req.method === Method.POST) return this.onUpdate(id, req, channel);
      if (req.method === Method.DELETE) {
        const reg = this.store.get(id);
        if (!reg) return { code: Code.NotFound };
        if (!sameChannel(reg, channel)) return forbiddenChannel(reg, channel);
        return this.store.deregister(id) ? { code: Code.Deleted } : { code: Code.NotFound };
      }
      return { code: Code.MethodNotAllowed };
    } catch (err) {
      if (err instanceof RegistrationError) return { code: err.code, payload: Buffer.from(err.message) };
      throw err;
    }
  }

  private onRegister(req: IncomingRequest, channel: Channel): OutgoingResponse {
    const params = parseRegister(req.query, req.payload, req.contentFormat, this.options.supportedVersions ?? SUPPORTED_LWM2M_VERSIONS);
    if (channel.security === 'PSK') {
      const bound = this.psk.endpointOf(channel.identity);
      if (bound !== params.endpoint) {
        return { code: Code.Forbidden, payload: Buffer.from(`PSK identity "${channel.identity}" may not register as "${params.endpoint}"`) };
      }
    }
    if (this.options.authorize && !this.options.authorize(params, req.peer, channel)) {
      return { code: Code.Forbidden, payload: Buffer.from(`endpoint "${params.endpoint}" may not register`) };
    }
    const existing = this.store.byEndpoint(params.endpoint);
    // A client registered over DTLS cannot be taken over by a plain-CoAP Register of its name.
    if (existing?.security === 'PSK' && channel.security === 'NoSec') {
      return { code: Code.Forbidden, payload: Buffer.from(`endpoint "${params.endpoint}" is registered over DTLS`) };
    }
    const reg = this.store.register(params, req.peer, channel);
    return { code: Code.Created, options: stringOptions(OptionNumber.LocationPath, ['rd', reg.id]) };
  }

  private onUpdate(id: string, req: IncomingRequest, channel: Channel): OutgoingResponse {
    const reg = this.store.get(id);
    if (!reg) return { code: Code.NotFound };
    if (!sameChannel(reg, channel)) return forbiddenChannel(reg, channel);
    this.store.update(id, parseUpdate(req.query, req.payload, req.contentFormat), req.peer);
    return { code: Code.Changed };
  }

  /** Send (POST /dp, lwm2m-protocol.md §6.4, §11.6): decode, emit `send`, answer 2.04. */
  private onSend(req: IncomingRequest, channel: Channel): OutgoingResponse {
    const reg = this.store.byAddress(req.peer);
    if (!reg) return { code: Code.NotFound, payload: Buffer.from(`${formatPeer(req.peer)} is not registered`) };
    if (!sameChannel(reg, channel)) return forbiddenChannel(reg, channel);
    const time = this.clock.now();
    const base = { endpoint: reg.endpoint, registrationId: reg.id, payload: req.payload as Uint8Array, time };
    if (req.payload.length === 0) {
      this.emit('send', { ...base, format: req.contentFormat, records: [], notes: [] });
      return { code: Code.Changed };
    }
    if (req.contentFormat !== undefined && !this.codecs.get(req.contentFormat) && !this.options.decode) {
      const err = new ResponseDecodeError(new Error(`content format ${req.contentFormat} is not supported`), req.contentFormat, req.payload, '4.15', target(reg.endpoint, 'send', Lwm2mPath.ROOT), 0);
      this.emit('send', { ...base, format: req.contentFormat, records: [], notes: [], decodeError: err });
      return { code: Code.UnsupportedContentFormat };
    }
    const decoded = this.decodePayload(reg, Lwm2mPath.ROOT, req.contentFormat, req.payload);
    if (decoded.error) {
      const err = new ResponseDecodeError(decoded.error, decoded.format, req.payload, '4.00', target(reg.endpoint, 'send', Lwm2mPath.ROOT), 0);
      this.emit('send', { ...base, format: decoded.format, records: [], notes: decoded.notes, decodeError: err });
      return { code: Code.BadRequest, payload: Buffer.from(decoded.error.message.slice(0, 200)) };
    }
    this.emit('send', { ...base, format: decoded.format, records: decoded.records, notes: decoded.notes });
    return { code: Code.Changed };
  }
}

const NOSEC: Channel = { security: 'NoSec' };

/** Whether a request over `channel` may act for `reg`: same security mode, same PSK identity. */
function sameChannel(reg: Registration, channel: Channel): boolean {
  if (channel.security === 'NoSec') return reg.security === 'NoSec';
  return reg.security === 'PSK' && reg.pskIdentity === channel.identity;
}

function forbiddenChannel(reg: Registration, channel: Channel): OutgoingResponse {
  const over = channel.security === 'NoSec' ? 'plain CoAP' : `PSK identity "${channel.identity}"`;
  return { code: Code.Forbidden, payload: Buffer.from(`client "${reg.endpoint}" may not be acted for over ${over}`) };
}

/** Parsed paths of recent requests (paths are immutable, so they are shared). */
const pathCache = new Map<string, Lwm2mPath>();
/** Uri-Path segments of a path, shared per path object. */
const segmentCache = new WeakMap<Lwm2mPath, string[]>();
const NO_SEGMENTS: readonly string[] = [];

function toPath(path: string | Lwm2mPath): Lwm2mPath {
  if (typeof path !== 'string') return path;
  let p = pathCache.get(path);
  if (!p) {
    p = Lwm2mPath.parse(path);
    if (pathCache.size >= 1024) pathCache.clear();
    pathCache.set(path, p);
  }
  return p;
}

function pathSegments(path: Lwm2mPath): readonly string[] {
  let segments = segmentCache.get(path);
  if (!segments) {
    segments = path.ids.map(String);
    segmentCache.set(path, segments);
  }
  return segments;
}

function target(endpoint: string, operation: string, path: Lwm2mPath): OperationTarget {
  return { endpoint, operation, path: path.toString() };
}

/** Records naming paths only (a Read-/Observe-Composite request body). */
function pathList(paths: readonly Lwm2mPath[]): Lwm2mRecord[] {
  if (paths.length === 0) throw new InvalidRequestError('a composite operation needs at least one path');
  return paths.map((path) => ({ path, type: 'none', value: null }));
}

function samePaths(a: readonly Lwm2mPath[], b: readonly Lwm2mPath[]): boolean {
  return a.length === b.length && a.every((p, i) => p.equals(b[i]!));
}
