import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerQueue, type QueuedTimer } from '../../../src/core/coap/timerQueue';
import { FakeClock } from './helpers';

interface T extends QueuedTimer {
  name: string;
}

const timer = (name: string): T => ({ name, dueAt: 0, heapIndex: -1 });

describe('TimerQueue', () => {
  it('fires each timer at its due time, in due-time order, on one clock timer', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const q = new TimerQueue<T>(clock, (t) => fired.push(`${t.name}@${clock.now()}`));
    q.add(timer('c'), 3000);
    q.add(timer('a'), 1000);
    q.add(timer('b'), 2000);
    assert.equal(clock.pending, 1);
    clock.advance(999);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ['a@1000']);
    clock.advance(5000);
    assert.deepEqual(fired, ['a@1000', 'b@2000', 'c@3000']);
    assert.equal(q.size, 0);
    assert.equal(clock.pending, 0, 'nothing armed when empty');
  });

  it('removes timers, reschedules them, and re-arms for an earlier one', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const q = new TimerQueue<T>(clock, (t) => fired.push(t.name));
    const a = timer('a');
    const b = timer('b');
    q.add(a, 1000);
    q.add(b, 2000);
    q.remove(a);
    q.remove(a);
    assert.equal(a.heapIndex, -1);
    clock.advance(1000);
    assert.deepEqual(fired, [], 'the early wake-up finds nothing due');
    q.add(a, 1500);
    q.add(b, 1200);
    clock.advance(300);
    assert.deepEqual(fired, ['b']);
    clock.advance(10_000);
    assert.deepEqual(fired, ['b', 'a']);
    q.add(a, 20_000);
    q.clear();
    assert.equal(clock.pending, 0);
    clock.advance(20_000);
    assert.deepEqual(fired, ['b', 'a']);
  });

  it('lets a firing timer schedule others (and itself) again', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const t = timer('t');
    const q: TimerQueue<T> = new TimerQueue<T>(clock, (x) => {
      fired.push(clock.now());
      if (fired.length < 4) q.add(x, clock.now() + 100);
    });
    q.add(t, 100);
    clock.advance(1000);
    assert.deepEqual(fired, [100, 200, 300, 400]);
  });

  it('keeps heap order under random adds and removes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { minLength: 1, maxLength: 60 }), (ops) => {
        const clock = new FakeClock(0);
        const fired: number[] = [];
        const q = new TimerQueue<T>(clock, (t) => fired.push(t.dueAt));
        const live: T[] = [];
        ops.forEach(([due, removeOne], i) => {
          const t = timer(String(i));
          q.add(t, due);
          live.push(t);
          if (removeOne && live.length > 1) q.remove(live.splice(due % live.length, 1)[0]!);
        });
        clock.advance(2000);
        assert.deepEqual(fired, live.map((t) => t.dueAt).sort((x, y) => x - y));
      }),
    );
  });
});
