/** The observation engine and the attribute rules, with a hand-driven clock (no sockets). */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../../src/core/coap/message';
import { OptionNumber, getUintOption } from '../../../src/core/coap/options';
import type { OutgoingResponse } from '../../../src/core/coap/transport';
import { ContentFormat } from '../../../src/core/contentFormat';
import { createModelRegistry } from '../../../src/core/model/bundled';
import { Lwm2mPath } from '../../../src/core/path';
import { AttributeStore, formatAttributes, parseAttributeQuery } from '../../../src/core/sim/attributes';
import { initialObjects } from '../../../src/core/sim/objects';
import { ObservationManager, type SimObservation } from '../../../src/core/sim/observe';
import { ObjectTree, SimError } from '../../../src/core/sim/tree';
import { FakeClock } from '../coap/helpers';

const P = (t: string) => Lwm2mPath.parse(t);
const models = createModelRegistry();

function newTree(): ObjectTree {
  return new ObjectTree(models, initialObjects({ endpoint: 'e', serverUri: 'coap://127.0.0.1', bootstrap: false, lifetime: 60, binding: 'U', now: 1_700_000_000 }));
}

describe('sim attributes', () => {
  it('parses set and unset, accepts stp and negative thresholds, refuses the rest with 4.00', () => {
    assert.deepEqual(parseAttributeQuery(['pmin=1', 'pmax=60', 'gt=-3.5', 'stp=0.5', 'epmin']), { set: { pmin: 1, pmax: 60, gt: -3.5, st: 0.5 }, unset: ['epmin'] });
    for (const bad of [['dim=2'], ['pmin=-1'], ['pmin=1.5'], ['gt=abc'], ['con=2'], ['pmin=1', 'pmin=2'], []]) {
      assert.throws(() => parseAttributeQuery(bad), (e: unknown) => e instanceof SimError && e.code === Code.BadRequest, bad.join('&'));
    }
  });

  it('stores per path, checks the rules at one level and resolves the effective attributes top-down', () => {
    const store = new AttributeStore();
    store.write(P('/3303'), parseAttributeQuery(['pmin=5', 'pmax=100']), false);
    store.write(P('/3303/0'), parseAttributeQuery(['pmax=50']), false);
    store.write(P('/3303/0/5700'), parseAttributeQuery(['st=0.5', 'gt=30', 'lt=10']), true);
    assert.deepEqual(store.effective(P('/3303/0/5700'), { pmin: 1, pmax: 300 }), { pmin: 5, pmax: 50, st: 0.5, gt: 30, lt: 10 });
    assert.deepEqual(store.effective(P('/3303/1'), { pmax: 300 }), { pmin: 5, pmax: 100 });
    assert.equal(formatAttributes(store.at(P('/3303/0/5700'))), ';gt=30;lt=10;st=0.5');
    const bad = (path: string, q: string[], numeric: boolean) =>
      assert.throws(() => store.write(P(path), parseAttributeQuery(q), numeric), (e: unknown) => e instanceof SimError && e.code === Code.BadRequest, q.join('&'));
    bad('/3303/0', ['gt=1'], false); // gt above the resource level
    bad('/3/0/0', ['st=1'], false); // st on a string
    bad('/3303/0', ['pmin=60'], false); // pmin > pmax (50) at this level
    bad('/3303/0/5700', ['lt=31'], true); // lt >= gt
    bad('/3303/0/5700', ['st=10'], true); // lt + 2 st >= gt
    // A failed write changes nothing.
    assert.deepEqual(store.at(P('/3303/0')), { pmax: 50 });
    store.write(P('/3303/0'), parseAttributeQuery(['pmax']), false);
    assert.deepEqual(store.at(P('/3303/0')), {});
    store.clearBelow(P('/3303'));
    assert.deepEqual(store.effective(P('/3303/0/5700')), {});
  });
});

