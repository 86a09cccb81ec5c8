/**
 * In-memory registrations, indexed by id, endpoint name and address (all O(1)), with lifetime
 * expiry driven by an injectable clock.
 */

import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../coap/clock';
import { formatPeer, type Peer } from '../coap/peer';
import { TypedEmitter } from './events';
import type { Channel, RegisterParams, Registration, UpdateParams } from './registration';

const NOSEC: Channel = { security: 'NoSec' };

export interface RegistrationStoreEvents {
  registered: (registration: Registration) => void;
  updated: (registration: Registration, previous: Registration) => void;
  deregistered: (registration: Registration) => void;
  expired: (registration: Registration) => void;
  /** A new Register from the same endpoint replaced `previous` (emitted before `registered`). */
  replaced: (previous: Registration, registration: Registration) => void;
}

export interface RegistrationStoreOptions {
  clock?: Clock;
  /** Added to the lifetime before a registration expires (network delays), default 10 000 ms. */
  graceMs?: number;
  /** Registration id generator, default 12 random hex digits. */
  newId?: () => string;
}

/** The registrations of one server. Every change is an event; `expire()` is called periodically by the server. */
export class RegistrationStore extends TypedEmitter<RegistrationStoreEvents> {
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly newId: () => string;
  private readonly byIdMap = new Map<string, Registration>();
  private readonly byEndpointMap = new Map<string, Registration>();
  private readonly byAddressMap = new Map<string, Registration>();
  /** No registration expires before this time (a lower bound, so most sweeps cost nothing). */
  private earliestExpiry = Infinity;

  constructor(options: RegistrationStoreOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.graceMs = options.graceMs ?? 10_000;
    this.newId = options.newId ?? (() => this.randomId());
  }

  private idPool: Buffer = Buffer.alloc(0);
  private idPos = 0;

  /** 12 random hex digits, cut from a pool refilled 512 ids at a time (one randomBytes call each). */
  private randomId(): string {
    if (this.idPos + 6 > this.idPool.length) {
      this.idPool = randomBytes(6 * 512);
      this.idPos = 0;
    }
    this.idPos += 6;
    return this.idPool.toString('hex', this.idPos - 6, this.idPos);
  }

  get size(): number {
    return this.byIdMap.size;
  }

  get(id: string): Registration | undefined {
    return this.byIdMap.get(id);
  }

  byEndpoint(endpoint: string): Registration | undefined {
    return this.byEndpointMap.get(endpoint);
  }

  /** The most recent registration whose client talks from this address. */
  byAddress(peer: Peer): Registration | undefined {
    return this.byAddressMap.get(formatPeer(peer));
  }

  list(): Registration[] {
    return [...this.byIdMap.values()];
  }

  /** Adds a registration; one that exists for the same endpoint is replaced (`replaced`, then `registered`). */
  register(params: RegisterParams, address: Peer, channel: Channel = NOSEC): Registration {
    const now = this.clock.now();
    let id = this.newId();
    while (this.byIdMap.has(id)) id = this.newId();
    const registration: Registration = {
      id,
      endpoint: params.endpoint,
      address,
      lifetime: params.lifetime,
      lwm2mVersion: params.lwm2mVersion,
      binding: params.binding,
      sms: params.sms,
      queueMode: params.queueMode,
      extraParams: params.extraParams,
      rootPath: params.links.rootPath,
      objects: params.links.objects,
      contentFormats: params.links.contentFormats,
      linkText: params.links.linkText,
      linkProblems: params.links.linkProblems,
      registeredAt: now,
      lastUpdate: now,
      expiresAt: this.expiry(now, params.lifetime),
      security: channel.security,
      ...(channel.security === 'PSK' ? { pskIdentity: channel.identity } : {}),
    };
    const previous = this.byEndpointMap.get(params.endpoint);
    if (previous) this.remove(previous);
    this.put(registration);
    if (previous) this.emit('replaced', previous, registration);
    this.emit('registered', registration);
    return registration;
  }

  /** Applies an Update (and the client's current address); undefined for an unknown id. */
  update(id: string, params: UpdateParams, address: Peer): Registration | undefined {
    const previous = this.byIdMap.get(id);
    if (!previous) return undefined;
    const now = this.clock.now();
    const lifetime = params.lifetime ?? previous.lifetime;
    const binding = params.binding ?? previous.binding;
    const links = params.links;
    const registration: Registration = {
      ...previous,
      address,
      lifetime,
      binding,
      sms: params.sms ?? previous.sms,
      // 1.0 carries queue mode in the binding; 1.1+ in the Register's Q flag (a Q in an Update is tolerated and turns it on).
      queueMode: params.queueMode || (previous.lwm2mVersion === '1.0' ? binding.includes('Q') : previous.queueMode),
      extraParams: { ...previous.extraParams, ...params.extraParams },
      ...(links
        ? { rootPath: links.rootPath, objects: links.objects, contentFormats: links.contentFormats, linkText: links.linkText, linkProblems: links.linkProblems }
        : {}),
      lastUpdate: now,
      expiresAt: this.expiry(now, lifetime),
    };
    this.remove(previous);
    this.put(registration);
    this.emit('updated', registration, previous);
    return registration;
  }

  /** Removes a registration (`deregistered`); undefined for an unknown id. */
  deregister(id: string): Registration | undefined {
    const registration = this.byIdMap.get(id);
    if (!registration) return undefined;
    this.remove(registration);
    this.emit('deregistered', registration);
    return registration;
  }

  /** Removes every registration past its expiry (`expired` each) and returns them. */
  expire(): Registration[] {
    const now = this.clock.now();
    if (now < this.earliestExpiry) return [];
    const expired: Registration[] = [];
    let earliest = Infinity;
    for (const r of this.byIdMap.values()) {
      if (r.expiresAt <= now) expired.push(r);
      else earliest = Math.min(earliest, r.expiresAt);
    }
    this.earliestExpiry = earliest;
    for (const r of expired) {
      this.remove(r);
      this.emit('expired', r);
    }
    return expired;
  }

  private expiry(now: number, lifetimeSeconds: number): number {
    return now + lifetimeSeconds * 1000 + this.graceMs;
  }

  private put(r: Registration): void {
    this.byIdMap.set(r.id, r);
    this.byEndpointMap.set(r.endpoint, r);
    this.byAddressMap.set(formatPeer(r.address), r);
    this.earliestExpiry = Math.min(this.earliestExpiry, r.expiresAt);
  }

  private remove(r: Registration): void {
    this.byIdMap.delete(r.id);
    if (this.byEndpointMap.get(r.endpoint)?.id === r.id) this.byEndpointMap.delete(r.endpoint);
    const key = formatPeer(r.address);
    if (this.byAddressMap.get(key)?.id === r.id) this.byAddressMap.delete(key);
  }
}
