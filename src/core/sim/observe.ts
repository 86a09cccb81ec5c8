/**
 * Observations held by a simulated client — the observee side of RFC 7641 with the LwM2M
 * notification attributes (lwm2m-protocol.md §2, §6.4, §14.3):
 *
 * - a notification is due when the observed value changed (any change without gt/lt/st; for a
 *   numeric resource with gt/lt/st: a crossing of gt or lt, or a change of at least st since
 *   the last notification; `edge` for booleans), but never sooner than pmin after the previous
 *   one; pmax forces one (pmax < pmin is ignored);
 * - epmin: changes are evaluated at most every epmin seconds; epmax: at least every epmax;
 * - sequence numbers increase per observation (24 bits); CON or NON per `con`, the client
 *   default, and at least one CON every 24 hours;
 * - an RST answering a notification (CON or NON), a CON notification that times out, a GET with
 *   Observe=1, the deletion of the observed instance (a final 4.04 notification) and
 *   de-registration end the observation;
 * - while a queue-mode client sleeps, due notifications are held (the latest state) and sent
 *   when it wakes.
 */

import type { Clock } from '../coap/clock';
import { Code } from '../coap/message';
import { OptionNumber, uintOption } from '../coap/options';
import type { Peer } from '../coap/peer';
import type { OutgoingResponse } from '../coap/transport';
import { formatValue, type Lwm2mRecord } from '../node';
import type { Lwm2mPath } from '../path';
import type { Attributes } from './attributes';
import type { ObservationEndReason } from './events';
import { SimError } from './tree';

/** How often a CON notification must be sent at least (RFC 7641 §4.5). */
const CON_AT_LEAST_EVERY_MS = 24 * 3600 * 1000;

/** What the observation manager needs from its client. */
export interface ObservationHost {
  clock: Clock;
  /** Current records of the observed paths; throws SimError (4.04 when gone). */
  read(paths: readonly Lwm2mPath[], composite: boolean): Lwm2mRecord[];
  /** Encodes a notification payload. */
  encode(format: number, records: Lwm2mRecord[], paths: readonly Lwm2mPath[], composite: boolean): Uint8Array;
  /** Effective attributes of an observed path (Server defaults included). */
  attributes(path: Lwm2mPath | undefined): Attributes;
  /** False while a queue-mode client sleeps. */
  canSend(): boolean;
  /** Default for notifications without `con`: CON (true) or NON. */
  confirmable: boolean;
  /** Sends a notification; `onReset` is called when the observer answers a NON one with RST. */
  notify(peer: Peer, token: Buffer, response: OutgoingResponse, confirmable: boolean, onReset: () => void): Promise<void>;
  onNotified(o: SimObservation, sequence: number | undefined, confirmable: boolean, code: number): void;
  onEnded(o: SimObservation, reason: ObservationEndReason): void;
  onError(operation: string, err: Error): void;
}

/** One observation: (peer, token) → paths. */
export class SimObservation {
  sequence: number;
  lastNotifyAt = 0;
  lastEvalAt = 0;
  lastSnapshot = '';
  lastNumber: number | undefined;
  lastBoolean: boolean | undefined;
  pminTimer: unknown;
  pmaxTimer: unknown;
  epminTimer: unknown;
  epmaxTimer: unknown;
  /** A notification became due while the client slept. */
  deferred = false;
  ended = false;

  constructor(
    readonly key: string,
    readonly peer: Peer,
    readonly token: Buffer,
    readonly paths: readonly Lwm2mPath[],
    readonly composite: boolean,
    readonly format: number,
    /** LwM2M 1.2 attributes sent with the Observe request (override the written ones). */
    readonly requestAttributes: Attributes,
    sequence: number,
  ) {
    this.sequence = sequence;
  }

  /** `/3303/0/5700`, or the paths joined with `,` for an Observe-Composite. */
  get label(): string {
    return this.composite ? this.paths.map(String).join(',') : this.paths[0]!.toString();
  }

  get tokenHex(): string {
    return this.token.toString('hex');
  }
}

function snapshot(records: readonly Lwm2mRecord[]): string {
  return records.map((r) => `${r.path.toString()}=${r.type}:${formatValue(r.value)}`).join('\n');
}

function overlaps(a: Lwm2mPath, b: Lwm2mPath): boolean {
  return a.contains(b) || b.contains(a);
}

export function observationKey(peer: Peer, token: Buffer): string {
  return `${peer.address}|${peer.port}|${token.toString('hex')}`;
}

export class ObservationManager {
  private readonly all = new Map<string, SimObservation>();
  private nextSequence = 1;
  private lastConAt: number;