describe('sim object tree', () => {
  it('reads readable resources, refuses executables (4.05) and unknown paths (4.04)', () => {
    const tree = newTree();
    const device = tree.read(P('/3/0'));
    assert.ok(device.some((r) => r.path.toString() === '/3/0/6/1' && r.value === 5));
    assert.ok(!device.some((r) => r.path.toString() === '/3/0/4'));
    assert.throws(() => tree.read(P('/3/0/4')), (e: unknown) => e instanceof SimError && e.code === Code.MethodNotAllowed);
    assert.throws(() => tree.read(P('/3/1')), (e: unknown) => e instanceof SimError && e.code === Code.NotFound);
    assert.throws(() => tree.read(P('/9')), (e: unknown) => e instanceof SimError && e.code === Code.NotFound);
    // Security resources have no operations: only the bootstrap server (and the device) read them.
    assert.equal(tree.read(P('/0/0'), 'server').length, 0);
    assert.ok(tree.read(P('/0/0'), 'bootstrap').length > 0);
  });

  it('checks types and ranges on set, and reports changes', () => {
    const tree = newTree();
    const changed: string[] = [];
    tree.onChange((p) => changed.push(p.toString()));
    tree.set(P('/3311/0/5851'), 75);
    tree.set(P('/3311/0/5851'), 75);
    assert.deepEqual(changed, ['/3311/0/5851']);
    assert.throws(() => tree.set(P('/3311/0/5851'), 101), /maximum 100/);
    assert.throws(() => tree.set(P('/3311/0/5850'), 1), /boolean/);
    assert.throws(() => tree.set(P('/3/0/9'), 'full'), /integer/);
    tree.set(P('/3/0/7'), { 0: 3300, 3: 1200 });
    assert.deepEqual([...(tree.get(P('/3/0/7')) as Map<number, number>).entries()], [[0, 3300], [3, 1200]]);
  });
});

