/**
 * The LwM2M bootstrap server (lwm2m-protocol.md §6.1, §6.6, §17.2, §17.3, §19.41, §19.42): on
 * its own UDP port (5685 by default) with our CoAP transport. For each Bootstrap-Request
 * (`POST /bs?ep=…[&pct=…]`) it answers 2.04, then runs the endpoint's configuration:
 *
 *   Bootstrap-Delete (each configured path, default `/`)
 *   Bootstrap-Discover `/` (optional)
 *   Bootstrap-Write `/0/x` (Security) and `/1/x` (Server) per configured server
 *   Bootstrap-Read (optional, `/1` and `/2` only)
 *   Bootstrap-Finish (`POST /bs`)
 *
 * Writes are TLV, SenML CBOR or SenML JSON: the configured `format`, else the client's
 * preferred content format (`pct`) when it is one of those, else TLV (mandatory for 1.0
 * clients). PSK keys come from a resolver callback by reference; they are never in the
 * configuration and never in an event. Every step emits a typed event; a session ends with
 * `done` or `failed`.
 *
 * CoAPS (issue 7): with the `dtls` option (the same shape as the LwM2M server's), start() also
 * serves Bootstrap-Requests over DTLS 1.2 with PSK on a second port (5686 by default), beside
 * plain UDP. A PSK identity is bound to an endpoint like on the LwM2M server (the credential's
 * `endpoint`, else the identity itself): a Bootstrap-Request over DTLS for another endpoint is
 * answered 4.03 (a `failed` event, step `request`). The session's requests go back through
 * the DTLS session the request came over.
 */

import { systemClock, type Clock } from '../coap/clock';
import { Code, Method, codeToString, type MethodName } from '../coap/message';
import type { Peer } from '../coap/peer';
import { formatPeer } from '../coap/peer';
import { CoapTransport, type BindOptions, type IncomingRequest, type OutgoingResponse, type TransportOptions } from '../coap/transport';
import type { DtlsServer } from '../dtls';
import { readDiscoverLinks, type DiscoveredLink } from '../codec/link';
import { codecRegistry } from '../codec/registry';
import { ContentFormat, formatName } from '../contentFormat';
import { createModelRegistry } from '../model/bundled';
import type { ModelLookup } from '../model/types';
import type { Lwm2mRecord, Value, ValueType } from '../node';
import { Lwm2mPath } from '../path';
import { TypedEmitter } from '../server/events';
import { PskBindings, openCoaps, type Lwm2mDtlsOptions } from '../server/psk';
import { configFor, type BootstrapConfig, type EndpointConfig, type ServerConfig } from './config';

/** Default port of the bootstrap server. */
export const DEFAULT_BOOTSTRAP_PORT = 5685;

/** Default CoAPS (DTLS) port of the bootstrap server. */
export const DEFAULT_BOOTSTRAP_SECURE_PORT = 5686;

/** CoAPS of the bootstrap server: the LwM2M server's `dtls` options (port default 5686). */
export type BootstrapDtlsOptions = Lwm2mDtlsOptions;

