/**
 * Downlink requests per client: one outstanding request at a time (NSTART = 1,
 * lwm2m-protocol.md §1.7, §19.8), and for queue-mode clients none while the client sleeps
 * (§7.7): entries wait for the next uplink, are listed, can be cancelled, and expire.
 */

import type { Clock } from '../coap/clock';
import { QueueTimeoutError, RequestCancelledError } from './errors';

/** What the queue shows about a request. */
export interface QueuedRequestInfo {
  /** Unique per server. */
  readonly id: number;
  readonly endpoint: string;
  /** `read`, `write`, … (`request` for the low-level API). */
  readonly operation: string;
  /** CoAP method name. */
  readonly method: string;
  /** Target path (`/` for composite operations). */
  readonly path: string;
  readonly enqueuedAt: number;
  /** When the request gives up waiting (undefined: never). */
  readonly expiresAt: number | undefined;
  /** `waiting` in the queue, or `sending` (on the wire, awaiting the answer). */
  readonly state: 'waiting' | 'sending';
}

/** What a request is, for listings (the path is turned into text only when listed). */
export interface QueuedWhat {
  operation: string;
  method: string;
  path: string | { toString(): string };
}

interface Entry {
  id: number;
  what: QueuedWhat;
  enqueuedAt: number;
  expiresAt: number | undefined;
  state: 'waiting' | 'sending';
  run: () => Promise<unknown>;
  /** Set for an entry that had to wait (its promise is made then). */
  resolve: ((v: unknown) => void) | undefined;
  reject: ((e: Error) => void) | undefined;
  timer: unknown;
}

function infoOf(endpoint: string, e: Entry): QueuedRequestInfo {
  return { id: e.id, endpoint, operation: e.what.operation, method: e.what.method, path: String(e.what.path), enqueuedAt: e.enqueuedAt, expiresAt: e.expiresAt, state: e.state };
}

interface ClientLane {
  waiting: Entry[];
  running: Entry | undefined;
}

export interface DownlinkQueueHooks {
  /** May requests to this client be sent now? (false while a queue-mode client sleeps) */
  canSend(endpoint: string): boolean;
  /** An entry had to wait for a sleeping client. */
  onQueued?(info: QueuedRequestInfo): void;
  /** An entry expired while waiting. */
  onExpired?(info: QueuedRequestInfo): void;
}

