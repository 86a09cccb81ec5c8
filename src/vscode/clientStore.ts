import * as vscode from 'vscode';
import type { Lwm2mAttributes } from '../core/codec/link';
import { formatPeer, type Peer } from '../core/coap/peer';
import type { Lwm2mRecord, Value, ValueType } from '../core/node';
import type { Lwm2mPath } from '../core/path';
import type { Registration } from '../core/server/registration';
import type { ServerObservation } from '../core/server/operations';
import { Disposable } from './dispose';

/** Where a value came from. */
export type ValueSource = 'read' | 'notification' | 'send' | 'write' | 'composite';

/** The last known value of a resource or resource instance. */
export interface KnownValue {
  type: ValueType;
  value: Value | null;
  /** Milliseconds since 1970. */
  time: number;
  source: ValueSource;
}

/** One point of a resource's value history. */
export interface HistoryPoint {
  time: number;
  value: number;
}

export type ClientStatus = 'registered' | 'sleeping' | 'expired';

/** What the extension knows about one client. */
export interface ClientInfo {
  endpoint: string;
  registration: Registration;
  status: ClientStatus;
  /** path → last value */
  readonly values: Map<string, KnownValue>;
  /** path → numeric history, oldest first (bounded). */
  readonly history: Map<string, HistoryPoint[]>;
  /** path → attributes (from Discover and Write-Attributes). */
  readonly attributes: Map<string, Lwm2mAttributes>;
  /** Observation id → observation. */
  readonly observations: Map<string, ObservationInfo>;
  /** Per-client request defaults. */
  defaults: { format?: number; timeoutMs?: number };
}

export interface ObservationInfo {
  observation: ServerObservation;
  notifications: number;
  lastTime?: number;
  /** Attributes sent with the Observe (LwM2M 1.2). */
  attributes?: string;
}

/** What changed: the client list, one client's own node, or values below a client. */
export type StoreChange =
  | { kind: 'clients' }
  | { kind: 'client'; endpoint: string }
  | { kind: 'values'; endpoint: string; paths: string[] }
  | { kind: 'observations'; endpoint: string };

/**
 * The VS Code side's picture of the registered clients: registrations, last values, value
 * history and observations. Fed by the controller from the server's events; the views read it.
 */
export class ClientStore extends Disposable {
  private readonly clients = new Map<string, ClientInfo>();
  private readonly byPeer = new Map<string, string>();
  private readonly onDidChangeEmitter = this.register(new vscode.EventEmitter<StoreChange>());
  readonly onDidChange = this.onDidChangeEmitter.event;

  constructor(private historySize: () => number) {
    super();
  }

  list(): ClientInfo[] {
    return [...this.clients.values()];
  }

