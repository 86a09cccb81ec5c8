/**
 * A simulated LwM2M 1.1 client over our CoAP transport (lwm2m-protocol.md §2, §6, §7, §11,
 * §14): objects 0, 1, 3, 3303 and 3311 with moving values, Register / Update / De-register,
 * every Device Management operation, Observe with the notification attributes, Send, queue
 * mode and Client Initiated Bootstrap. Pure TypeScript: no `vscode` import.
 *
 *   const client = new SimulatedClient({ server: 'coap://127.0.0.1:5683', endpoint: 'dev1' });
 *   client.on('event', (e) => console.log(e));
 *   await client.start();        // resolves once registered (after bootstrap, with `bootstrap`)
 *   client.setValue('/3303/0/5700', 30.5);
 *   await client.send(['/3303/0/5700']);
 *   await client.stop();         // de-registers, clears every timer, closes the socket
 *
 * One client owns one UDP socket (its own source port), bound to an ephemeral port by default.
 *
 * CoAPS (issue 7): a `coaps://` server URI (default port 5684) with `psk: {identity, key}` runs
 * CoAP over DTLS 1.2 (src/core/dtls: a DtlsClientSocket under the CoAP transport). start()
 * handshakes before the Register; when the session is lost (close_notify or alert from the
 * server, or a Register/Update that timed out) the next Register/Update handshakes again first.
 * With `bootstrap`, `server` and `psk` are the bootstrap server's; the LwM2M server's URI and
 * credentials then come from the provisioned Security instance: PSK (mode 0, identity /0/x/3,
 * key /0/x/5) over coaps://, NoSec (mode 3) over coap://; anything else is refused at
 * Bootstrap-Finish with 4.06. A change of server or of security opens a new socket.
 *
 * Queue mode: after `awakeMs` without traffic the client "sleeps": datagrams that reach its
 * socket are dropped (its radio is off) and due notifications are held. It wakes for its next
 * lifetime Update (or after `sleepMs`), sends the Update — which lets the server's queued
 * requests through — and stays awake for another `awakeMs` after the last exchange.
 */

import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../coap/clock';
import { TimeoutError } from '../coap/errors';
import { Code, Method, codeToString } from '../coap/message';
import { OptionNumber, getUintOption, uintOption } from '../coap/options';
import type { Peer } from '../coap/peer';
import { CoapTransport, type IncomingRequest, type OutgoingResponse, type TransportOptions } from '../coap/transport';
import type { SocketFactory } from '../coap/udp';
import { codecRegistry } from '../codec/registry';
import type { CodecContext } from '../codec/types';
import { ContentFormat } from '../contentFormat';
import { DtlsClientSocket, clientDatagramSocket, type CipherSuiteName, type DtlsClientOptions } from '../dtls';
import { DecodeError, EncodeError } from '../errors';
import { createModelRegistry } from '../model/bundled';
import type { ModelLookup } from '../model/types';
import type { Lwm2mRecord, Value } from '../node';
import { Lwm2mPath, PathError } from '../path';
import { TypedEmitter } from '../server/events';
import { parseExecuteArguments } from '../server/execute';
import { AttributeStore, formatAttributes, parseAttributeQuery, type Attributes } from './attributes';
import type { ObservationEndReason, SimEvent, SimEventBody, SimulatedClientEvents, UpdateReason } from './events';
import { DEFAULT_SSID, SecurityMode, initialObjects, instanceDefaults, simulateStep, type DeviceInfo } from './objects';
import { ObservationManager, type SimObservation } from './observe';
import { ObjectTree, SimError, isNumericType, type StoredValue } from './tree';

/** Formats the simulator answers Read/Observe with. LwM2M JSON (11543, deprecated in 1.1) is not among them. */
export const SIM_READ_FORMATS: readonly number[] = [
  ContentFormat.Text,
  ContentFormat.Opaque,
  ContentFormat.Cbor,
  ContentFormat.SenmlJson,
  ContentFormat.SenmlCbor,
  ContentFormat.Tlv,
  ContentFormat.Lwm2mCbor,
];

/** Formats accepted in Write/Create/Bootstrap-Write payloads. */
const WRITE_FORMATS: ReadonlySet<number> = new Set([...SIM_READ_FORMATS, ContentFormat.Lwm2mJson, 1541, 1542, 1543, 1544]);
const SINGLE_VALUE_FORMATS: ReadonlySet<number> = new Set([ContentFormat.Text, ContentFormat.Opaque, ContentFormat.Cbor]);
const COMPOSITE_FORMATS: ReadonlySet<number> = new Set([ContentFormat.SenmlJson, ContentFormat.SenmlCbor, ContentFormat.Lwm2mCbor]);
/** `ct` announced at Register: formats beyond the mandatory text, opaque and link format. */
const ANNOUNCED_FORMATS = [ContentFormat.Cbor, ContentFormat.SenmlJson, ContentFormat.SenmlCbor, ContentFormat.Tlv, ContentFormat.Lwm2mCbor];

/** A DTLS pre-shared key: the identity (UTF-8) and the key bytes. */
export interface SimPsk {
  identity: string;
  key: Uint8Array;
}

export interface SimulatedClientOptions {
  /** LwM2M server URI `coap://HOST[:PORT]` or `coaps://HOST[:PORT]` (with `psk`); with `bootstrap`, the bootstrap server's. */
  server: string;
  /** PSK of a `coaps://` server (with `bootstrap`: of the bootstrap server). Required for coaps://, refused with coap://. */
  psk?: SimPsk;
  /** CoAPS: cipher suites offered, by name or IANA number, default all (CCM_8 first). */
  cipherSuites?: readonly (CipherSuiteName | number)[];
  /** CoAPS: further DTLS tunables; the handshake timeout defaults to `requestTimeoutMs`. */
  dtls?: Pick<DtlsClientOptions, 'handshakeTimeoutMs' | 'retransmitInitialMs' | 'retransmitMaxMs' | 'mtu'>;
  /** Endpoint Client Name, default `sim-` and 8 random hex digits. */
  endpoint?: string;
  /** Registration lifetime in seconds, default 300 (the bootstrap server's value wins after bootstrap). */
  lifetime?: number;
  /** Register in queue mode (`Q`), default false. */
  queueMode?: boolean;
  /** Queue mode: how long the client stays awake after its last exchange, default 93 000 ms (MAX_TRANSMIT_WAIT). */
  awakeMs?: number;
  /** Queue mode: wake (with an Update) after sleeping this long; default only for the lifetime Update. */
  sleepMs?: number;
  /** Client Initiated Bootstrap first (POST /bs), then register with the provisioned server. */
  bootstrap?: boolean;
  /** How long to wait for Bootstrap-Finish, default 60 000 ms. */
  bootstrapTimeoutMs?: number;
  /** `lwm2m=` at Register, default `1.1`. With 1.0, queue mode is the `UQ` binding instead of `Q`. */
  lwm2mVersion?: '1.0' | '1.1' | '1.2';
  /** Local address to bind, default the loopback / any address of the server's family. */
  bindAddress?: string;
  /** Local port, default 0 (ephemeral). */
  port?: number;
  /** Period of the value simulation (time, battery, temperature, on time), default 1000 ms; 0 disables it. */
  tickMs?: number;
  /** Milliseconds between lifetime Updates, default 75 % of short lifetimes, else lifetime − max(10 s, 10 %). */
  updateIntervalMs?: number;
  /** Send notifications as CON (true) or NON (false, default; still CON at least once a day and with `con=1`). */
  confirmableNotifications?: boolean;
  /** Format of Read/Observe answers without Accept for several values, default SenML CBOR. */
  defaultFormat?: number;
  /** Identity of the Device object. */
  device?: Partial<DeviceInfo>;
  /** Object models, default the bundled ones. */
  models?: ModelLookup;
  /** Deadline of Register/Update/De-register/Send/Bootstrap-Request exchanges, default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Wait before registering again after a failure, default 5000 ms. */
  retryMs?: number;
  /** CoAP tunables (retransmission timing, …). */
  transport?: Pick<TransportOptions, 'ackTimeoutMs' | 'ackRandomFactor' | 'maxRetransmit' | 'exchangeLifetimeMs' | 'nonLifetimeMs' | 'separateResponseAfterMs'>;
  clock?: Clock;
  /** Random source of the value simulation. */
  random?: () => number;
}

/** Life cycle of a client. */
export type SimulatedClientState = 'stopped' | 'starting' | 'bootstrapping' | 'registering' | 'registered' | 'stopping';

/** An observation as the client sees it. */
export interface SimObservationInfo {
  token: string;
  paths: string[];
  composite: boolean;
  format: number;
  sequence: number;
  peer: Peer;
}

let sharedModels: ModelLookup | undefined;