describe('observation engine', () => {
  let clock: FakeClock;
  let tree: ObjectTree;
  let store: AttributeStore;
  let sent: { seq: number | undefined; code: number; confirmable: boolean; value: string }[];
  let ended: string[];
  let awake: boolean;
  let manager: ObservationManager;
  let resets: (() => void)[];

  beforeEach(() => {
    clock = new FakeClock();
    tree = newTree();
    store = new AttributeStore();
    sent = [];
    ended = [];
    resets = [];
    awake = true;
    manager = new ObservationManager({
      clock,
      read: (paths) => tree.read(paths[0]!),
      encode: (_format, records) => Buffer.from(records.map((r) => String(r.value)).join(',')),
      attributes: (path) => store.effective(path ?? Lwm2mPath.ROOT, { pmax: 0 }),
      canSend: () => awake,
      confirmable: false,
      notify: (_peer, _token, res: OutgoingResponse, confirmable, onReset) => {
        resets.push(onReset);
        sent.push({ seq: getUintOption(res.options ?? [], OptionNumber.Observe), code: res.code, confirmable, value: Buffer.from(res.payload ?? []).toString() });
        return Promise.resolve();
      },
      onNotified: () => undefined,
      onEnded: (_o: SimObservation, reason) => ended.push(reason),
      onError: (op, err) => assert.fail(`${op}: ${err.message}`),
    });
    tree.onChange((p) => manager.changed(p));
  });

  const peer = { address: '127.0.0.1', port: 5683 };
  const observe = (path: string) => manager.start(peer, Buffer.from('01', 'hex'), [P(path)], false, ContentFormat.Text);
  const attrs = (path: string, q: string) => {
    store.write(P(path), parseAttributeQuery(q.split('&')), true);
    manager.attributesChanged(P(path));
  };

  it('notifies every change without attributes, with increasing sequence numbers', () => {
    const { sequence } = observe('/3303/0/5700');
    tree.set(P('/3303/0/5700'), 22);
    tree.set(P('/3303/0/5700'), 23);
    tree.set(P('/3303/0/5601'), 1); // another resource: not observed
    assert.deepEqual(sent.map((s) => s.value), ['22', '23']);
    assert.deepEqual(sent.map((s) => s.seq), [sequence + 1, sequence + 2]);
    assert.ok(sent.every((s) => s.code === Code.Content && !s.confirmable));
  });

  it('pmin holds changes back and then sends the latest value; pmax sends without changes', () => {
    attrs('/3303/0/5700', 'pmin=2&pmax=5');
    observe('/3303/0/5700');
    tree.set(P('/3303/0/5700'), 22);
    tree.set(P('/3303/0/5700'), 24);
    assert.equal(sent.length, 0);
    clock.advance(1999);
    assert.equal(sent.length, 0);
    clock.advance(1);
    assert.deepEqual(sent.map((s) => s.value), ['24']);
    clock.advance(4999);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.deepEqual(sent.map((s) => s.value), ['24', '24']);
    clock.advance(5000);
    assert.equal(sent.length, 3);
  });

  it('pmax below pmin is ignored', () => {
    attrs('/3303/0', 'pmax=3');
    attrs('/3303/0/5700', 'pmin=10');
    observe('/3303/0/5700');
    clock.advance(20_000);
    assert.equal(sent.length, 0);
  });

  it('gt and lt notify on crossings only; st on steps since the last notification', () => {
    attrs('/3303/0/5700', 'gt=30&lt=10');
    tree.set(P('/3303/0/5700'), 20);
    observe('/3303/0/5700');
    for (const v of [25, 29.9, 31, 35, 29, 15, 9, 5, 12]) tree.set(P('/3303/0/5700'), v);
    assert.deepEqual(sent.map((s) => s.value), ['31', '29', '9', '12']);
    sent.length = 0;
    attrs('/3303/0/5700', 'gt&lt&st=2');
    for (const v of [13, 13.9, 14.1, 15, 12.1, 12]) tree.set(P('/3303/0/5700'), v);
    assert.deepEqual(sent.map((s) => s.value), ['14.1', '12.1']);
  });

  it('epmin delays the evaluation of changes', () => {
    attrs('/3303/0/5700', 'epmin=3');
    observe('/3303/0/5700');
    tree.set(P('/3303/0/5700'), 30);
    assert.equal(sent.length, 0);
    clock.advance(3000);
    assert.deepEqual(sent.map((s) => s.value), ['30']);
  });

  it('con=1 sends CON; a RST to a NON notification ends the observation', () => {
    const { observation } = observe('/3311/0/5851');
    tree.set(P('/3311/0/5851'), 1);
    assert.equal(sent[0]!.confirmable, false);
    attrs('/3311/0/5851', 'con=1');
    tree.set(P('/3311/0/5851'), 2);
    assert.equal(sent[1]!.confirmable, true);
    resets[0]!();
    assert.deepEqual(ended, ['rst']);
    assert.equal(observation.ended, true);
    tree.set(P('/3311/0/5851'), 3);
    assert.equal(sent.length, 2);
  });

  it('holds notifications while asleep and sends the latest on flush', () => {
    observe('/3/0/9');
    awake = false;
    tree.set(P('/3/0/9'), 90);
    tree.set(P('/3/0/9'), 80);
    assert.equal(sent.length, 0);
    awake = true;
    manager.flush();
    assert.deepEqual(sent.map((s) => s.value), ['80']);
  });

  it('sends a final 4.04 without Observe when the observed instance is deleted', () => {
    observe('/3303/0');
    tree.deleteInstance(3303, 0);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.code, Code.NotFound);
    assert.equal(sent[0]!.seq, undefined);
    assert.deepEqual(ended, ['deleted']);
  });

  it('refreshing with the same token keeps one observation', () => {
    observe('/3/0/9');
    observe('/3/0/9');
    assert.equal(manager.list().length, 1);
    manager.endAll('stopped');
    assert.deepEqual(ended, ['stopped']);
    assert.equal(clock.pending, 0, 'no timer left');
  });
});
