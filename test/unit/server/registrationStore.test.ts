import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegister, parseUpdate, type Registration } from '../../../src/core/server/registration';
import { RegistrationStore } from '../../../src/core/server/registrationStore';
import { FakeClock } from '../coap/helpers';

const A = { address: '10.0.0.1', port: 5683 };
const B = { address: '10.0.0.2', port: 40000 };

function register(store: RegistrationStore, ep: string, address = A, lt = 60): Registration {
  return store.register(parseRegister([`ep=${ep}`, `lt=${lt}`], Buffer.from('</3/0>'), 40), address);
}

function recorder(store: RegistrationStore): string[] {
  const log: string[] = [];
  store.on('registered', (r) => log.push(`registered ${r.endpoint} ${r.id}`));
  store.on('updated', (r, p) => log.push(`updated ${r.endpoint} ${p.lifetime}->${r.lifetime}`));
  store.on('deregistered', (r) => log.push(`deregistered ${r.endpoint}`));
  store.on('expired', (r) => log.push(`expired ${r.endpoint}`));
  store.on('replaced', (p, r) => log.push(`replaced ${p.id} by ${r.id}`));
  return log;
}

function ids(): () => string {
  let n = 0;
  return () => `r${++n}`;
}

describe('RegistrationStore', () => {
  it('indexes registrations by id, endpoint and address', () => {
    const store = new RegistrationStore({ clock: new FakeClock(), newId: ids() });
    const r = register(store, 'dev1');
    assert.equal(r.id, 'r1');
    assert.equal(store.get('r1'), r);
    assert.equal(store.byEndpoint('dev1'), r);
    assert.equal(store.byAddress({ ...A }), r);
    assert.equal(store.byAddress(B), undefined);
    assert.equal(store.size, 1);
  });

  it('updates lifetime, binding, objects and address, keeping the id', () => {
    const clock = new FakeClock();
    const store = new RegistrationStore({ clock, newId: ids(), graceMs: 0 });
    const log = recorder(store);
    const r = register(store, 'dev1');
    clock.advance(5000);
    const u = store.update(r.id, parseUpdate(['lt=120'], Buffer.from('</3/0>,</5/0>'), 40), B)!;
    assert.equal(u.id, r.id);
    assert.equal(u.lifetime, 120);
    assert.deepEqual(u.address, B);
    assert.deepEqual(
      u.objects.map((o) => o.id),
      [3, 5],
    );
    assert.equal(u.registeredAt, r.registeredAt);
    assert.equal(u.lastUpdate, clock.now());
    assert.equal(u.expiresAt, clock.now() + 120_000);
    assert.equal(store.byAddress(A), undefined, 'the old address is unindexed');
    assert.equal(store.byAddress(B), u);
    assert.equal(store.update('nope', parseUpdate([], Buffer.alloc(0), undefined), A), undefined);
    assert.deepEqual(log, ['registered dev1 r1', 'updated dev1 60->120']);
  });

  it('replaces the registration of an endpoint that registers again', () => {
    const store = new RegistrationStore({ clock: new FakeClock(), newId: ids() });
    const log = recorder(store);
    register(store, 'dev1');
    const second = register(store, 'dev1', B);
    assert.equal(store.size, 1);
    assert.equal(store.get('r1'), undefined);
    assert.equal(store.byEndpoint('dev1'), second);
    assert.equal(store.byAddress(A), undefined);
    assert.deepEqual(log, ['registered dev1 r1', 'replaced r1 by r2', 'registered dev1 r2']);
  });

  it('deregisters', () => {
    const store = new RegistrationStore({ clock: new FakeClock(), newId: ids() });
    const log = recorder(store);
    register(store, 'dev1');
    assert.equal(store.deregister('r1')?.endpoint, 'dev1');
    assert.equal(store.deregister('r1'), undefined);
    assert.equal(store.byEndpoint('dev1'), undefined);
    assert.equal(store.byAddress(A), undefined);
    assert.deepEqual(log, ['registered dev1 r1', 'deregistered dev1']);
  });

  it('expires registrations after lifetime + grace, and Updates postpone it', () => {
    const clock = new FakeClock();
    const store = new RegistrationStore({ clock, newId: ids(), graceMs: 2000 });
    const log = recorder(store);
    register(store, 'short', A, 60);
    register(store, 'long', B, 3600);
    clock.advance(61_999);
    assert.deepEqual(store.expire(), []);
    store.update('r1', parseUpdate([], Buffer.alloc(0), undefined), A);
    clock.advance(61_999);
    assert.deepEqual(store.expire(), []);
    clock.advance(1);
    assert.deepEqual(
      store.expire().map((r) => r.endpoint),
      ['short'],
    );
    assert.equal(store.size, 1);
    assert.ok(log.includes('expired short'));
  });

  it('handles 10 000 clients cheaply', () => {
    const clock = new FakeClock();
    const store = new RegistrationStore({ clock });
    const params = (i: number) => parseRegister([`ep=dev${i}`, 'lt=300'], Buffer.from('</1/0>,</3/0>'), 40);
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) store.register(params(i), { address: '10.1.0.1', port: 10_000 + i });
    for (let i = 0; i < 10_000; i++) store.update(store.byEndpoint(`dev${i}`)!.id, { extraParams: {} }, { address: '10.1.0.1', port: 10_000 + i });
    for (let i = 0; i < 1000; i++) store.expire();
    const elapsed = performance.now() - t0;
    assert.equal(store.size, 10_000);
    assert.equal(store.byAddress({ address: '10.1.0.1', port: 15_000 })?.endpoint, 'dev5000');
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
    clock.advance(311_000);
    assert.equal(store.expire().length, 10_000);
  });
});