function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
}

/** A parsed `coap://` or `coaps://` URI. */
export interface ServerAddress {
  uri: string;
  host: string;
  port: number;
  /** coaps:// (CoAP over DTLS). */
  secure: boolean;
}

/** Parses `coap://HOST[:PORT]` (default port 5683) or `coaps://HOST[:PORT]` (5684); IPv6 in brackets. Throws for other schemes. */
export function parseServerUri(uri: string): ServerAddress {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`"${uri}" is not a URI (expected coap://HOST:PORT or coaps://HOST:PORT)`);
  }
  if (url.protocol !== 'coap:' && url.protocol !== 'coaps:') {
    throw new Error(`"${uri}": only coap:// (NoSec) and coaps:// (DTLS with PSK) over UDP are supported by the simulator, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new Error(`"${uri}" has no host`);
  const secure = url.protocol === 'coaps:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : secure ? 5684 : 5683;
  return { uri, host, port, secure };
}

/** coaps:// needs a PSK and a PSK needs coaps://; throws otherwise. */
function checkSecurity(addr: ServerAddress, psk: SimPsk | undefined): void {
  if (addr.secure && !psk) throw new Error(`"${addr.uri}": coaps:// needs a pre-shared key (psk: identity and key)`);
  if (!addr.secure && psk) throw new Error(`"${addr.uri}": a pre-shared key is used over coaps:// only, not coap://`);
  if (psk && (psk.identity === '' || psk.key.length === 0)) throw new Error(`"${addr.uri}": the PSK identity and key must not be empty`);
}

async function resolvePeer(addr: ServerAddress): Promise<Peer> {
  if (isIP(addr.host)) return { address: addr.host, port: addr.port };
  const found = await lookup(addr.host);
  return { address: found.address, port: addr.port };
}

function simError(err: unknown): SimError {
  if (err instanceof SimError) return err;
  if (err instanceof DecodeError || err instanceof PathError) return new SimError(Code.BadRequest, err.message);
  if (err instanceof EncodeError) return new SimError(Code.NotAcceptable, err.message);
  return new SimError(Code.InternalServerError, err instanceof Error ? err.message : String(err));
}

function errorResponse(err: SimError): OutgoingResponse {
  return { code: err.code, payload: Buffer.from(err.message, 'utf8') };
}

/** The path of a request's Uri-Path segments; throws 4.04 for non-numeric segments. */
function requestPath(segments: readonly string[]): Lwm2mPath {
  if (segments.length > 4 || segments.some((s) => !/^\d{1,5}$/.test(s))) throw new SimError(Code.NotFound, `/${segments.join('/')} is not an LwM2M path`);
  try {
    return new Lwm2mPath(segments.map(Number));
  } catch (err) {
    throw new SimError(Code.NotFound, (err as Error).message);
  }
}

/** Execute arguments (lwm2m-protocol.md §6.7), with the server's parser; throws 4.00 when malformed. */
export function checkExecuteArguments(text: string): void {
  try {
    parseExecuteArguments(text);
  } catch (err) {
    throw new SimError(Code.BadRequest, err instanceof Error ? err.message : String(err));
  }
}

/** A simulated LwM2M client. */
export class SimulatedClient extends TypedEmitter<SimulatedClientEvents> {
  readonly endpoint: string;
  /** The objects and their values. */
  readonly tree: ObjectTree;
  /** Notification attributes written by the server. */
  readonly attributes = new AttributeStore();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly observationsMgr: ObservationManager;
  private readonly queueMode: boolean;
  private readonly awakeMs: number;
  private readonly requestTimeoutMs: number;
  private readonly defaultFormat: number;
  private readonly lwm2mVersion: string;
  private transport: CoapTransport | undefined;
  /** CoAPS: the DTLS client under the transport, and what it is connected to (URI and identity). */
  private secure: DtlsClientSocket | undefined;
  private link = '';
  /** CoAPS: a Register/Update timed out; the session may be gone without an alert. */
  private sessionSuspect = false;
  private stateValue: SimulatedClientState = 'stopped';
  private awakeValue = true;
  private droppedValue = 0;
  /** DM server: URI, address, SSID, lifetime. */
  private server: { uri: string; peer: Peer | undefined; ssid: number; lifetime: number; binding: string; psk?: SimPsk };
  private bootstrapServer: { uri: string; peer: Peer | undefined; psk?: SimPsk } | undefined;
  private location: string[] | undefined;
  private registeredObjects = '';
  private timers = new Set<unknown>();
  private lastTick = 0;
  private updateTimer: unknown;
  private sleepTimer: unknown;
  private wakeTimer: unknown;
  private retryTimer: unknown;
  private bootstrapWaiter: { resolve: () => void; reject: (err: Error) => void; timer: unknown } | undefined;
  private registrationChain: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: SimulatedClientOptions) {
    super();
    this.endpoint = options.endpoint ?? `sim-${randomHex(8)}`;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.queueMode = options.queueMode ?? false;
    this.awakeMs = options.awakeMs ?? 93_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.defaultFormat = options.defaultFormat ?? ContentFormat.SenmlCbor;
    this.lwm2mVersion = options.lwm2mVersion ?? '1.1';
    const lifetime = options.lifetime ?? 300;
    const binding = this.lwm2mVersion === '1.0' && this.queueMode ? 'UQ' : 'U';
    const addr = parseServerUri(options.server);
    checkSecurity(addr, options.psk);
    const psk = options.psk ? { identity: options.psk.identity, key: new Uint8Array(options.psk.key) } : undefined;
    if (options.bootstrap) this.bootstrapServer = { uri: addr.uri, peer: undefined, psk };
    this.server = { uri: options.bootstrap ? '' : addr.uri, peer: undefined, ssid: DEFAULT_SSID, lifetime, binding, psk: options.bootstrap ? undefined : psk };
    const models = options.models ?? (sharedModels ??= createModelRegistry());
    this.tree = new ObjectTree(
      models,
      initialObjects({
        endpoint: this.endpoint,
        serverUri: addr.uri,
        bootstrap: !!options.bootstrap,
        lifetime,
        binding,
        psk,
        device: options.device,
        now: Math.floor(this.clock.now() / 1000),
      }),
    );
    this.observationsMgr = new ObservationManager({
      clock: this.clock,
      read: (paths, composite) => this.readPaths(paths, composite),
      encode: (format, records, paths, composite) => this.encode(format, records, composite ? Lwm2mPath.ROOT : paths[0]!),
      attributes: (path) => this.attributes.effective(path ?? Lwm2mPath.ROOT, this.serverDefaults()),
      canSend: () => this.awakeValue && !!this.transport,
      confirmable: options.confirmableNotifications ?? false,
      notify: (peer, token, response, confirmable, onReset) => {
        if (!this.transport) return Promise.resolve();
        this.touch();
        return this.transport.notify(peer, token, response, { confirmable, onReset });
      },
      onNotified: (o, sequence, confirmable, code) =>
        this.emitEvent({ type: 'notification', path: o.label, token: o.tokenHex, sequence, confirmable, format: sequence === undefined ? undefined : o.format, code: codeToString(code) }),
      onEnded: (o, reason) => this.emitEvent({ type: 'observeCancelled', path: o.label, token: o.tokenHex, reason }),
      onError: (operation, err) => this.reportError(operation, err),
    });
    this.tree.onChange((path) => this.observationsMgr.changed(path));
  }

  // ----- public API --------------------------------------------------------------------------

  get state(): SimulatedClientState {
    return this.stateValue;
  }

  /** False while a queue-mode client sleeps. */
  get awake(): boolean {
    return this.awakeValue;
  }

  /** Datagrams dropped while asleep. */
  get droppedWhileAsleep(): number {
    return this.droppedValue;
  }

  /** The local UDP port, once started. */
  get port(): number | undefined {
    return this.transport?.address()?.port;
  }

  /** `/rd/<id>` once registered. */
  get registrationLocation(): string | undefined {
    return this.location ? '/' + this.location.join('/') : undefined;
  }

  /** The URI of the LwM2M server (after bootstrap: the provisioned one). */
  get serverUri(): string {
    return this.server.uri;
  }

  /** Current observations. */
  observations(): SimObservationInfo[] {
    return this.observationsMgr.list().map((o) => ({ token: o.tokenHex, paths: o.paths.map(String), composite: o.composite, format: o.format, sequence: o.sequence, peer: o.peer }));
  }

  /** Effective notification attributes of a path (Server defaults included). */
  effectiveAttributes(path: string | Lwm2mPath): Attributes {
    return this.attributes.effective(typeof path === 'string' ? Lwm2mPath.parse(path) : path, this.serverDefaults());
  }

  /** The stored value at a resource or resource-instance path. */
  getValue(path: string | Lwm2mPath): StoredValue | undefined {
    return this.tree.get(typeof path === 'string' ? Lwm2mPath.parse(path) : path);
  }

  /**
   * Changes a value as the device would (no access rights), checked against the model; a
   * multiple resource takes `{riid: value}`. Observations of the path are evaluated.
   */
  setValue(path: string | Lwm2mPath, value: Value | Record<number, Value>): void {
    this.tree.set(typeof path === 'string' ? Lwm2mPath.parse(path) : path, value);
  }

  /**
   * Binds the socket, bootstraps when configured, registers, and starts the value simulation.
   * Resolves once registered; on failure the client is stopped again and the promise rejects.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'stopped') throw new Error(`the simulated client ${this.endpoint} is already ${this.stateValue}`);
    this.stateValue = 'starting';
    try {
      const target = this.bootstrapServer ?? this.server;
      target.peer = await this.openTransport(target);
      this.emitEvent({ type: 'started', port: this.port ?? 0 });
      this.startTicking();
      if (this.bootstrapServer) await this.runBootstrap();
      await this.register();
    } catch (err) {
      if (this.stopping) throw err;
      this.reportError('start', err as Error);
      await this.shutdown(false);
      throw err;
    }
  }

  /**
   * Stops: ends observations, de-registers (unless `deregister: false`), clears every timer and
   * closes the socket. Safe to call more than once.
   */
  async stop(options: { deregister?: boolean } = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.stateValue === 'stopped') return;
    await this.shutdown(options.deregister ?? true);
  }

  /** Sends a registration Update now. */
  async update(): Promise<void> {
    await this.sendUpdate('manual');
  }

  /**
   * Send (POST /dp, lwm2m-protocol.md §6.4): the current values below `paths`, timestamped now,
   * as SenML CBOR (or SenML JSON). Resolves with the response code (`2.04`). Rejects when not
   * registered or when Mute Send (`/1/x/23`) is true or absent.
   */
  async send(paths: readonly (string | Lwm2mPath)[], options: { format?: number; timeoutMs?: number } = {}): Promise<string> {
    const transport = this.transport;
    if (!transport || this.stateValue !== 'registered' || !this.server.peer) throw new Error(`${this.endpoint} is not registered`);
    const serverInstance = this.serverInstanceId();
    // Mute Send true or absent: Send is disabled (lwm2m-protocol.md §17.3).
    if (serverInstance === undefined || this.tree.get(new Lwm2mPath([1, serverInstance, 23])) !== false) throw new Error(`Send is muted (/1/${serverInstance ?? 'x'}/23 Mute Send is true or absent)`);
    const format = options.format ?? ContentFormat.SenmlCbor;
    if (format !== ContentFormat.SenmlCbor && format !== ContentFormat.SenmlJson) throw new Error(`Send is SenML CBOR or SenML JSON, not ${format}`);
    const parsed = paths.map((p) => (typeof p === 'string' ? Lwm2mPath.parse(p) : p));
    const time = this.clock.now() / 1000;
    const records = parsed.flatMap((p) => this.tree.read(p, 'local')).map((r) => ({ ...r, time }));
    const payload = this.encode(format, records, Lwm2mPath.ROOT);
    this.ensureAwake();
    const res = await transport.request(this.server.peer, { method: Method.POST, path: ['dp'], contentFormat: format, payload }, { timeoutMs: options.timeoutMs ?? this.requestTimeoutMs });
    this.touch();
    const code = codeToString(res.code);
    this.emitEvent({ type: 'send', paths: parsed.map(String), code });
    return code;
  }

  /** Queue mode: go to sleep now (instead of waiting for the awake window to pass). */
  sleep(): void {
    if (!this.queueMode || !this.awakeValue || this.stateValue !== 'registered') return;
    this.clearTimer(this.sleepTimer);
    this.sleepTimer = undefined;
    this.awakeValue = false;
    this.emitEvent({ type: 'sleeping' });
    if (this.options.sleepMs !== undefined) this.wakeTimer = this.setTimer(() => void this.wake('wake'), this.options.sleepMs);
  }

  /** Queue mode: wake up now and send an Update. */
  async wake(reason: UpdateReason = 'wake'): Promise<void> {
    this.clearTimer(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.stateValue !== 'registered') return;
    if (!this.awakeValue) {
      this.awakeValue = true;
      this.emitEvent({ type: 'awake' });
    }
    this.touch();
    await this.sendUpdate(reason);
    this.observationsMgr.flush();
  }

  // ----- transport ---------------------------------------------------------------------------

  /**
   * Binds a new socket for `target` (a coaps:// one handshakes in the bind) and resolves with
   * the server's address. The caller has closed the previous transport.
   */
  private async openTransport(target: { uri: string; psk?: SimPsk }): Promise<Peer> {
    const addr = parseServerUri(target.uri);
    checkSecurity(addr, target.psk);
    const peer = await resolvePeer(addr);
    const bindAddress = this.options.bindAddress ?? defaultBindAddress(peer.address);
    let secure: DtlsClientSocket | undefined;
    let socketFactory: SocketFactory = (opts) => this.gate(dgram.createSocket(opts));
    if (addr.secure) {
      const dtls = new DtlsClientSocket({
        host: peer.address,
        port: peer.port,
        identity: target.psk!.identity,
        key: target.psk!.key,
        client: {
          handshakeTimeoutMs: this.requestTimeoutMs,
          ...this.options.dtls,
          cipherSuites: this.options.cipherSuites,
          clock: this.clock,
          // The gate sits under DTLS: a sleeping device hears no record at all.
          socketFactory: (type) => this.gate(dgram.createSocket(type)),
        },
      });
      dtls.on('session', (session) => this.emitEvent({ type: 'dtlsSession', server: target.uri, identity: session.identity, cipherSuite: session.cipherSuite }));
      dtls.on('sessionClosed', (reason) => this.emitEvent({ type: 'dtlsClosed', server: target.uri, reason: reason.message }));
      secure = dtls;
      socketFactory = () => clientDatagramSocket(dtls);
    }
    const transport = new CoapTransport({
      ...this.options.transport,
      clock: this.clock,
      requestTimeoutMs: this.requestTimeoutMs,
      socketFactory,
      onRequest: (req) => this.onRequest(req),
      onError: (err) => this.reportError('transport', err),
    });
    await transport.bind({ port: this.options.port ?? 0, address: bindAddress });
    if (this.stopping) {
      await transport.close();
      throw new Error('stopped');
    }
    this.transport = transport;
    this.secure = secure;
    this.link = linkOf(target);
    this.sessionSuspect = false;
    return peer;
  }

  /**
   * Points the transport at a server: NoSec to NoSec keeps the socket (one source port for the
   * bootstrap and the LwM2M server); a secure target keeps a live session with the same URI
   * and identity; anything else closes the socket and opens a new one (with a new handshake).
   */
  private async connectTo(target: { uri: string; psk?: SimPsk }): Promise<Peer> {
    const addr = parseServerUri(target.uri);
    checkSecurity(addr, target.psk);
    const transport = this.transport;
    if (transport && !this.secure && !addr.secure) {
      const peer = await resolvePeer(addr);
      if (peer.address.includes(':') && transport.address()?.family !== 'IPv6') throw new Error(`the server ${target.uri} is not reachable from this socket's address family`);
      return peer;
    }
    if (transport && this.secure?.connected && this.link === linkOf(target)) return resolvePeer(addr);
    this.transport = undefined;
    this.secure = undefined;
    if (transport) await transport.close();
    return this.openTransport(target);
  }

  /** CoAPS: a new handshake when the session is gone or in doubt (before a Register or an Update). */
  private async ensureSession(): Promise<void> {
    const secure = this.secure;
    if (!secure || (secure.connected && !this.sessionSuspect)) return;
    this.sessionSuspect = false;
    await secure.reconnect();
  }

  /** CoAPS: a Register/Update that timed out may mean the server lost the session without telling. */
  private suspectSession(err: unknown): void {
    if (this.secure && err instanceof TimeoutError) this.sessionSuspect = true;
  }

  /** A sleeping (queue-mode) device does not hear anything: datagrams are dropped before anyone sees them. */
  private gate(socket: dgram.Socket): dgram.Socket {
    const on = socket.on.bind(socket) as (event: string, listener: (...args: unknown[]) => void) => dgram.Socket;
    (socket as unknown as { on: typeof on }).on = (event, listener) => {
      if (event !== 'message') return on(event, listener);
      return on('message', (...args: unknown[]) => {
        if (this.awakeValue) listener(...args);
        else this.droppedValue++;
      });
    };
    return socket;
  }

  private shutdown(deregister: boolean): Promise<void> {
    this.stopping ??= this.doShutdown(deregister).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async doShutdown(deregister: boolean): Promise<void> {
    this.stateValue = 'stopping';
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.updateTimer = this.sleepTimer = this.wakeTimer = this.retryTimer = undefined;
    if (this.bootstrapWaiter) {
      this.clock.clearTimeout(this.bootstrapWaiter.timer);
      this.bootstrapWaiter.reject(new Error('stopped'));
      this.bootstrapWaiter = undefined;
    }
    this.observationsMgr.endAll('stopped');
    const transport = this.transport;
    const location = this.location;
    if (deregister && transport && location && this.server.peer) {
      this.awakeValue = true;
      try {
        if (this.secure && !this.secure.connected) throw new Error('no DTLS session with the server');
        const res = await transport.request(this.server.peer, { method: Method.DELETE, path: location }, { timeoutMs: Math.min(this.requestTimeoutMs, 5000) });
        if (res.code === Code.Deleted) this.emitEvent({ type: 'deregistered', location: '/' + location.join('/') });
        else this.reportError('deregister', new Error(`De-register answered ${codeToString(res.code)}`));
      } catch (err) {
        this.reportError('deregister', err as Error);
      }
    }
    this.location = undefined;
    this.transport = undefined;
    this.secure = undefined;
    this.link = '';
    if (transport) await transport.close();
    this.stateValue = 'stopped';
    this.emitEvent({ type: 'stopped' });
  }

  private setTimer(fn: () => void, ms: number): unknown {
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: unknown): void {
    if (t === undefined) return;
    this.clock.clearTimeout(t);
    this.timers.delete(t);
  }

  private startTicking(): void {
    const period = this.options.tickMs ?? 1000;
    if (period <= 0) return;
    this.lastTick = this.clock.now();
    const step = () => {
      const now = this.clock.now();
      try {
        simulateStep(this.tree, now, now - this.lastTick, this.random);
      } catch (err) {
        this.reportError('simulate', err as Error);
      }
      this.lastTick = now;
      this.setTimer(step, period);
    };
    this.setTimer(step, period);
  }

  // ----- registration ------------------------------------------------------------------------

  /** Runs registration steps one after another (Register, Update, re-Register never overlap). */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.registrationChain.then(fn, fn);
    this.registrationChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private linkPayload(): string {
    const links = [`</>;rt="oma.lwm2m";ct="${ANNOUNCED_FORMATS.join(' ')}"`];
    for (const oid of this.tree.objectIds()) {
      if (oid === 0 || oid === 21) continue;
      const version = this.tree.version(oid);
      const instances = this.tree.instanceIds(oid);
      if (version && version !== '1.0') links.push(`</${oid}>;ver=${version}`);
      else if (instances.length === 0) links.push(`</${oid}>`);
      for (const iid of instances) links.push(`</${oid}/${iid}>`);
    }
    return links.join(',');
  }

  private registerQuery(): string[] {
    const q = [`ep=${this.endpoint}`, `lt=${this.server.lifetime}`, `lwm2m=${this.lwm2mVersion}`, `b=${this.server.binding}`];
    if (this.queueMode && this.lwm2mVersion !== '1.0') q.push('Q');
    return q;
  }

  private register(): Promise<void> {
    return this.serialized(async () => {
      const transport = this.transport;
      const peer = this.server.peer;
      if (!transport || !peer) throw new Error('not started');
      this.stateValue = 'registering';
      this.awakeValue = true;
      await this.ensureSession();
      const payload = this.linkPayload();
      let res;
      try {
        res = await transport.request(
          peer,
          { method: Method.POST, path: ['rd'], query: this.registerQuery(), contentFormat: ContentFormat.Link, payload: Buffer.from(payload, 'utf8') },
          { timeoutMs: this.requestTimeoutMs },
        );
      } catch (err) {
        this.suspectSession(err);
        throw err;
      }
      if (res.code !== Code.Created) throw new Error(`Register was refused with ${codeToString(res.code)}${res.payload.length ? `: ${res.payload.toString('utf8')}` : ''}`);
      const location = res.options.filter((o) => o.number === OptionNumber.LocationPath).map((o) => o.value.toString('utf8'));
      this.location = location.length > 0 ? location : ['rd'];
      this.registeredObjects = payload;
      this.stateValue = 'registered';
      this.emitEvent({
        type: 'registered',
        server: this.server.uri,
        location: '/' + this.location.join('/'),
        lifetime: this.server.lifetime,
        port: this.port ?? 0,
        queueMode: this.queueMode,
      });
      this.scheduleUpdate();
      this.touch();
    });
  }

  private updateDelay(): number {
    if (this.options.updateIntervalMs !== undefined) return this.options.updateIntervalMs;
    const lt = this.server.lifetime * 1000;
    return lt < 60_000 ? lt * 0.75 : lt - Math.max(10_000, lt * 0.1);
  }

  private scheduleUpdate(): void {
    this.clearTimer(this.updateTimer);
    this.updateTimer = this.setTimer(() => {
      this.updateTimer = undefined;
      if (this.queueMode && !this.awakeValue) void this.wake('lifetime');
      else void this.sendUpdate('lifetime');
    }, this.updateDelay());
  }

  private sendUpdate(reason: UpdateReason): Promise<void> {
    return this.serialized(async () => {
      const transport = this.transport;
      const peer = this.server.peer;
      if (!transport || !peer || this.stateValue !== 'registered' || !this.location) return;
      this.ensureAwake();
      const payload = this.linkPayload();
      const changed = payload !== this.registeredObjects;
      try {
        await this.ensureSession();
        const res = await transport.request(
          peer,
          {
            method: Method.POST,
            path: this.location,
            contentFormat: changed ? ContentFormat.Link : undefined,
            payload: changed ? Buffer.from(payload, 'utf8') : undefined,
          },
          { timeoutMs: this.requestTimeoutMs },
        );
        this.touch();
        if (res.code === Code.Changed) {
          if (changed) this.registeredObjects = payload;
          this.emitEvent({ type: 'updated', location: '/' + this.location.join('/'), reason });
          this.scheduleUpdate();
          return;
        }
        this.reportError('update', new Error(`Update answered ${codeToString(res.code)}; registering again`));
      } catch (err) {
        this.suspectSession(err);
        if (this.stateValue !== 'registered') return;
        this.reportError('update', err as Error);
      }
      // The registration is unknown (4.04) or the server is unreachable: register again.
      this.observationsMgr.endAll('deregistered');
      this.location = undefined;
      this.stateValue = 'registering';
      this.scheduleReRegister(0);
    });
  }

  private scheduleReRegister(delay: number): void {
    this.clearTimer(this.retryTimer);
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = undefined;
      if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
      this.register().catch((err: Error) => {
        if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
        this.reportError('register', err);
        this.scheduleReRegister(this.options.retryMs ?? 5000);
      });
    }, delay);
  }

  /** Registers again from scratch (Reboot, Disable, re-bootstrap): observations end. */
  private async restartRegistration(reason: ObservationEndReason, deregister: boolean, pauseMs = 0): Promise<void> {
    const transport = this.transport;
    const peer = this.server.peer;
    const location = this.location;
    this.observationsMgr.endAll(reason);
    this.clearTimer(this.updateTimer);
    this.location = undefined;
    this.stateValue = 'registering';
    if (deregister && transport && peer && location) {
      try {
        await transport.request(peer, { method: Method.DELETE, path: location }, { timeoutMs: Math.min(this.requestTimeoutMs, 5000) });
        this.emitEvent({ type: 'deregistered', location: '/' + location.join('/') });
      } catch (err) {
        this.reportError('deregister', err as Error);
      }
    }
    this.scheduleReRegister(pauseMs);
  }

  // ----- queue mode --------------------------------------------------------------------------

  /** Restarts the awake window (queue mode). */
  private touch(): void {
    if (!this.queueMode || this.stateValue !== 'registered') return;
    this.clearTimer(this.sleepTimer);
    this.sleepTimer = this.setTimer(() => {
      this.sleepTimer = undefined;
      this.sleep();
    }, this.awakeMs);
  }

  /** Before an uplink: a sleeping client wakes (without an extra Update). */
  private ensureAwake(): void {
    if (this.awakeValue) return;
    this.clearTimer(this.wakeTimer);
    this.wakeTimer = undefined;
    this.awakeValue = true;
    this.emitEvent({ type: 'awake' });
    this.touch();
  }

  // ----- bootstrap ---------------------------------------------------------------------------

  private async runBootstrap(): Promise<void> {
    const bs = this.bootstrapServer;
    if (!bs) throw new Error('no bootstrap server');
    bs.peer = await this.connectTo(bs);
    const transport = this.transport;
    if (!transport) throw new Error('not started');
    this.stateValue = 'bootstrapping';
    const finished = new Promise<void>((resolve, reject) => {
      const timer = this.setTimer(() => {
        this.bootstrapWaiter = undefined;
        reject(new Error(`no Bootstrap-Finish within ${this.options.bootstrapTimeoutMs ?? 60_000} ms`));
      }, this.options.bootstrapTimeoutMs ?? 60_000);
      this.bootstrapWaiter = { resolve, reject, timer };
    });
    finished.catch(() => undefined);
    this.emitEvent({ type: 'bootstrapRequested', server: bs.uri });
    const query = [`ep=${this.endpoint}`];
    if (this.lwm2mVersion !== '1.0') query.push(`pct=${ContentFormat.SenmlCbor}`);
    // A Bootstrap-Request that fails or is refused: no Bootstrap-Finish to wait for.
    const stopWaiting = (): void => {
      if (!this.bootstrapWaiter) return;
      this.clearTimer(this.bootstrapWaiter.timer);
      this.bootstrapWaiter = undefined;
    };
    let res;
    try {
      res = await transport.request(bs.peer, { method: Method.POST, path: ['bs'], query }, { timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      stopWaiting();
      throw err;
    }
    if (res.code !== Code.Changed) {
      stopWaiting();
      throw new Error(`Bootstrap-Request was refused with ${codeToString(res.code)}${res.payload.length ? `: ${res.payload.toString('utf8')}` : ''}`);
    }
    await finished;
    // Register with the provisioned server from now on (after the 2.04 to Bootstrap-Finish has
    // gone out: `finished` resolves before the handler returns it).
    const dm = this.provisionedServer();
    const server = { uri: dm.uri, peer: undefined as Peer | undefined, ssid: dm.ssid, lifetime: dm.lifetime, binding: dm.binding, psk: dm.psk };
    await new Promise<void>((resolve) => setImmediate(resolve));
    server.peer = await this.connectTo(server);
    this.server = server;
  }

  /**
   * The first non-bootstrap Security instance with a matching Server instance. Throws 4.06 when
   * its security cannot be used: PSK (mode 0) needs a coaps:// URI, an identity and a key; NoSec
   * (mode 3) a coap:// URI; other modes are not supported.
   */
  private provisionedServer(): { uri: string; ssid: number; lifetime: number; binding: string; securityMode: number; psk?: SimPsk } {
    for (const iid of this.tree.instanceIds(0)) {
      const base = new Lwm2mPath([0, iid]);
      if (this.tree.get(base.child(1)) === true) continue;
      const uri = this.tree.get(base.child(0));
      const ssid = this.tree.getNumber(base.child(10));
      if (typeof uri !== 'string' || ssid === undefined) continue;
      const server = this.tree.instanceIds(1).find((s) => this.tree.getNumber(new Lwm2mPath([1, s, 0])) === ssid);
      if (server === undefined) continue;
      const lifetime = this.tree.getNumber(new Lwm2mPath([1, server, 1])) ?? this.server.lifetime;
      const bindingValue = this.tree.get(new Lwm2mPath([1, server, 7]));
      const binding = typeof bindingValue === 'string' && bindingValue !== '' ? bindingValue : 'U';
      const securityMode = this.tree.getNumber(base.child(2)) ?? SecurityMode.NoSec;
      let addr: ServerAddress;
      try {
        addr = parseServerUri(uri);
      } catch (err) {
        throw new SimError(Code.NotAcceptable, `/0/${iid}/0: ${(err as Error).message}`);
      }
      if (securityMode === SecurityMode.NoSec) {
        if (addr.secure) throw new SimError(Code.NotAcceptable, `/0/${iid}: Security Mode NoSec (3) with the coaps:// URI ${uri}`);
        return { uri, ssid, lifetime, binding, securityMode };
      }
      if (securityMode !== SecurityMode.PSK) throw new SimError(Code.NotAcceptable, `/0/${iid}: Security Mode ${securityMode} is not supported by the simulator (PSK 0 or NoSec 3)`);
      if (!addr.secure) throw new SimError(Code.NotAcceptable, `/0/${iid}: Security Mode PSK (0) with the coap:// URI ${uri} (PSK needs coaps://)`);
      const identity = this.tree.get(base.child(3));
      const key = this.tree.get(base.child(5));
      if (!(identity instanceof Uint8Array) || identity.length === 0 || !(key instanceof Uint8Array) || key.length === 0) {
        throw new SimError(Code.NotAcceptable, `/0/${iid}: Security Mode PSK (0) needs an identity (/0/${iid}/3) and a key (/0/${iid}/5)`);
      }
      return { uri, ssid, lifetime, binding, securityMode, psk: { identity: Buffer.from(identity).toString('utf8'), key: new Uint8Array(key) } };
    }
    throw new SimError(Code.NotAcceptable, 'no LwM2M server account: a Security instance (Bootstrap-Server false, with a Short Server ID) and a Server instance with the same Short Server ID are needed');
  }

  private onBootstrapRequest(req: IncomingRequest): OutgoingResponse {
    const segs = req.path;
    if (req.method === Method.POST && segs.length === 1 && segs[0] === 'bs') {
      // 4.06 when inconsistent, or with a security mode the simulator does not speak.
      const dm = this.provisionedServer();
      this.emitEvent({ type: 'bootstrapFinished', server: dm.uri });
      const waiter = this.bootstrapWaiter;
      this.bootstrapWaiter = undefined;
      if (waiter) {
        this.clearTimer(waiter.timer);
        waiter.resolve();
      }
      return { code: Code.Changed };
    }
    const path = requestPath(segs);
    switch (req.method) {
      case Method.DELETE:
        return this.bootstrapDelete(path);
      case Method.PUT:
        return this.bootstrapWrite(req, path);
      case Method.GET:
        if (req.accept === ContentFormat.Link) return this.bootstrapDiscover(path);
        return this.bootstrapRead(req, path);
      default:
        throw new SimError(Code.MethodNotAllowed, 'not a Bootstrap operation');
    }
  }

  private isBootstrapAccount(iid: number): boolean {
    return this.tree.get(new Lwm2mPath([0, iid, 1])) === true;
  }

  /** Bootstrap-Delete: `/` removes Security (except the bootstrap account) and Server instances; devices' own objects stay. */
  private bootstrapDelete(path: Lwm2mPath): OutgoingResponse {
    const [oid, iid, rid] = path.ids;
    if (rid !== undefined) throw new SimError(Code.BadRequest, 'Bootstrap-Delete targets /, /O or /O/I');
    const targets = oid === undefined ? [0, 1] : [oid];
    for (const o of targets) {
      if (oid !== undefined && !this.tree.objectModel(o)) throw new SimError(Code.NotFound, `object ${o} is not supported`);
      if (o === 3) continue;
      for (const i of iid === undefined ? this.tree.instanceIds(o) : [iid]) {
        if (o === 0 && this.isBootstrapAccount(i)) continue;
        this.tree.deleteInstance(o, i);
        this.attributes.clearBelow(new Lwm2mPath([o, i]));
      }
    }
    this.emitEvent({ type: 'bootstrapDelete', path: path.toString() });
    return { code: Code.Deleted };
  }

  private bootstrapWrite(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    if (path.isRoot() || path.length === 4) throw new SimError(Code.BadRequest, 'Bootstrap-Write targets /O, /O/I or /O/I/R');
    const records = this.decodeWrite(req, path);
    const checked = this.tree.checkWrite(path, records, 'bootstrap');
    const changed = this.tree.applyWrite(path, checked, 'replace', 'bootstrap', true);
    this.emitEvent({ type: 'bootstrapWrite', path: path.toString(), format: req.contentFormat, paths: changed.map(String) });
    return { code: Code.Changed };
  }

  private bootstrapDiscover(path: Lwm2mPath): OutgoingResponse {
    if (path.length > 1) throw new SimError(Code.BadRequest, 'Bootstrap-Discover targets / or /O');
    const links: string[] = [];
    if (path.isRoot()) links.push(`</>;lwm2m=${this.lwm2mVersion === '1.0' ? '1.1' : this.lwm2mVersion}`);
    for (const oid of path.isRoot() ? this.tree.objectIds() : [path.objectId!]) {
      if (!this.tree.objectModel(oid)) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
      const version = this.tree.version(oid);
      const instances = this.tree.instanceIds(oid);
      if ((version && version !== '1.0') || instances.length === 0 || !path.isRoot()) links.push(`</${oid}>${version && version !== '1.0' ? `;ver=${version}` : ''}`);
      for (const iid of instances) {
        let link = `</${oid}/${iid}>`;
        if (oid === 0) {
          const ssid = this.tree.getNumber(new Lwm2mPath([0, iid, 10]));
          const uri = this.tree.get(new Lwm2mPath([0, iid, 0]));
          if (ssid !== undefined && !this.isBootstrapAccount(iid)) link += `;ssid=${ssid}`;
          if (typeof uri === 'string') link += `;uri="${uri}"`;
        } else if (oid === 1) {
          const ssid = this.tree.getNumber(new Lwm2mPath([1, iid, 0]));
          if (ssid !== undefined) link += `;ssid=${ssid}`;
        }
        links.push(link);
      }
    }
    this.emitEvent({ type: 'bootstrapDiscover', path: path.toString() });
    return { code: Code.Content, contentFormat: ContentFormat.Link, payload: Buffer.from(links.join(','), 'utf8') };
  }

  private bootstrapRead(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    if (path.objectId !== 1 && path.objectId !== 2) throw new SimError(Code.MethodNotAllowed, 'Bootstrap-Read is only allowed on /1 and /2');
    const records = this.tree.read(path, 'bootstrap');
    const format = this.pickReadFormat(req.accept, path, records, ContentFormat.SenmlCbor);
    const payload = this.encode(format, records, path);
    this.emitEvent({ type: 'bootstrapRead', path: path.toString(), format });
    return { code: Code.Content, contentFormat: format, payload };
  }

  // ----- Device Management and Information Reporting ----------------------------------------

  private onRequest(req: IncomingRequest): OutgoingResponse {
    this.touch();
    try {
      if (this.stateValue === 'bootstrapping') return this.onBootstrapRequest(req);
      return this.onDmRequest(req);
    } catch (err) {
      const e = simError(err);
      if (e.code >= Code.InternalServerError) this.reportError('request', err as Error);
      return errorResponse(e);
    }
  }

  private onDmRequest(req: IncomingRequest): OutgoingResponse {
    const path = requestPath(req.path);
    if (path.objectId === 0) throw new SimError(Code.Unauthorized, 'the Security object is not accessible to LwM2M servers');
    const observe = getUintOption(req.options, OptionNumber.Observe);
    switch (req.method) {
      case Method.GET:
        if (observe === 0) return this.observe(req, path);
        if (observe === 1) return this.cancelObserve(req, path);
        if (req.accept === ContentFormat.Link) return this.discover(path);
        return this.read(req, path);
      case Method.FETCH:
        if (!path.isRoot()) throw new SimError(Code.MethodNotAllowed, 'composite operations target /');
        if (observe === 0) return this.observeComposite(req);
        if (observe === 1) return this.cancelObserve(req, path);
        return this.readComposite(req);
      case Method.iPATCH:
        if (!path.isRoot()) throw new SimError(Code.MethodNotAllowed, 'Write-Composite targets /');
        return this.writeComposite(req);
      case Method.PUT:
        if (req.payload.length === 0 && req.contentFormat === undefined && req.query.length > 0) return this.writeAttributes(req, path);
        return this.write(req, path, 'replace');
      case Method.POST:
        if (path.length === 1) return this.create(req, path);
        if (path.length === 2) return this.write(req, path, 'update');
        if (path.length === 3) {
          const r = this.tree.resourceModel(path.objectId!, path.resourceId!);
          if (r?.multiple && req.contentFormat !== undefined && req.contentFormat !== ContentFormat.Text) return this.write(req, path, 'update');
          return this.execute(req, path);
        }
        throw new SimError(Code.MethodNotAllowed, `POST is not allowed on ${path.toString()}`);
      case Method.DELETE:
        return this.delete(path);
      default:
        throw new SimError(Code.MethodNotAllowed, 'method not allowed');
    }
  }

  private codecContext(path: Lwm2mPath): CodecContext {
    return { path, models: this.tree.models, objectVersions: this.tree.objectVersions() };
  }

  private encode(format: number, records: Lwm2mRecord[], path: Lwm2mPath): Uint8Array {
    return codecRegistry.encode(format, records, this.codecContext(path));
  }

  /** Is `path` (with these records) a single value that text/opaque/CBOR can carry? */
  private isSingleValue(path: Lwm2mPath, records: readonly Lwm2mRecord[]): boolean {
    if (path.length < 3 || records.length !== 1) return false;
    if (path.length === 3 && this.tree.resourceModel(path.objectId!, path.resourceId!)?.multiple) return false;
    return true;
  }

  /** The response format for a Read/Observe: Accept if we can, 4.06 otherwise; the default per shape. */
  private pickReadFormat(accept: number | undefined, path: Lwm2mPath, records: readonly Lwm2mRecord[], multiDefault = this.defaultFormat): number {
    const single = this.isSingleValue(path, records);
    if (accept === undefined) {
      if (!single) return multiDefault;
      return records[0]!.type === 'opaque' ? ContentFormat.Opaque : ContentFormat.Text;
    }
    if (!SIM_READ_FORMATS.includes(accept)) throw new SimError(Code.NotAcceptable, `content format ${accept} is not supported (${SIM_READ_FORMATS.join(', ')})`);
    if (SINGLE_VALUE_FORMATS.has(accept) && !single) throw new SimError(Code.NotAcceptable, `content format ${accept} carries a single value; ${path.toString()} has ${records.length}`);
    if (accept === ContentFormat.Opaque && records[0]!.type !== 'opaque') throw new SimError(Code.NotAcceptable, `${path.toString()} is not opaque`);
    return accept;
  }

  private read(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    try {
      const records = this.tree.read(path);
      const format = this.pickReadFormat(req.accept, path, records);
      const payload = this.encode(format, records, path);
      this.emitEvent({ type: 'read', path: path.toString(), format, code: '2.05' });
      return { code: Code.Content, contentFormat: format, payload };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'read', path: path.toString(), format: req.accept, code: codeToString(e.code) });
      throw e;
    }
  }

  /** Discover (lwm2m-protocol.md §14.2): object, instances and resources with `dim` and attributes. */
  private discover(path: Lwm2mPath): OutgoingResponse {
    const [oid, iid, rid] = path.ids;
    if (oid === undefined) throw new SimError(Code.MethodNotAllowed, 'Discover on / is a Bootstrap-Discover');
    if (path.length === 4) throw new SimError(Code.BadRequest, 'Discover targets /O, /O/I or /O/I/R');
    if (!this.tree.exists(path)) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
    const links: string[] = [];
    const attrs = (p: Lwm2mPath) => formatAttributes(this.attributes.at(p));
    const resourceLink = (p: Lwm2mPath, shown: string): string => {
      const r = this.tree.resourceModel(p.objectId!, p.resourceId!);
      const v = this.tree.get(p);
      return `<${p.toString()}>${r?.multiple && v instanceof Map ? `;dim=${v.size}` : ''}${shown}`;
    };
    if (rid !== undefined) {
      const eff = this.attributes.effective(path, this.serverDefaults());
      links.push(resourceLink(path, formatAttributes(eff)));
      const v = this.tree.get(path);
      if (v instanceof Map) for (const riid of [...v.keys()].sort((a, b) => a - b)) links.push(`<${path.child(riid).toString()}>${attrs(path.child(riid))}`);
    } else {
      if (iid === undefined) {
        const version = this.tree.version(oid);
        links.push(`</${oid}>${version && version !== '1.0' ? `;ver=${version}` : ''}${attrs(path)}`);
      }
      for (const i of iid === undefined ? this.tree.instanceIds(oid) : [iid]) {
        const ip = new Lwm2mPath([oid, i]);
        links.push(`<${ip.toString()}>${attrs(ip)}`);
        for (const r of this.tree.resourceIds(oid, i)) links.push(resourceLink(ip.child(r), attrs(ip.child(r))));
      }
    }
    this.emitEvent({ type: 'discover', path: path.toString(), code: '2.05' });
    return { code: Code.Content, contentFormat: ContentFormat.Link, payload: Buffer.from(links.join(','), 'utf8') };
  }

  private decodeWrite(req: IncomingRequest, path: Lwm2mPath): Lwm2mRecord[] {
    const format = req.contentFormat;
    if (format === undefined) throw new SimError(Code.BadRequest, 'a Write needs a Content-Format');
    if (!WRITE_FORMATS.has(format) || !codecRegistry.get(format)) throw new SimError(Code.UnsupportedContentFormat, `content format ${format} is not supported`);
    return codecRegistry.decode(format, req.payload, this.codecContext(path)).records;
  }

  private write(req: IncomingRequest, path: Lwm2mPath, mode: 'replace' | 'update'): OutgoingResponse {
    try {
      if (path.length < 2) throw new SimError(Code.MethodNotAllowed, `Write on ${path.toString()} is not allowed (only Bootstrap-Write may target an object)`);
      if (!this.tree.exists(new Lwm2mPath(path.ids.slice(0, 2)))) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
      if (path.length >= 3) {
        const r = this.tree.resourceModel(path.objectId!, path.resourceId!);
        if (!r) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
        if (r.operations !== 'W' && r.operations !== 'RW') throw new SimError(Code.MethodNotAllowed, `${path.toString()} (${r.name}) is not writable`);
        if (mode === 'update' && !r.multiple) throw new SimError(Code.MethodNotAllowed, `partial update of the single resource ${path.toString()}`);
      }
      if (req.contentFormat !== undefined && SINGLE_VALUE_FORMATS.has(req.contentFormat) && path.length === 2) {
        throw new SimError(Code.BadRequest, `content format ${req.contentFormat} carries one value, not an instance`);
      }
      const records = this.decodeWrite(req, path);
      const checked = this.tree.checkWrite(path, records, 'server');
      const changed = this.tree.applyWrite(path, checked, mode, 'server');
      this.emitEvent({ type: 'write', path: path.toString(), mode, format: req.contentFormat, paths: changed.map(String), code: '2.04' });
      return { code: Code.Changed };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'write', path: path.toString(), mode, format: req.contentFormat, paths: [], code: codeToString(e.code) });
      throw e;
    }
  }

  private writeAttributes(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    try {
      if (path.isRoot()) throw new SimError(Code.MethodNotAllowed, 'Write-Attributes on / is not allowed');
      if (!this.tree.exists(path)) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
      const change = parseAttributeQuery(req.query);
      const r = path.length >= 3 ? this.tree.resourceModel(path.objectId!, path.resourceId!) : undefined;
      const attrs = this.attributes.write(path, change, !!r && isNumericType(r.type));
      this.observationsMgr.attributesChanged(path);
      this.emitEvent({ type: 'writeAttributes', path: path.toString(), attributes: { ...attrs } as Record<string, number>, code: '2.04' });
      return { code: Code.Changed };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'writeAttributes', path: path.toString(), attributes: {}, code: codeToString(e.code) });
      throw e;
    }
  }

  private execute(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    const args = req.payload.toString('utf8');
    try {
      if (!this.tree.exists(path.parent())) throw new SimError(Code.NotFound, `${path.parent().toString()} does not exist`);
      const r = this.tree.resourceModel(path.objectId!, path.resourceId!);
      if (!r) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
      if (!this.tree.isExecutable(path.objectId!, path.resourceId!)) throw new SimError(Code.MethodNotAllowed, `${path.toString()} (${r.name}) is not executable`);
      checkExecuteArguments(args);
      this.emitEvent({ type: 'execute', path: path.toString(), arguments: args, code: '2.04' });
      this.setTimer(() => this.afterExecute(path), 0);
      return { code: Code.Changed };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'execute', path: path.toString(), arguments: args, code: codeToString(e.code) });
      throw e;
    }
  }

  /** What executing a resource does (after the 2.04 went out). */
  private afterExecute(path: Lwm2mPath): void {
    const [oid, iid, rid] = path.ids as [number, number, number];
    const key = `${oid}/${rid}`;
    try {
      switch (key) {
        case '3/4': // Reboot: the device restarts and registers again.
          void this.restartRegistration('replaced', false, 200);
          break;
        case '3/5': // Factory Reset: like a reboot in this simulator.
          void this.restartRegistration('replaced', false, 200);
          break;
        case '3/12': // Reset Error Code
          this.tree.set(new Lwm2mPath([3, iid, 11]), { 0: 0 });
          break;
        case '3303/5605': {
          // Reset Min and Max Measured Values
          const base = new Lwm2mPath([3303, iid]);
          const v = this.tree.getNumber(base.child(5700));
          if (v !== undefined) {
            this.tree.set(base.child(5601), v);
            this.tree.set(base.child(5602), v);
          }
          break;
        }
        case '1/4': {
          // Disable: de-register, stay away for the Disable Timeout, register again.
          const timeout = this.tree.getNumber(new Lwm2mPath([1, iid, 5])) ?? 86400;
          void this.restartRegistration('deregistered', true, timeout * 1000);
          break;
        }
        case '1/8': // Registration Update Trigger
          void this.sendUpdate('trigger');
          break;
        case '1/9': // Bootstrap-Request Trigger
          void this.rebootstrap();
          break;
      }
    } catch (err) {
      this.reportError('execute', err as Error);
    }
  }

  private async rebootstrap(): Promise<void> {
    const account = this.tree.instanceIds(0).find((i) => this.isBootstrapAccount(i));
    if (account === undefined) {
      this.reportError('bootstrap', new Error('no Bootstrap-Server account to bootstrap from'));
      return;
    }
    const uri = this.tree.get(new Lwm2mPath([0, account, 0]));
    if (typeof uri !== 'string') return;
    const transport = this.transport;
    const location = this.location;
    this.observationsMgr.endAll('deregistered');
    this.clearTimer(this.updateTimer);
    if (transport && location && this.server.peer) {
      try {
        await transport.request(this.server.peer, { method: Method.DELETE, path: location }, { timeoutMs: Math.min(this.requestTimeoutMs, 5000) });
        this.emitEvent({ type: 'deregistered', location: '/' + location.join('/') });
      } catch (err) {
        this.reportError('deregister', err as Error);
      }
    }
    this.location = undefined;
    try {
      const identity = this.tree.get(new Lwm2mPath([0, account, 3]));
      const key = this.tree.get(new Lwm2mPath([0, account, 5]));
      const psk =
        this.tree.getNumber(new Lwm2mPath([0, account, 2])) === SecurityMode.PSK && identity instanceof Uint8Array && key instanceof Uint8Array
          ? { identity: Buffer.from(identity).toString('utf8'), key: new Uint8Array(key) }
          : undefined;
      this.bootstrapServer = { uri, peer: undefined, psk };
      await this.runBootstrap();
      await this.register();
    } catch (err) {
      this.reportError('bootstrap', err as Error);
      if (this.stateValue !== 'stopping' && this.stateValue !== 'stopped') this.stateValue = 'registering';
    }
  }

  private create(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    const oid = path.objectId!;
    try {
      const model = this.tree.objectModel(oid);
      if (!model) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
      if (!model.multiple || oid === 1) throw new SimError(Code.MethodNotAllowed, `Create is not allowed on object ${oid} (${model.name})`);
      let iid: number | undefined;
      let records: Lwm2mRecord[] = [];
      if (req.payload.length > 0) {
        const format = req.contentFormat;
        const bareTlv = (format === ContentFormat.Tlv || format === 1542) && (req.payload[0]! & 0xc0) !== 0;
        if (bareTlv) {
          iid = this.tree.freeInstanceId(oid);
          records = this.decodeWrite(req, path.child(iid));
        } else {
          records = this.decodeWrite(req, path);
          const ids = new Set(records.map((r) => r.path.instanceId));
          if (ids.size > 1 || ids.has(undefined)) throw new SimError(Code.BadRequest, 'a Create carries exactly one object instance');
          iid = [...ids][0];
        }
      }
      iid ??= this.tree.freeInstanceId(oid);
      if (this.tree.hasInstance(oid, iid)) throw new SimError(Code.BadRequest, `instance /${oid}/${iid} already exists`);
      const target = new Lwm2mPath([oid, iid]);
      const checked = this.tree.checkWrite(target, records, 'server', true);
      this.tree.createInstance(oid, iid, checked, instanceDefaults(oid, Math.floor(this.clock.now() / 1000)));
      this.emitEvent({ type: 'create', path: path.toString(), instance: target.toString(), code: '2.01' });
      this.setTimer(() => void this.sendUpdate('objects'), 0);
      return { code: Code.Created, options: [{ number: OptionNumber.LocationPath, value: Buffer.from(String(oid)) }, { number: OptionNumber.LocationPath, value: Buffer.from(String(iid)) }] };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'create', path: path.toString(), instance: undefined, code: codeToString(e.code) });
      throw e;
    }
  }

  private delete(path: Lwm2mPath): OutgoingResponse {
    try {
      if (path.length !== 2) throw new SimError(Code.MethodNotAllowed, `Delete targets an object instance, not ${path.toString()}`);
      const [oid, iid] = path.ids as [number, number];
      const model = this.tree.objectModel(oid);
      if (!model) throw new SimError(Code.NotFound, `object ${oid} is not supported`);
      if (!this.tree.hasInstance(oid, iid)) throw new SimError(Code.NotFound, `${path.toString()} does not exist`);
      if (!model.multiple || oid === 1) throw new SimError(Code.MethodNotAllowed, `instances of object ${oid} (${model.name}) cannot be deleted`);
      this.tree.deleteInstance(oid, iid);
      this.attributes.clearBelow(path);
      this.emitEvent({ type: 'delete', path: path.toString(), code: '2.02' });
      this.setTimer(() => void this.sendUpdate('objects'), 0);
      return { code: Code.Deleted };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'delete', path: path.toString(), code: codeToString(e.code) });
      throw e;
    }
  }

  /** The path list of a Read-/Observe-Composite request. */
  private compositePaths(req: IncomingRequest): { paths: Lwm2mPath[]; requestFormat: number } {
    const format = req.contentFormat;
    if (format === undefined || !COMPOSITE_FORMATS.has(format)) throw new SimError(Code.UnsupportedContentFormat, `a composite request is SenML JSON or SenML CBOR, not ${format ?? 'without a Content-Format'}`);
    const records = codecRegistry.decode(format, req.payload, this.codecContext(Lwm2mPath.ROOT)).records;
    if (records.length === 0) throw new SimError(Code.BadRequest, 'no paths in the composite request');
    return { paths: records.map((r) => r.path), requestFormat: format };
  }

  /** Records of several paths; those that do not exist (or are not readable) are left out. */
  private readComposite(req: IncomingRequest): OutgoingResponse {
    let paths: Lwm2mPath[] = [];
    try {
      const parsed = this.compositePaths(req);
      paths = parsed.paths;
      const format = req.accept ?? parsed.requestFormat;
      if (!COMPOSITE_FORMATS.has(format)) throw new SimError(Code.NotAcceptable, `composite responses are SenML JSON, SenML CBOR or LwM2M CBOR, not ${format}`);
      const records = this.readPaths(paths, true);
      const payload = this.encode(format, records, Lwm2mPath.ROOT);
      this.emitEvent({ type: 'readComposite', paths: paths.map(String), format, code: '2.05' });
      return { code: Code.Content, contentFormat: format, payload };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'readComposite', paths: paths.map(String), format: req.accept, code: codeToString(e.code) });
      throw e;
    }
  }

  private readPaths(paths: readonly Lwm2mPath[], composite: boolean): Lwm2mRecord[] {
    if (!composite) return this.tree.read(paths[0]!);
    const out: Lwm2mRecord[] = [];
    for (const p of paths) {
      if (p.objectId === 0) continue;
      try {
        out.push(...this.tree.read(p));
      } catch (err) {
        if (!(err instanceof SimError)) throw err;
      }
    }
    return out;
  }

  private writeComposite(req: IncomingRequest): OutgoingResponse {
    let paths: string[] = [];
    try {
      const format = req.contentFormat;
      if (format === undefined || !COMPOSITE_FORMATS.has(format)) throw new SimError(Code.UnsupportedContentFormat, `Write-Composite is SenML JSON or SenML CBOR, not ${format ?? 'without a Content-Format'}`);
      const records = codecRegistry.decode(format, req.payload, this.codecContext(Lwm2mPath.ROOT)).records;
      paths = records.map((r) => r.path.toString());
      for (const r of records) {
        if (r.path.length < 3) throw new SimError(Code.BadRequest, `${r.path.toString()}: Write-Composite writes resources or resource instances`);
        if (r.path.objectId === 0) throw new SimError(Code.Unauthorized, 'the Security object is not accessible');
        if (!this.tree.exists(new Lwm2mPath(r.path.ids.slice(0, 2)))) throw new SimError(Code.NotFound, `${r.path.toString()} does not exist`);
        if (r.value === null && r.path.length !== 4) throw new SimError(Code.BadRequest, `${r.path.toString()}: null deletes resource instances only`);
      }
      const checked = this.tree.checkWrite(Lwm2mPath.ROOT, records, 'server');
      this.tree.applyWrite(Lwm2mPath.ROOT, checked, 'update', 'server');
      this.emitEvent({ type: 'writeComposite', paths, code: '2.04' });
      return { code: Code.Changed };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'writeComposite', paths, code: codeToString(e.code) });
      throw e;
    }
  }

  /** LwM2M 1.2: attributes in the Observe request's Uri-Query apply to this observation. */
  private requestAttributes(req: IncomingRequest, path: Lwm2mPath): Attributes {
    if (req.query.length === 0) return {};
    const change = parseAttributeQuery(req.query);
    const r = path.length >= 3 ? this.tree.resourceModel(path.objectId!, path.resourceId!) : undefined;
    const scratch = new AttributeStore();
    return scratch.write(path, change, !!r && isNumericType(r.type));
  }

  private observe(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    const token = req.message.token;
    try {
      if (path.isRoot()) throw new SimError(Code.MethodNotAllowed, 'Observe on / is not allowed');
      const records = this.tree.read(path);
      const format = this.pickReadFormat(req.accept, path, records);
      const started = this.observationsMgr.start(req.peer, token, [path], false, format, this.requestAttributes(req, path));
      const payload = this.encode(format, started.records, path);
      this.emitEvent({ type: 'observe', path: path.toString(), paths: [path.toString()], token: token.toString('hex'), format, code: '2.05' });
      return { code: Code.Content, options: [uintOption(OptionNumber.Observe, started.sequence)], contentFormat: format, payload };
    } catch (err) {
      const e = simError(err);
      this.emitEvent({ type: 'observe', path: path.toString(), paths: [path.toString()], token: token.toString('hex'), format: req.accept, code: codeToString(e.code) });
      throw e;
    }
  }

  private observeComposite(req: IncomingRequest): OutgoingResponse {
    const token = req.message.token;
    const { paths, requestFormat } = this.compositePaths(req);
    const format = req.accept ?? requestFormat;
    if (!COMPOSITE_FORMATS.has(format)) throw new SimError(Code.NotAcceptable, `composite responses are SenML JSON, SenML CBOR or LwM2M CBOR, not ${format}`);
    const started = this.observationsMgr.start(req.peer, token, paths, true, format);
    const payload = this.encode(format, started.records, Lwm2mPath.ROOT);
    this.emitEvent({ type: 'observe', path: '/', paths: paths.map(String), token: token.toString('hex'), format, code: '2.05' });
    return { code: Code.Content, options: [uintOption(OptionNumber.Observe, started.sequence)], contentFormat: format, payload };
  }

  /** GET/FETCH with Observe=1: ends the observation of that token and answers like a Read (no Observe option). */
  private cancelObserve(req: IncomingRequest, path: Lwm2mPath): OutgoingResponse {
    const existing: SimObservation | undefined = this.observationsMgr.get(req.peer, req.message.token);
    if (existing) this.observationsMgr.end(existing, 'cancelled');
    if (req.method === Method.FETCH) {
      const { paths, requestFormat } = this.compositePaths(req);
      const format = req.accept ?? requestFormat;
      if (!COMPOSITE_FORMATS.has(format)) throw new SimError(Code.NotAcceptable, `content format ${format} is not a composite format`);
      return { code: Code.Content, contentFormat: format, payload: this.encode(format, this.readPaths(paths, true), Lwm2mPath.ROOT) };
    }
    const records = this.tree.read(path);
    const format = this.pickReadFormat(req.accept, path, records);
    return { code: Code.Content, contentFormat: format, payload: this.encode(format, records, path) };
  }

  // ----- helpers -----------------------------------------------------------------------------

  private serverInstanceId(): number | undefined {
    return this.tree.instanceIds(1).find((i) => this.tree.getNumber(new Lwm2mPath([1, i, 0])) === this.server.ssid) ?? this.tree.instanceIds(1)[0];
  }

  /** pmin/pmax defaults from the Server object (`/1/x/2`, `/1/x/3`). */
  private serverDefaults(): Attributes {
    const iid = this.serverInstanceId();
    if (iid === undefined) return {};
    const out: Attributes = {};
    const pmin = this.tree.getNumber(new Lwm2mPath([1, iid, 2]));
    const pmax = this.tree.getNumber(new Lwm2mPath([1, iid, 3]));
    if (pmin !== undefined) out.pmin = pmin;
    if (pmax !== undefined) out.pmax = pmax;
    return out;
  }

  private emitEvent(body: SimEventBody): void {
    const event = { ...body, endpoint: this.endpoint, time: this.clock.now() } as SimEvent;
    this.emit('event', event);
    (this.emit as (name: string, e: SimEvent) => void).call(this, event.type, event);
  }

  private reportError(operation: string, err: Error): void {
    this.emitEvent({ type: 'error', operation, message: err.message });
  }
}

/** Where to bind for a server address: loopback for loopback servers, else any address of that family. */
function defaultBindAddress(serverAddress: string): string {
  if (serverAddress.includes(':')) return serverAddress === '::1' ? '::1' : '::';
  return serverAddress.startsWith('127.') ? '127.0.0.1' : '0.0.0.0';
}

/** What a socket is connected to: the URI and, for CoAPS, the credentials. */
function linkOf(target: { uri: string; psk?: SimPsk }): string {
  return target.psk ? `${target.uri} ${target.psk.identity} ${Buffer.from(target.psk.key).toString('hex')}` : target.uri;
}