  constructor(private readonly host: ObservationHost) {
    this.lastConAt = host.clock.now();
  }

  list(): SimObservation[] {
    return [...this.all.values()];
  }

  get(peer: Peer, token: Buffer): SimObservation | undefined {
    return this.all.get(observationKey(peer, token));
  }

  /**
   * Starts (or refreshes, same peer and token) an observation and returns the records and the
   * Observe sequence number of the initial response. Throws SimError when the paths cannot be read.
   */
  start(peer: Peer, token: Buffer, paths: readonly Lwm2mPath[], composite: boolean, format: number, requestAttributes: Attributes = {}): { records: Lwm2mRecord[]; sequence: number; observation: SimObservation } {
    const records = this.host.read(paths, composite);
    const key = observationKey(peer, token);
    const previous = this.all.get(key);
    if (previous) this.clearTimers(previous);
    const o = new SimObservation(key, peer, Buffer.from(token), paths, composite, format, requestAttributes, previous ? previous.sequence + 1 : this.nextSequence++);
    o.sequence &= 0xffffff;
    const now = this.host.clock.now();
    o.lastNotifyAt = now;
    o.lastEvalAt = now;
    this.remember(o, records);
    this.all.set(key, o);
    this.armPeriodic(o);
    return { records, sequence: o.sequence, observation: o };
  }

  /** Ends one observation (no message is sent). */
  end(o: SimObservation, reason: ObservationEndReason): void {
    if (o.ended) return;
    o.ended = true;
    this.clearTimers(o);
    if (this.all.get(o.key) === o) this.all.delete(o.key);
    this.host.onEnded(o, reason);
  }

  /** Ends every observation. */
  endAll(reason: ObservationEndReason): void {
    for (const o of [...this.all.values()]) this.end(o, reason);
  }

  /** A value below or above some observed path changed. */
  changed(path: Lwm2mPath): void {
    for (const o of [...this.all.values()]) if (o.paths.some((p) => overlaps(p, path))) this.evaluate(o);
  }

  /** Attributes changed somewhere: re-arm pmax/epmax timers of the observations concerned. */
  attributesChanged(path: Lwm2mPath): void {
    for (const o of [...this.all.values()]) if (o.composite || o.paths.some((p) => overlaps(p, path))) this.armPeriodic(o);
  }

  /** Sends what became due while the client slept. */
  flush(): void {
    for (const o of [...this.all.values()]) {
      if (o.deferred) {
        o.deferred = false;
        this.notifyNow(o);
      }
    }
  }

  private attributes(o: SimObservation): Attributes {
    return { ...this.host.attributes(o.composite ? undefined : o.paths[0]), ...o.requestAttributes };
  }

  private evaluate(o: SimObservation): void {
    if (o.ended) return;
    const attrs = this.attributes(o);
    const now = this.host.clock.now();
    if (attrs.epmin && now - o.lastEvalAt < attrs.epmin * 1000) {
      o.epminTimer ??= this.host.clock.setTimeout(() => {
        o.epminTimer = undefined;
        this.evaluate(o);
      }, o.lastEvalAt + attrs.epmin * 1000 - now);
      return;
    }
    o.lastEvalAt = now;
    let records: Lwm2mRecord[];
    try {
      records = this.host.read(o.paths, o.composite);
    } catch (err) {
      this.fail(o, err as Error);
      return;
    }
    if (this.conditionMet(o, records, attrs)) this.schedule(o, attrs);
  }

  private conditionMet(o: SimObservation, records: readonly Lwm2mRecord[], attrs: Attributes): boolean {
    const single = !o.composite && records.length === 1 && o.paths[0]!.length >= 3 ? records[0]! : undefined;
    if (single && typeof single.value === 'number' && (attrs.gt !== undefined || attrs.lt !== undefined || attrs.st !== undefined)) {
      const cur = single.value;
      const last = o.lastNumber;
      if (last === undefined) return true;
      const gt = attrs.gt !== undefined && (last > attrs.gt) !== (cur > attrs.gt);
      const lt = attrs.lt !== undefined && (last < attrs.lt) !== (cur < attrs.lt);
      const st = attrs.st !== undefined && Math.abs(cur - last) >= attrs.st;
      return gt || lt || st;
    }
    if (single && typeof single.value === 'boolean' && attrs.edge !== undefined) {
      const last = o.lastBoolean;
      return attrs.edge === 1 ? last === false && single.value : last === true && !single.value;
    }
    return snapshot(records) !== o.lastSnapshot;
  }

