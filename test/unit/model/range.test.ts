import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseRange } from '../../../src/core/model';

describe('parseRange', () => {
  it('returns undefined for empty text', () => {
    assert.equal(parseRange(''), undefined);
    assert.equal(parseRange('  \n '), undefined);
  });

  it('reads ranges in their usual spellings', () => {
    assert.deepEqual(parseRange('0..100'), { text: '0..100', min: 0, max: 100 });
    assert.deepEqual(parseRange('0-100'), { text: '0-100', min: 0, max: 100 });
    assert.deepEqual(parseRange('1...63'), { text: '1...63', min: 1, max: 63 });
    assert.deepEqual(parseRange('1..65534'), { text: '1..65534', min: 1, max: 65534 });
    assert.deepEqual(parseRange('-180..180'), { text: '-180..180', min: -180, max: 180 });
    assert.deepEqual(parseRange('0.000001..1.0'), { text: '0.000001..1.0', min: 0.000001, max: 1 });
    assert.deepEqual(parseRange('[1:4]'), { text: '[1:4]', min: 1, max: 4 });
  });

  it('orders a range written backwards', () => {
    assert.deepEqual(parseRange('-30..-120'), { text: '-30..-120', min: -120, max: -30 });
  });

  it('reads a single value as a range of one', () => {
    assert.deepEqual(parseRange('255', 'integer'), { text: '255', min: 255, max: 255 });
  });

  it('marks byte lengths', () => {
    assert.deepEqual(parseRange('0..255 bytes'), { text: '0..255 bytes', min: 0, max: 255, bytes: true });
    assert.deepEqual(parseRange('1..64 Bytes'), { text: '1..64 Bytes', min: 1, max: 64, bytes: true });
    assert.deepEqual(parseRange('12 bytes '), { text: '12 bytes', min: 12, max: 12, bytes: true });
    assert.deepEqual(parseRange('6', 'opaque'), { text: '6', min: 6, max: 6, bytes: true });
    assert.deepEqual(parseRange('0..255', 'string'), { text: '0..255', min: 0, max: 255, bytes: true });
  });

  it('reads lists as enumerations', () => {
    assert.deepEqual(parseRange('16,32,48', 'opaque'), {
      text: '16,32,48',
      enumeration: [{ value: '16' }, { value: '32' }, { value: '48' }],
      bytes: true,
    });
    assert.deepEqual(parseRange('5, 10, 15, 20')?.enumeration?.map((e) => e.value), ['5', '10', '15', '20']);
    assert.deepEqual(parseRange('ON;OFF', 'string'), { text: 'ON;OFF', enumeration: [{ value: 'ON' }, { value: 'OFF' }] });
    assert.deepEqual(parseRange('10 or 26 Bytes'), {
      text: '10 or 26 Bytes',
      enumeration: [{ value: '10' }, { value: '26' }],
      bytes: true,
    });
  });

  it('reads labelled enumerations', () => {
    assert.deepEqual(parseRange('0=off;1=on')?.enumeration, [
      { value: '0', label: 'off' },
      { value: '1', label: 'on' },
    ]);
    assert.deepEqual(parseRange('0: RELEASED\n\t\t1: PRESSED\n\t\t2: FAULT')?.enumeration, [
      { value: '0', label: 'RELEASED' },
      { value: '1', label: 'PRESSED' },
      { value: '2', label: 'FAULT' },
    ]);
  });

  it('keeps anything else as text only', () => {
    for (const text of ['0..247, 255', '0; 3.8..20.5', '8-Bits', '16-32-48 bytes', '<7 to >12.5', 'See the core specification']) {
      assert.deepEqual(parseRange(text), { text }, text);
    }
  });
});
