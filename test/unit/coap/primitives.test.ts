import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiringLru } from '../../../src/core/coap/lru';
import { isNewerNotification } from '../../../src/core/coap/observe';
import { canonicalAddress, formatPeer, socketAddress } from '../../../src/core/coap/peer';

describe('ExpiringLru', () => {
  it('is bounded by count, evicting the least recently used entry', () => {
    const now = 0;
    const lru = new ExpiringLru<string, number>(3, () => now);
    lru.set('a', 1, 1000);
    lru.set('b', 2, 1000);
    lru.set('c', 3, 1000);
    assert.equal(lru.get('a'), 1, 'a becomes most recently used');
    lru.set('d', 4, 1000);
    assert.equal(lru.size, 3);
    assert.equal(lru.get('b'), undefined, 'b was least recently used');
    assert.deepEqual(['a', 'c', 'd'].map((k) => lru.get(k)), [1, 3, 4]);
  });

  it('expires entries after their lifetime', () => {
    let now = 0;
    const lru = new ExpiringLru<string, number>(100, () => now);
    lru.set('short', 1, 10);
    lru.set('long', 2, 1000);
    now = 10;
    assert.equal(lru.get('short'), undefined);
    assert.equal(lru.get('long'), 2);
    now = 2000;
    lru.set('new', 3, 10);
    assert.equal(lru.size, 1, 'expired entries are pruned on insert');
  });

  it('stays at its capacity under a flood of keys', () => {
    const lru = new ExpiringLru<number, number>(1000, () => 0);
    for (let i = 0; i < 100_000; i++) lru.set(i, i, 247_000);
    assert.equal(lru.size, 1000);
    assert.equal(lru.get(99_999), 99_999);
    assert.equal(lru.get(0), undefined);
  });
});

describe('Observe ordering rule (RFC 7641 §3.4)', () => {
  const T = 1_000_000;
  it('accepts larger sequence numbers within half the space', () => {
    assert.equal(isNewerNotification(5, T, 6, T), true);
    assert.equal(isNewerNotification(5, T, 5, T), false, 'a duplicate is not newer');
    assert.equal(isNewerNotification(6, T, 5, T), false, 'reordered');
    assert.equal(isNewerNotification(0, T, (1 << 23) - 1, T), true);
    assert.equal(isNewerNotification(0, T, 1 << 23, T), false, 'exactly 2^23 ahead is not newer');
  });

  it('handles wrap-around of the 24-bit counter', () => {
    assert.equal(isNewerNotification(0xffffff, T, 0, T), true);
    assert.equal(isNewerNotification(0xfffff0, T, 5, T), true);
    assert.equal(isNewerNotification(5, T, 0xfffff0, T), false);
  });

  it('accepts anything after 128 s of silence', () => {
    assert.equal(isNewerNotification(10, T, 3, T + 128_000), false);
    assert.equal(isNewerNotification(10, T, 3, T + 128_001), true);
  });
});

describe('peer addresses', () => {
  it('collapses IPv4-mapped IPv6 and maps back for an IPv6 socket', () => {
    assert.equal(canonicalAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(canonicalAddress('::1'), '::1');
    assert.equal(socketAddress('127.0.0.1', 'udp6'), '::ffff:127.0.0.1');
    assert.equal(socketAddress('127.0.0.1', 'udp4'), '127.0.0.1');
    assert.equal(socketAddress('::1', 'udp6'), '::1');
    assert.equal(formatPeer({ address: '::1', port: 5683 }), '[::1]:5683');
    assert.equal(formatPeer({ address: '10.0.0.1', port: 1 }), '10.0.0.1:1');
  });
});