  get(endpoint: string): ClientInfo | undefined {
    return this.clients.get(endpoint);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Registered (or sleeping) clients, without expired ones. */
  get activeCount(): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.status !== 'expired') n++;
    return n;
  }

  /** The endpoint talking from a peer address, if registered. */
  endpointAt(peer: Peer): string | undefined {
    return this.byPeer.get(formatPeer(peer));
  }

  clear(): void {
    this.clients.clear();
    this.byPeer.clear();
    this.onDidChangeEmitter.fire({ kind: 'clients' });
  }

  registered(reg: Registration): void {
    const old = this.clients.get(reg.endpoint);
    if (old) this.byPeer.delete(formatPeer(old.registration.address));
    this.clients.set(reg.endpoint, {
      endpoint: reg.endpoint,
      registration: reg,
      status: 'registered',
      values: new Map(),
      history: new Map(),
      attributes: new Map(),
      observations: new Map(),
      defaults: old?.defaults ?? {},
    });
    this.byPeer.set(formatPeer(reg.address), reg.endpoint);
    this.onDidChangeEmitter.fire({ kind: 'clients' });
  }

  updated(reg: Registration, previous: Registration): void {
    const c = this.clients.get(reg.endpoint);
    if (!c) return this.registered(reg);
    this.byPeer.delete(formatPeer(previous.address));
    this.byPeer.set(formatPeer(reg.address), reg.endpoint);
    const objectsChanged = reg.linkText !== previous.linkText;
    c.registration = reg;
    if (c.status === 'expired') c.status = 'registered';
    // A new object list changes the children of the client; otherwise only its own node.
    this.onDidChangeEmitter.fire(objectsChanged ? { kind: 'clients' } : { kind: 'client', endpoint: reg.endpoint });
  }

  deregistered(reg: Registration): void {
    const c = this.clients.get(reg.endpoint);
    if (!c || c.registration.id !== reg.id) return;
    this.clients.delete(reg.endpoint);
    this.byPeer.delete(formatPeer(reg.address));
    this.onDidChangeEmitter.fire({ kind: 'clients' });
  }

  expired(reg: Registration): void {
    const c = this.clients.get(reg.endpoint);
    if (!c || c.registration.id !== reg.id) return;
    c.status = 'expired';
    c.observations.clear();
    this.byPeer.delete(formatPeer(reg.address));
    this.onDidChangeEmitter.fire({ kind: 'client', endpoint: reg.endpoint });
    this.onDidChangeEmitter.fire({ kind: 'observations', endpoint: reg.endpoint });
  }

  /** Removes an expired client from the list. */
  forget(endpoint: string): void {
    if (this.clients.delete(endpoint)) this.onDidChangeEmitter.fire({ kind: 'clients' });
  }

  setSleeping(endpoint: string, sleeping: boolean): void {
    const c = this.clients.get(endpoint);
    if (!c || c.status === 'expired') return;
    const status = sleeping ? 'sleeping' : 'registered';
    if (c.status === status) return;
    c.status = status;
    this.onDidChangeEmitter.fire({ kind: 'client', endpoint });
  }

  /** Stores values (from a Read, a notification, a Send, a Write) and extends histories. */
  setValues(endpoint: string, records: readonly Lwm2mRecord[], source: ValueSource, now = Date.now()): void {
    const c = this.clients.get(endpoint);
    if (!c || records.length === 0) return;
    const limit = this.historySize();
    const paths: string[] = [];
    for (const r of records) {
      if (r.path.length < 3) continue;
      const key = r.path.toString();
      const time = r.time !== undefined ? r.time * 1000 : now;
      c.values.set(key, { type: r.type, value: r.value, time, source });
      paths.push(key);
      const n = numeric(r.value);
      if (n !== undefined && source !== 'write') {
        let h = c.history.get(key);
        if (!h) c.history.set(key, (h = []));
        h.push({ time, value: n });
        if (h.length > limit) h.splice(0, h.length - limit);
      }
    }
    if (paths.length) this.onDidChangeEmitter.fire({ kind: 'values', endpoint, paths });
  }

  /** Forgets values at or below a path (after a Delete). */
  dropValues(endpoint: string, path: Lwm2mPath): void {
    const c = this.clients.get(endpoint);
    if (!c) return;
    const prefix = path.toString();
    for (const key of [...c.values.keys()]) if (key === prefix || key.startsWith(prefix + '/')) c.values.delete(key);
    this.onDidChangeEmitter.fire({ kind: 'client', endpoint });
  }

  setAttributes(endpoint: string, path: string, attributes: Lwm2mAttributes, merge = false): void {
    const c = this.clients.get(endpoint);
    if (!c) return;
    const next = merge ? { ...c.attributes.get(path), ...attributes } : attributes;
    for (const [k, v] of Object.entries(next)) if (v === undefined || v === null) delete (next as Record<string, unknown>)[k];
    c.attributes.set(path, next);
    this.onDidChangeEmitter.fire({ kind: 'observations', endpoint });
  }

  addObservation(endpoint: string, observation: ServerObservation, attributes?: string): void {
    const c = this.clients.get(endpoint);
    if (!c) return;
    // The server replaces an earlier observation of the same paths and format.
    for (const [id, o] of c.observations) {
      if (o.observation.path.equals(observation.path) && o.observation.composite === observation.composite && o.observation.format === observation.format) c.observations.delete(id);
    }
    c.observations.set(observation.id, { observation, notifications: 0, attributes });
    this.fireObserved(c, observation);
  }

  notified(endpoint: string, observationId: string, time: number): void {
    const o = this.clients.get(endpoint)?.observations.get(observationId);
    if (!o) return;
    o.notifications++;
    o.lastTime = time;
    this.onDidChangeEmitter.fire({ kind: 'observations', endpoint });
  }

  observationEnded(observation: ServerObservation): void {
    const c = this.clients.get(observation.endpoint);
    if (!c || !c.observations.delete(observation.id)) return;
    this.fireObserved(c, observation);
  }

  /** Is this path (or one above it) observed? */
  isObserved(endpoint: string, path: string): boolean {
    const c = this.clients.get(endpoint);
    if (!c || c.observations.size === 0) return false;
    for (const o of c.observations.values()) {
      for (const p of o.observation.paths) {
        const s = p.toString();
        if (path === s || (s !== '/' && path.startsWith(s + '/'))) return true;
      }
    }
    return false;
  }

  /** Is exactly this path observed (so Cancel applies)? */
  isObservedExactly(endpoint: string, path: string): boolean {
    const c = this.clients.get(endpoint);
    if (!c) return false;
    for (const o of c.observations.values()) if (!o.observation.composite && o.observation.path.toString() === path) return true;
    return false;
  }

  private fireObserved(c: ClientInfo, observation: ServerObservation): void {
    this.onDidChangeEmitter.fire({ kind: 'observations', endpoint: c.endpoint });
    // Observing a path changes the icons of its tree nodes.
    this.onDidChangeEmitter.fire({ kind: 'values', endpoint: c.endpoint, paths: observation.paths.map((p) => p.toString()) });
  }
}

/** A value as a number for history and charts (booleans as 0/1), or undefined. */
export function numeric(v: Value | null): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