/** Resolves a PSK key reference (in VS Code: SecretStorage). Undefined when there is no such key. */
export type KeyResolver = (keyRef: string, endpoint: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** Steps of a bootstrap session, as named in `failed` events. */
export type BootstrapStep = 'request' | 'delete' | 'discover' | 'write' | 'read' | 'finish';

export type BootstrapEventBody =
  /** A Bootstrap-Request arrived and was accepted (2.04); the session starts. `security`: how it came (PSK: over DTLS, with the identity). */
  | { type: 'request'; peer: string; preferredFormat: number | undefined; format: number; configSource: string; security: 'NoSec' | 'PSK'; pskIdentity?: string }
  | { type: 'delete'; path: string; code: string }
  | { type: 'discover'; path: string; code: string; links: { path: string; attributes: Record<string, string | number> }[] }
  | { type: 'write'; path: string; format: number; code: string; resources: string[] }
  | { type: 'read'; path: string; format: number | undefined; code: string; records: { path: string; value: string | number | boolean | null }[] }
  | { type: 'finish'; code: string }
  /** The client accepted Bootstrap-Finish: it now registers with `servers`. */
  | { type: 'done'; servers: string[]; durationMs: number }
  | { type: 'failed'; step: BootstrapStep; reason: string; code?: string };

/** A bootstrap event: one per step, with the endpoint and time. */
export type BootstrapEvent = BootstrapEventBody & { endpoint: string; time: number };
export type BootstrapEventType = BootstrapEvent['type'];
export type BootstrapEventOf<T extends BootstrapEventType> = Extract<BootstrapEvent, { type: T }>;

export type BootstrapServerEvents = { event: (e: BootstrapEvent) => void; error: (err: Error) => void } & { [K in BootstrapEventType]: (e: BootstrapEventOf<K>) => void };

export interface BootstrapServerOptions {
  config: BootstrapConfig;
  /** Resolves PSK key references; without it a PSK configuration fails the session. */
  resolveKey?: KeyResolver;
  /** Object models for encoding, default the bundled ones. */
  models?: ModelLookup;
  clock?: Clock;
  /** Deadline of each request to the client, default 30 000 ms. */
  requestTimeoutMs?: number;
  transport?: Pick<TransportOptions, 'ackTimeoutMs' | 'ackRandomFactor' | 'maxRetransmit' | 'exchangeLifetimeMs' | 'nonLifetimeMs'>;
  /** Serve CoAPS (DTLS 1.2 with PSK) too, on `dtls.port` (default 5686). */
  dtls?: BootstrapDtlsOptions;
}

/** A session in progress. */
export interface BootstrapSession {
  endpoint: string;
  peer: Peer;
  startedAt: number;
  step: BootstrapStep;
}

class SessionCancelled extends Error {}

/** A session with the transport its Bootstrap-Request came over (its requests go back that way). */
type RunningSession = BootstrapSession & { cancelled: boolean; transport: CoapTransport };

const WRITE_FORMATS: Readonly<Record<string, number>> = { tlv: ContentFormat.Tlv, 'senml-cbor': ContentFormat.SenmlCbor, 'senml-json': ContentFormat.SenmlJson };
const PCT_FORMATS: ReadonlySet<number> = new Set([ContentFormat.Tlv, ContentFormat.SenmlCbor, ContentFormat.SenmlJson]);

const SECURITY_MODE = { NoSec: 3, PSK: 0 } as const;

function rec(path: Lwm2mPath, type: ValueType, value: Value): Lwm2mRecord {
  return { path, type, value };
}

/** Security instance records of a server entry. */
export function securityRecords(s: ServerConfig, key: Uint8Array | undefined): Lwm2mRecord[] {
  const base = new Lwm2mPath([0, s.securityInstanceId]);
  const identity = s.security.mode === 'PSK' ? Buffer.from(s.security.identity ?? '', 'utf8') : new Uint8Array(0);
  return [
    rec(base.child(0), 'string', s.uri),
    rec(base.child(1), 'boolean', false),
    rec(base.child(2), 'integer', SECURITY_MODE[s.security.mode]),
    rec(base.child(3), 'opaque', new Uint8Array(identity)),
    rec(base.child(4), 'opaque', new Uint8Array(0)),
    rec(base.child(5), 'opaque', key ?? new Uint8Array(0)),
    rec(base.child(10), 'integer', s.shortServerId),
  ];
}

/** Server instance records of a server entry. */
export function serverRecords(s: ServerConfig): Lwm2mRecord[] {
  const base = new Lwm2mPath([1, s.serverInstanceId]);
  const out = [rec(base.child(0), 'integer', s.shortServerId), rec(base.child(1), 'integer', s.lifetime)];
  if (s.defaultMinPeriod !== undefined) out.push(rec(base.child(2), 'integer', s.defaultMinPeriod));
  if (s.defaultMaxPeriod !== undefined) out.push(rec(base.child(3), 'integer', s.defaultMaxPeriod));
  out.push(rec(base.child(6), 'boolean', s.notificationStoring), rec(base.child(7), 'string', s.binding));
  out.push(rec(base.child(23), 'boolean', s.muteSend));
  return out;
}

function jsonValue(v: Value | null): string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return `${v.objectId}:${v.instanceId}`;
}

