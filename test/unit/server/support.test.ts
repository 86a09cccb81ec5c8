import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../../src/core/coap/message';
import { OptionNumber as Opt, encodeBlock, stringOptions, uintOption } from '../../../src/core/coap/options';
import { TypedEmitter } from '../../../src/core/server/events';
import { SerialQueue } from '../../../src/core/server/serialQueue';
import { TrafficLog, formatTrafficEntry } from '../../../src/core/server/traffic';

interface TestEvents {
  ping: (n: number) => void;
  pair: (a: string, b: boolean) => void;
}

class Emitter extends TypedEmitter<TestEvents> {
  fire<K extends keyof TestEvents>(event: K, ...args: Parameters<TestEvents[K]>): void {
    this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in order; dispose and once remove them', () => {
    const e = new Emitter();
    const seen: string[] = [];
    const sub = e.on('ping', (n) => seen.push(`a${n}`));
    e.once('ping', (n) => seen.push(`once${n}`));
    e.on('pair', (a, b) => seen.push(`${a}${b}`));
    e.fire('ping', 1);
    e.fire('ping', 2);
    sub.dispose();
    e.fire('ping', 3);
    e.fire('pair', 'x', true);
    assert.deepEqual(seen, ['a1', 'once1', 'a2', 'xtrue']);
    assert.equal(e.listenerCount('ping'), 0);
  });

  it('keeps calling the other listeners when one throws, handing the error to the sink', () => {
    const errors: [unknown, PropertyKey][] = [];
    const e = new Emitter((err, event) => errors.push([err, event]));
    const seen: number[] = [];
    e.on('ping', () => {
      throw new Error('listener bug');
    });
    e.on('ping', (n) => seen.push(n));
    assert.doesNotThrow(() => e.fire('ping', 7));
    assert.deepEqual(seen, [7]);
    assert.equal(errors.length, 1);
    assert.equal((errors[0]![0] as Error).message, 'listener bug');
    assert.equal(errors[0]![1], 'ping');
  });
});

describe('SerialQueue', () => {
  it('runs tasks of one key one at a time, other keys in parallel, failures isolated', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = q.run('a', task('a1', 20, true));
    const a2 = q.run('a', task('a2', 1));
    const b1 = q.run('b', task('b1', 1));
    await assert.rejects(a1, /a1/);
    assert.equal(await a2, 'a2');
    assert.equal(await b1, 'b1');
    assert.ok(log.indexOf('end a1') < log.indexOf('start a2'));
    assert.ok(log.indexOf('start b1') < log.indexOf('end a1'));
  });
});

describe('TrafficLog', () => {
  const message = (mid: number) => ({
    type: 'CON' as const,
    code: 0x02,
    mid,
    token: Buffer.from([0xab]),
    options: [
      ...stringOptions(Opt.UriPath, ['rd']),
      uintOption(Opt.ContentFormat, 40),
      ...stringOptions(Opt.UriQuery, ['ep=dev1']),
      { number: Opt.Block1, value: encodeBlock({ num: 2, more: true, szx: 6 }) },
    ],
    payload: Buffer.from('</3/0>'),
  });
  const peer = { address: '127.0.0.1', port: 5683 };

  it('keeps the last `capacity` entries in order', () => {
    const log = new TrafficLog(3);
    for (let mid = 1; mid <= 5; mid++) log.addMessage({ time: mid, direction: 'in', peer, message: message(mid), size: 30 });
    assert.equal(log.size, 3);
    assert.deepEqual(
      log.entries().map((e) => (e.kind === 'message' ? e.mid : -1)),
      [3, 4, 5],
    );
    log.clear();
    assert.deepEqual(log.entries(), []);
    assert.throws(() => new TrafficLog(0), RangeError);
  });

  it('formats entries for people', () => {
    const log = new TrafficLog();
    const entry = log.addMessage({ time: 0, direction: 'in', peer, message: message(7), size: 40, duplicate: true });
    assert.equal(
      formatTrafficEntry(entry),
      '← 127.0.0.1:5683 CON 0.02 mid=7 token=ab Uri-Path=rd Content-Format=40 Uri-Query=ep=dev1 Block1=2/1/1024 (6 B payload) duplicate',
    );
    const out = log.addMessage({
      time: 0,
      direction: 'out',
      peer: { address: '::1', port: 1 },
      message: { type: 'ACK', code: Code.Content, mid: 7, token: Buffer.alloc(0), options: [{ number: Opt.ETag, value: Buffer.from([0, 1]) }], payload: Buffer.alloc(0) },
      size: 8,
    });
    assert.equal(formatTrafficEntry(out), '→ [::1]:1 ACK 2.05 mid=7 token= ETag=0x0001');
    const bad = log.addMalformed({ time: 0, peer, bytes: Buffer.from([0x40]), reason: 'too short' });
    assert.equal(formatTrafficEntry(bad), '← 127.0.0.1:5683 malformed (1 B): too short');
  });
});