export class DownlinkQueue {
  private readonly lanes = new Map<string, ClientLane>();
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly hooks: DownlinkQueueHooks,
  ) {}

  /**
   * Runs `run` when every earlier request to `endpoint` has settled and the client can be
   * reached. A request still waiting after `ttlMs` rejects with QueueTimeoutError.
   */
  enqueue<T>(endpoint: string, what: QueuedWhat, ttlMs: number | undefined, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new RequestCancelledError(`${what.operation} ${String(what.path)} to "${endpoint}" was cancelled before it was sent`));
    let lane = this.lanes.get(endpoint);
    if (!lane) {
      lane = { waiting: [], running: undefined };
      this.lanes.set(endpoint, lane);
    }
    const now = this.clock.now();
    const entry: Entry = {
      id: this.nextId++,
      what,
      enqueuedAt: now,
      expiresAt: ttlMs === undefined ? undefined : now + ttlMs,
      state: 'waiting',
      run,
      resolve: undefined,
      reject: undefined,
      timer: undefined,
    };
    if (!lane.running && lane.waiting.length === 0 && this.hooks.canSend(endpoint)) {
      // Nothing ahead and the client is reachable: send now, and hand back the request's own promise.
      return this.start(endpoint, lane, entry) as Promise<T>;
    }
    const promise = new Promise<T>((resolve, reject) => {
      entry.resolve = resolve as (v: unknown) => void;
      entry.reject = reject;
    });
    lane.waiting.push(entry);
    if (ttlMs !== undefined) entry.timer = this.clock.setTimeout(() => this.expire(endpoint, entry), ttlMs);
    if (this.hooks.onQueued && !this.hooks.canSend(endpoint)) this.hooks.onQueued(infoOf(endpoint, entry));
    if (signal) {
      // Cancelled while waiting: leave the queue now (once sent, the transport sees the same signal).
      const onAbort = (): void => void this.cancel(endpoint, entry.id);
      signal.addEventListener('abort', onAbort, { once: true });
      void promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    }
    this.pump(endpoint, lane);
    return promise;
  }

  /** Tries to start the next request of a client (call when it wakes up). */
  kick(endpoint: string): void {
    const lane = this.lanes.get(endpoint);
    if (lane) this.pump(endpoint, lane);
  }

  /** The requests of a client: the one being sent first, then the waiting ones in order. */
  list(endpoint: string): QueuedRequestInfo[] {
    const lane = this.lanes.get(endpoint);
    if (!lane) return [];
    return [...(lane.running ? [lane.running] : []), ...lane.waiting].map((e) => infoOf(endpoint, e));
  }

  /** Number of requests waiting (not yet sent) for a client. */
  waitingCount(endpoint: string): number {
    return this.lanes.get(endpoint)?.waiting.length ?? 0;
  }

  /** Cancels a waiting request (RequestCancelledError); false when it is unknown or already sent. */
  cancel(endpoint: string, id: number): boolean {
    const lane = this.lanes.get(endpoint);
    const i = lane ? lane.waiting.findIndex((e) => e.id === id) : -1;
    if (!lane || i < 0) return false;
    const [entry] = lane.waiting.splice(i, 1);
    this.clock.clearTimeout(entry!.timer);
    entry!.reject!(new RequestCancelledError(`${entry!.what.operation} ${String(entry!.what.path)} to "${endpoint}" was cancelled before it was sent`));
    this.cleanup(endpoint, lane);
    return true;
  }

  /**
   * Forgets a client's lane once nothing of it is waiting or on the wire (lanes of busy
   * clients are kept between requests: creating one per request was measurable).
   */
  forget(endpoint: string): void {
    const lane = this.lanes.get(endpoint);
    if (lane) this.cleanup(endpoint, lane);
  }

  /** Rejects every waiting request of a client with `error` (e.g. it de-registered); returns how many. */
  rejectAll(endpoint: string, error: () => Error): number {
    const lane = this.lanes.get(endpoint);
    if (!lane) return 0;
    const entries = lane.waiting.splice(0);
    for (const e of entries) {
      this.clock.clearTimeout(e.timer);
      e.reject!(error());
    }
    this.cleanup(endpoint, lane);
    return entries.length;
  }

  /** Rejects everything waiting, for every client (server stopping). */
  clear(error: () => Error): void {
    for (const endpoint of [...this.lanes.keys()]) this.rejectAll(endpoint, error);
  }

  private pump(endpoint: string, lane: ClientLane): void {
    if (lane.running || lane.waiting.length === 0 || !this.hooks.canSend(endpoint)) return;
    const entry = lane.waiting.shift()!;
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.start(endpoint, lane, entry).then(entry.resolve, entry.reject);
  }

  /** Runs an entry; the lane moves on when it settles. */
  private start(endpoint: string, lane: ClientLane, entry: Entry): Promise<unknown> {
    entry.state = 'sending';
    lane.running = entry;
    let result: Promise<unknown>;
    try {
      result = entry.run();
    } catch (err) {
      result = Promise.reject(err as Error);
    }
    const settled = this.settled.bind(this, endpoint, lane, entry);
    result.then(settled, settled);
    return result;
  }

  private settled(endpoint: string, lane: ClientLane, entry: Entry): void {
    if (lane.running === entry) lane.running = undefined;
    this.pump(endpoint, lane);
  }

  private expire(endpoint: string, entry: Entry): void {
    const lane = this.lanes.get(endpoint);
    const i = lane ? lane.waiting.indexOf(entry) : -1;
    if (!lane || i < 0) return;
    lane.waiting.splice(i, 1);
    const waited = this.clock.now() - entry.enqueuedAt;
    this.hooks.onExpired?.(infoOf(endpoint, entry));
    entry.reject!(new QueueTimeoutError(`${entry.what.operation} ${String(entry.what.path)} to "${endpoint}" waited ${waited} ms in the queue without the client showing up`, waited));
    this.cleanup(endpoint, lane);
  }

  private cleanup(endpoint: string, lane: ClientLane): void {
    if (!lane.running && lane.waiting.length === 0 && this.lanes.get(endpoint) === lane) this.lanes.delete(endpoint);
  }
}