/** The bootstrap server. */
export class BootstrapServer extends TypedEmitter<BootstrapServerEvents> {
  private readonly clock: Clock;
  private readonly models: ModelLookup;
  private transport: CoapTransport | undefined;
  private secureTransport: CoapTransport | undefined;
  private dtlsServer: DtlsServer | undefined;
  private readonly psk: PskBindings;
  private config: BootstrapConfig;
  private readonly sessionsByEndpoint = new Map<string, RunningSession>();
  private readonly timers = new Set<unknown>();

  constructor(private readonly options: BootstrapServerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.models = options.models ?? createModelRegistry();
    this.config = options.config;
    this.psk = new PskBindings(options.dtls ?? {});
  }

  /**
   * Listens; default port 5685, default address dual-stack `::`; with `dtls`, CoAPS too
   * (default port 5686). Rejects with PortInUseError (and then listens on neither).
   */
  async start(options: BindOptions = {}): Promise<void> {
    if (this.transport) throw new Error('the bootstrap server is already running');
    const transport = this.newTransport((req) => this.onRequest(req, transport, undefined));
    await transport.bind({ port: options.port ?? DEFAULT_BOOTSTRAP_PORT, address: options.address });
    const dtls = this.options.dtls;
    if (dtls) {
      const coaps = await openCoaps({
        dtls,
        psk: this.psk,
        clock: this.clock,
        defaultPort: DEFAULT_BOOTSTRAP_SECURE_PORT,
        address: options.address,
        plain: transport,
        transportFor: (dtlsServer, socketFactory) => {
          const secure: CoapTransport = this.newTransport((req) => this.onRequest(req, secure, dtlsServer.sessionFor(req.peer)?.identity ?? ''), socketFactory);
          return secure;
        },
      });
      this.dtlsServer = coaps.dtlsServer;
      this.secureTransport = coaps.transport;
    }
    this.transport = transport;
  }

  private newTransport(onRequest: (req: IncomingRequest) => OutgoingResponse, socketFactory?: TransportOptions['socketFactory']): CoapTransport {
    return new CoapTransport({
      ...this.options.transport,
      ...(socketFactory ? { socketFactory } : {}),
      clock: this.clock,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      onRequest,
      onError: (err) => this.emit('error', err),
    });
  }