  private schedule(o: SimObservation, attrs: Attributes): void {
    if (o.pminTimer !== undefined) return;
    const now = this.host.clock.now();
    const due = o.lastNotifyAt + (attrs.pmin ?? 0) * 1000;
    if (due <= now) {
      this.notifyNow(o);
      return;
    }
    o.pminTimer = this.host.clock.setTimeout(() => {
      o.pminTimer = undefined;
      this.notifyNow(o);
    }, due - now);
  }

  private notifyNow(o: SimObservation): void {
    if (o.ended) return;
    if (!this.host.canSend()) {
      o.deferred = true;
      return;
    }
    let records: Lwm2mRecord[];
    try {
      records = this.host.read(o.paths, o.composite);
    } catch (err) {
      this.fail(o, err as Error);
      return;
    }
    let payload: Uint8Array;
    try {
      payload = this.host.encode(o.format, records, o.paths, o.composite);
    } catch (err) {
      this.host.onError('notify', err as Error);
      this.sendFinal(o, Code.InternalServerError, (err as Error).message);
      return;
    }
    const attrs = this.attributes(o);
    const now = this.host.clock.now();
    const confirmable = attrs.con !== undefined ? attrs.con === 1 : this.host.confirmable || now - this.lastConAt >= CON_AT_LEAST_EVERY_MS;
    if (confirmable) this.lastConAt = now;
    o.sequence = (o.sequence + 1) & 0xffffff;
    o.lastNotifyAt = now;
    this.remember(o, records);
    const response: OutgoingResponse = { code: Code.Content, options: [uintOption(OptionNumber.Observe, o.sequence)], contentFormat: o.format, payload };
    this.send(o, response, confirmable);
    this.host.onNotified(o, o.sequence, confirmable, Code.Content);
    this.armPeriodic(o);
  }

  private send(o: SimObservation, response: OutgoingResponse, confirmable: boolean): void {
    this.host.notify(o.peer, o.token, response, confirmable, () => this.end(o, 'rst')).then(
      () => undefined,
      (err: Error) => {
        if (err.name === 'ResetError') this.end(o, 'rst');
        else if (err.name === 'TimeoutError') this.end(o, 'timeout');
        else if (err.name !== 'TransportClosedError') this.host.onError('notify', err);
      },
    );
  }

  /** The observed node is gone (4.04) or unreadable: a final notification without Observe ends it. */
  private fail(o: SimObservation, err: Error): void {
    const code = err instanceof SimError ? err.code : Code.InternalServerError;
    if (!(err instanceof SimError)) this.host.onError('notify', err);
    this.sendFinal(o, code, err.message);
  }

  private sendFinal(o: SimObservation, code: number, message: string): void {
    if (this.host.canSend()) {
      this.send(o, { code, payload: Buffer.from(message) }, this.host.confirmable);
      this.host.onNotified(o, undefined, this.host.confirmable, code);
    }
    this.end(o, code === Code.NotFound ? 'deleted' : 'cancelled');
  }

  private remember(o: SimObservation, records: readonly Lwm2mRecord[]): void {
    o.lastSnapshot = snapshot(records);
    const single = records.length === 1 ? records[0]!.value : undefined;
    o.lastNumber = typeof single === 'number' ? single : undefined;
    o.lastBoolean = typeof single === 'boolean' ? single : undefined;
  }

  /** (Re)arms the pmax and epmax timers from the current attributes. */
  private armPeriodic(o: SimObservation): void {
    const clock = this.host.clock;
    clock.clearTimeout(o.pmaxTimer);
    clock.clearTimeout(o.epmaxTimer);
    o.pmaxTimer = o.epmaxTimer = undefined;
    if (o.ended) return;
    const attrs = this.attributes(o);
    const pmin = attrs.pmin ?? 0;
    if (attrs.pmax !== undefined && attrs.pmax > 0 && attrs.pmax >= pmin) {
      const wait = Math.max(0, o.lastNotifyAt + attrs.pmax * 1000 - clock.now());
      o.pmaxTimer = clock.setTimeout(() => {
        o.pmaxTimer = undefined;
        this.notifyNow(o);
      }, wait);
    }
    if (attrs.epmax !== undefined && attrs.epmax > 0) {
      o.epmaxTimer = clock.setTimeout(() => {
        o.epmaxTimer = undefined;
        this.evaluate(o);
        this.armPeriodic(o);
      }, attrs.epmax * 1000);
    }
  }

  private clearTimers(o: SimObservation): void {
    const clock = this.host.clock;
    for (const t of [o.pminTimer, o.pmaxTimer, o.epminTimer, o.epmaxTimer]) if (t !== undefined) clock.clearTimeout(t);
    o.pminTimer = o.pmaxTimer = o.epminTimer = o.epmaxTimer = undefined;
  }
}
