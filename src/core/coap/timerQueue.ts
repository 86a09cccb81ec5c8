/**
 * Many timers on one clock timer: a binary min-heap of due times. Each request of a busy
 * transport needs a retransmission/deadline timer that is almost always cancelled within
 * milliseconds; a Node timer per request (allocation, list insertion, a closure) was a
 * measurable part of a round trip, this is two heap operations on the request's own object.
 *
 * The clock timer is armed for the earliest due time. Removing that entry does not re-arm it:
 * the timer fires early, finds nothing due, and re-arms for the new earliest (at most one
 * wasted wake-up per removal of the head, instead of a clear and a set per request). An
 * entry added before the armed time re-arms it. Due entries fire in due-time order, at the
 * exact time asked for (tests drive this with a fake clock).
 */

import type { Clock } from './clock';

/** What the queue stores; `heapIndex` is the queue's business (-1 when not queued). */
export interface QueuedTimer {
  dueAt: number;
  heapIndex: number;
}

export class TimerQueue<T extends QueuedTimer> {
  private readonly heap: T[] = [];
  private armedAt = Infinity;
  private handle: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: T) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `timer` at `dueAt` (replacing an earlier schedule of the same timer). */
  add(timer: T, dueAt: number): void {
    if (timer.heapIndex >= 0) this.remove(timer);
    timer.dueAt = dueAt;
    timer.heapIndex = this.heap.length;
    this.heap.push(timer);
    this.up(timer.heapIndex);
    if (dueAt < this.armedAt) this.arm(dueAt);
  }

  /** Unschedules `timer`; no-op when it is not scheduled. */
  remove(timer: T): void {
    const i = timer.heapIndex;
    if (i < 0) return;
    timer.heapIndex = -1;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Drops every timer. */
  clear(): void {
    for (const t of this.heap) t.heapIndex = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(at: number): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.armedAt = at;
    this.handle = this.clock.setTimeout(() => this.run(), Math.max(0, at - this.clock.now()));
  }

  private disarm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  private run(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) {
      const t = this.heap[0]!;
      this.remove(t);
      this.fire(t);
    }
    if (this.heap.length > 0 && this.handle === undefined) this.arm(this.heap[0]!.dueAt);
  }

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.dueAt <= t.dueAt) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = t;
    t.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.dueAt < heap[l]!.dueAt ? r : l;
      const child = heap[c]!;
      if (child.dueAt >= t.dueAt) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = t;
    t.heapIndex = i;
  }
}