  /** Stops listening (both ports); sessions in progress end (failed). */
  async stop(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const secure = this.secureTransport;
    this.transport = undefined;
    this.secureTransport = undefined;
    this.dtlsServer = undefined;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessionsByEndpoint.values()) s.cancelled = true;
    await Promise.all([transport.close(), secure?.close()]);
  }

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

  /** Replaces the configuration (sessions already running keep theirs). */
  setConfig(config: BootstrapConfig): void {
    this.config = config;
  }

  /** Sessions in progress. */
  sessions(): BootstrapSession[] {
    return [...this.sessionsByEndpoint.values()].map(({ endpoint, peer, startedAt, step }) => ({ endpoint, peer, startedAt, step }));
  }

  private emitEvent(endpoint: string, body: BootstrapEventBody): void {
    const event = { ...body, endpoint, time: this.clock.now() } as BootstrapEvent;
    this.emit('event', event);
    (this.emit as (name: string, e: BootstrapEvent) => void).call(this, event.type, event);
  }

  /** A request on `transport`; `pskIdentity` is the DTLS session's identity (undefined: plain CoAP). */
  private onRequest(req: IncomingRequest, transport: CoapTransport, pskIdentity: string | undefined): OutgoingResponse {
    if (req.path.length !== 1 || req.path[0] !== 'bs') return { code: Code.NotFound };
    if (req.method !== Method.POST) return { code: Code.MethodNotAllowed };
    const params = new Map<string, string>();
    for (const q of req.query) {
      const eq = q.indexOf('=');
      params.set(eq < 0 ? q : q.slice(0, eq), eq < 0 ? '' : q.slice(eq + 1));
    }
    const endpoint = params.get('ep');
    if (!endpoint) return { code: Code.BadRequest, payload: Buffer.from('missing endpoint name (ep)') };
    const pctText = params.get('pct');
    const pct = pctText !== undefined && /^\d{1,5}$/.test(pctText) ? Number(pctText) : undefined;
    if (pctText !== undefined && pct === undefined) return { code: Code.BadRequest, payload: Buffer.from(`pct=${pctText} is not a content format`) };
    if (pskIdentity !== undefined && this.psk.endpointOf(pskIdentity) !== endpoint) {
      const reason = `PSK identity "${pskIdentity}" may not bootstrap as "${endpoint}"`;
      this.emitEvent(endpoint, { type: 'failed', step: 'request', reason, code: '4.03' });
      return { code: Code.Forbidden, payload: Buffer.from(reason) };
    }
    const entry = configFor(this.config, endpoint);
    if (!entry) {
      this.emitEvent(endpoint, { type: 'failed', step: 'request', reason: `no bootstrap configuration for endpoint "${endpoint}" and no default`, code: '4.00' });
      return { code: Code.BadRequest, payload: Buffer.from(`unknown endpoint "${endpoint}"`) };
    }
    const format = entry.format ? WRITE_FORMATS[entry.format]! : pct !== undefined && PCT_FORMATS.has(pct) ? pct : ContentFormat.Tlv;
    const previous = this.sessionsByEndpoint.get(endpoint);
    if (previous) previous.cancelled = true;
    const session: RunningSession = { endpoint, peer: req.peer, startedAt: this.clock.now(), step: 'request', cancelled: false, transport };
    this.sessionsByEndpoint.set(endpoint, session);
    const security = pskIdentity === undefined ? { security: 'NoSec' as const } : { security: 'PSK' as const, pskIdentity };
    this.emitEvent(endpoint, { type: 'request', peer: formatPeer(req.peer), preferredFormat: pct, format, configSource: entry.source, ...security });
    // Start after the 2.04 has gone out (the handler answers synchronously).
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      void this.run(session, entry, format);
    }, 0);
    this.timers.add(t);
    return { code: Code.Changed };
  }

  private async run(session: RunningSession, entry: EndpointConfig, format: number): Promise<void> {
    const { endpoint } = session;
    try {
      // Resolve keys first: a missing key fails before anything is changed on the device.
      const keys = new Map<number, Uint8Array | undefined>();
      for (const s of entry.servers) {
        if (s.security.mode !== 'PSK') continue;
        if (!this.options.resolveKey) throw new StepError('write', `server ${s.shortServerId} uses PSK but no key resolver is configured`);
        const key = await this.options.resolveKey(s.security.keyRef!, endpoint);
        if (!key || key.length === 0) throw new StepError('write', `PSK key reference "${s.security.keyRef}" of server ${s.shortServerId} did not resolve to a key`);
        keys.set(s.shortServerId, key);
      }

      session.step = 'delete';
      for (const p of entry.delete) {
        const res = await this.call(session, 'DELETE', Lwm2mPath.parse(p));
        this.emitEvent(endpoint, { type: 'delete', path: Lwm2mPath.parse(p).toString(), code: res.code });
        if (res.code !== '2.02' && res.code !== '4.04') throw new StepError('delete', `Bootstrap-Delete ${p} answered ${res.code}${res.text ? `: ${res.text}` : ''}`, res.code);
      }

      if (entry.discover) {
        session.step = 'discover';
        const res = await this.call(session, 'GET', Lwm2mPath.ROOT, { accept: ContentFormat.Link });
        let links: DiscoveredLink[] = [];
        if (res.code === '2.05') links = readDiscoverLinks(res.text).links;
        this.emitEvent(endpoint, {
          type: 'discover',
          path: '/',
          code: res.code,
          links: links.map((l) => ({ path: l.path.toString(), attributes: { ...l.attributes } as Record<string, string | number> })),
        });
        if (res.code !== '2.05') throw new StepError('discover', `Bootstrap-Discover answered ${res.code}`, res.code);
      }

      session.step = 'write';
      for (const s of entry.servers) {
        for (const records of [securityRecords(s, keys.get(s.shortServerId)), serverRecords(s)]) {
          const path = records[0]!.path.parent();
          const payload = codecRegistry.encode(format, records, { path, models: this.models });
          const res = await this.call(session, 'PUT', path, { contentFormat: format, payload });
          this.emitEvent(endpoint, { type: 'write', path: path.toString(), format, code: res.code, resources: records.map((r) => r.path.toString()) });
          if (res.code !== '2.04') throw new StepError('write', `Bootstrap-Write ${path.toString()} (${formatName(format)}) answered ${res.code}${res.text ? `: ${res.text}` : ''}`, res.code);
        }
      }

      session.step = 'read';
      for (const p of entry.read) {
        const path = Lwm2mPath.parse(p);
        const res = await this.call(session, 'GET', path, { accept: format });
        let records: Lwm2mRecord[] = [];
        if (res.code === '2.05' && res.format !== undefined) {
          try {
            records = codecRegistry.decode(res.format, res.payload, { path, models: this.models }).records;
          } catch (err) {
            throw new StepError('read', `Bootstrap-Read ${p}: the answer could not be decoded: ${(err as Error).message}`);
          }
        }
        this.emitEvent(endpoint, { type: 'read', path: path.toString(), format: res.format, code: res.code, records: records.map((r) => ({ path: r.path.toString(), value: jsonValue(r.value) })) });
        if (res.code !== '2.05') throw new StepError('read', `Bootstrap-Read ${p} answered ${res.code}`, res.code);
      }

      session.step = 'finish';
      const fin = await this.call(session, 'POST', undefined);
      this.emitEvent(endpoint, { type: 'finish', code: fin.code });
      if (fin.code !== '2.04') throw new StepError('finish', `Bootstrap-Finish answered ${fin.code}${fin.code === '4.06' ? ' (the client found the configuration inconsistent)' : ''}${fin.text ? `: ${fin.text}` : ''}`, fin.code);
      this.emitEvent(endpoint, { type: 'done', servers: entry.servers.map((s) => s.uri), durationMs: this.clock.now() - session.startedAt });
    } catch (err) {
      if (err instanceof SessionCancelled) return;
      const step = err instanceof StepError ? err.step : session.step;
      this.emitEvent(endpoint, { type: 'failed', step, reason: (err as Error).message, ...(err instanceof StepError && err.code ? { code: err.code } : {}) });
    } finally {
      if (this.sessionsByEndpoint.get(endpoint) === session) this.sessionsByEndpoint.delete(endpoint);
    }
  }

  /** One request to the client of a session; `path` undefined = `/bs` (Bootstrap-Finish). */
  private async call(
    session: RunningSession,
    method: Exclude<MethodName, 'PATCH'>,
    path: Lwm2mPath | undefined,
    extra: { accept?: number; contentFormat?: number; payload?: Uint8Array } = {},
  ): Promise<{ code: string; format: number | undefined; payload: Uint8Array; text: string }> {
    const transport = session.transport;
    if (session.cancelled || (transport !== this.transport && transport !== this.secureTransport)) throw new SessionCancelled();
    const res = await transport.request(session.peer, { method: Method[method], path: path ? path.ids.map(String) : ['bs'], ...extra }, { timeoutMs: this.options.requestTimeoutMs ?? 30_000 });
    if (session.cancelled) throw new SessionCancelled();
    return { code: codeToString(res.code), format: res.contentFormat, payload: res.payload, text: res.payload.toString('utf8') };
  }
}

class StepError extends Error {
  constructor(
    readonly step: BootstrapStep,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
