import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { lwm2mCborCodec as codec } from '../../../src/core/codec/lwm2mCbor';
import type { CodecContext } from '../../../src/core/codec/types';
import { EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { DEVICE_RECORDS, decodeError, hex, onlyDecodeErrors, senmlModels, toHex } from './senmlStaticModel';

const ctx = (path = '/', models = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(models ? { models: senmlModels } : {}) });
const p = (s: string) => Lwm2mPath.parse(s);
const bare = (records: Lwm2mRecord[]) => records.map(({ span: _span, ...r }) => r);
const clean = (h: string) => h.replace(/\s+/g, '').toUpperCase();

describe('LwM2M CBOR: §13.2 equivalent encodings decode to the same records', () => {
  const rows: [string, string, [string, number | null][]][] = [
    ['{13: {26: {1: 42}}}', 'A1 0D A1 18 1A A1 01 18 2A', [['/13/26/1', 42]]],
    ['{[13, 26, 1]: 42}', 'A1 83 0D 18 1A 01 18 2A', [['/13/26/1', 42]]],
    ['{[13]: {[26]: {[1]: 42}}}', 'A1 81 0D A1 81 18 1A A1 81 01 18 2A', [['/13/26/1', 42]]],
    ['{[13, 26]: {1: 42, 2: 21}}', 'A1 82 0D 18 1A A2 01 18 2A 02 15', [['/13/26/1', 42], ['/13/26/2', 21]]],
    ['{[13, 26, 1]: {2: null, 3: 5}}', 'A1 83 0D 18 1A 01 A2 02 F6 03 05', [['/13/26/1/2', null], ['/13/26/1/3', 5]]],
    ['{3: {3: {3: 25}}} indefinite (Anjay Lite)', 'BF 03 BF 03 BF 03 18 19 FF FF FF', [['/3/3/3', 25]]],
    ['{[13, 26]: {1: 42}, [13, 26, 2]: 21} mixed key forms', 'A2 82 0D 18 1A A1 01 18 2A 83 0D 18 1A 02 15', [['/13/26/1', 42], ['/13/26/2', 21]]],
  ];
  for (const [name, h, want] of rows) {
    it(name, () => {
      const records = codec.decode(hex(h), ctx('/', false)).records;
      assert.deepEqual(
        records.map((r) => [r.path.toString(), r.value]),
        want,
      );
      const again = codec.decode(codec.encode(records, ctx('/', false)), ctx('/', false)).records;
      assert.deepEqual(bare(again), bare(records));
    });
  }

  it('encodes in the canonical form: nested integer-keyed maps, ids ascending', () => {
    const encode = (h: string) => toHex(codec.encode(codec.decode(hex(h), ctx('/', false)).records, ctx('/', false)));
    assert.equal(encode('A1 83 0D 18 1A 01 18 2A'), clean('A1 0D A1 18 1A A1 01 18 2A'));
    assert.equal(encode('A1 82 0D 18 1A A2 02 15 01 18 2A'), clean('A1 0D A1 18 1A A2 01 18 2A 02 15'));
    assert.equal(encode('A1 83 0D 18 1A 01 A2 02 F6 03 05'), clean('A1 0D A1 18 1A A1 01 A2 02 F6 03 05'));
    assert.equal(encode('BF 03 BF 03 BF 03 18 19 FF FF FF'), clean('A1 03 A1 03 A1 03 18 19'));
  });
});

describe('LwM2M CBOR: §13.3 examples', () => {
  const TEMPERATURE = 'A1 19 0C E7 A1 00 A2 19 16 44 F9 4D A0 19 16 45 63 43 65 6C';
  const temperature: Lwm2mRecord[] = [
    { path: p('/3303/0/5700'), type: 'float', value: 22.5 },
    { path: p('/3303/0/5701'), type: 'string', value: 'Cel' },
  ];

  it('Read /3303/0: 20 bytes, decoded and encoded byte for byte', () => {
    assert.equal(hex(TEMPERATURE).length, 20);
    const result = codec.decode(hex(TEMPERATURE), ctx('/3303/0'));
    assert.deepEqual(bare(result.records), temperature);
    assert.deepEqual(result.records.map((r) => r.span), [[7, 13], [13, 20]]);
    assert.equal(toHex(codec.encode(temperature, ctx('/3303/0'))), clean(TEMPERATURE));
  });

  it('the same with a path-array key', () => {
    assert.deepEqual(bare(codec.decode(hex('A1 82 19 0C E7 00 A2 19 16 44 F9 4D A0 19 16 45 63 43 65 6C'), ctx()).records), temperature);
  });

  it('multi-instance resource and objlnk', () => {
    const bytes = hex('A1 82 03 00 A2 07 A2 00 19 0E D8 01 19 13 88 16 A1 00 66 33 33 30 33 3A 30');
    const records = codec.decode(bytes, ctx()).records;
    assert.deepEqual(bare(records), [
      { path: p('/3/0/7/0'), type: 'integer', value: 3800 },
      { path: p('/3/0/7/1'), type: 'integer', value: 5000 },
      { path: p('/3/0/22/0'), type: 'objlnk', value: { objectId: 3303, instanceId: 0 } },
    ]);
    assert.deepEqual(bare(codec.decode(codec.encode(records, ctx()), ctx()).records), bare(records));
  });
});

describe('LwM2M CBOR: values', () => {
  it('round-trips the Device object (time as tag 1)', () => {
    const bytes = codec.encode(DEVICE_RECORDS, ctx('/3/0'));
    assert.ok(toHex(bytes).includes(clean('0D C1 1A 5182428F')));
    assert.deepEqual(bare(codec.decode(bytes, ctx('/3/0')).records), DEVICE_RECORDS);
  });

  it('reads every value type by the model', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/9999/0/0'), type: 'string', value: 'x' },
      { path: p('/9999/0/1'), type: 'integer', value: -(2n ** 63n) },
      { path: p('/9999/0/2'), type: 'unsigned integer', value: 2n ** 64n - 1n },
      { path: p('/9999/0/3'), type: 'float', value: 1.1 },
      { path: p('/9999/0/4'), type: 'boolean', value: true },
      { path: p('/9999/0/5'), type: 'opaque', value: hex('00FF') },
      { path: p('/9999/0/6'), type: 'time', value: 1700000000 },
      { path: p('/9999/0/7'), type: 'objlnk', value: { objectId: 65535, instanceId: 65535 } },
      { path: p('/9999/0/8'), type: 'corelnk', value: '</3/0>' },
      { path: p('/9999/0/10/3'), type: 'integer', value: null },
    ];
    assert.deepEqual(bare(codec.decode(codec.encode(records, ctx()), ctx()).records), records);
  });

  it('accepts integers and decimal fractions for floats, bare integers for times', () => {
    const records = codec.decode(hex('A1 19 0C E7 A1 00 A1 19 16 44 C4 82 20 18 2D'), ctx()).records;
    assert.equal(records[0]!.value, 4.5);
    assert.equal(codec.decode(hex('A1 83 03 00 0D 1A 5182428F'), ctx()).records[0]!.value, 1367491215);
  });

  it('guesses types without a model and says so once per resource', () => {
    const result = codec.decode(hex('A1 19 1092 A1 00 A5 01 18 64 02 FB 3FF199999999999A 03 63 616263 04 42 0102 05 C1 1A 5182428F'), ctx('/', false));
    assert.deepEqual(
      result.records.map((r) => [r.type, r.value, r.modelled]),
      [
        ['integer', 100, false],
        ['float', 1.1, false],
        ['string', 'abc', false],
        ['opaque', hex('0102'), false],
        ['time', 1367491215, false],
      ],
    );
    assert.equal(result.notes.length, 5);
  });
});

describe('LwM2M CBOR: errors name the byte offset', () => {
  const cases: [string, string, number, RegExp][] = [
    ['not a map', '81 00', 0, /CBOR map/],
    ['empty key array', 'A1 80 00', 1, /non-empty array/],
    ['id 65535', 'A1 19 FFFF 00', 1, /below 65535/],
    ['text key', 'A1 61 33 00', 1, /path id/],
    ['five ids', 'A1 85 01 02 03 04 05 00', 1, /at most 4/],
    ['value above a resource', 'A1 82 03 00 18 2A', 4, /nested map/],
    ['map below a resource instance', 'A1 84 03 00 07 00 A0', 6, /paths end/],
    ['same path twice', 'A1 82 03 00 A2 09 01 09 02', 7, /each path once/],
    ['resource and its instance', 'A1 82 03 00 A2 07 01 07 A1 00 01', 9, /each path once/],
    ['instance then resource', 'A1 82 03 00 A2 07 A1 00 01 07 01', 9, /each path once/],
    ['wrong type', 'A1 83 03 00 09 61 78', 5, /integer/],
    ['trailing bytes', 'A1 83 03 00 09 01 00', 6, /end of payload/],
    ['truncated', 'A2 83 03 00 09 01', 6, /CBOR item/],
  ];
  for (const [name, h, offset, expected] of cases) {
    it(`${name}: ${h} → byte ${offset}`, () => {
      const e = decodeError(() => codec.decode(hex(h), ctx()));
      assert.equal(e.format, 11544);
      assert.equal(e.offset, offset, e.message);
      assert.match(e.message, expected);
    });
  }

  it('keeps the records decoded before the failure', () => {
    const e = decodeError(() => codec.decode(hex('A1 82 03 00 A3 09 01 0A 02 0B'), ctx()));
    assert.deepEqual(
      e.partial.map((r) => r.path.toString()),
      ['/3/0/9', '/3/0/10'],
    );
  });

  it('cannot encode paths above resources, repeated paths or a resource given both ways', () => {
    const r = (path: string, value: number | null): Lwm2mRecord => ({ path: p(path), type: 'integer', value });
    assert.throws(() => codec.encode([r('/3/0', null)], ctx()), EncodeError);
    assert.throws(() => codec.encode([r('/3/0/9', 1), r('/3/0/9', 2)], ctx()), /twice/);
    assert.throws(() => codec.encode([r('/3/0/6', 1), r('/3/0/6/0', 2)], ctx()), EncodeError);
    assert.throws(() => codec.encode([r('/3/0/6/0', 1), r('/3/0/6', 2)], ctx()), EncodeError);
    assert.throws(() => codec.encode([{ path: p('/3/0/9'), type: 'integer', value: 'x' }], ctx()), EncodeError);
  });

  it('random and mutated input only ever raises DecodeError', () => {
    const valid = codec.encode(DEVICE_RECORDS, ctx('/3/0'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (random, edits) => {
        onlyDecodeErrors(() => codec.decode(random, ctx()));
        onlyDecodeErrors(() => codec.decode(Uint8Array.from([0xa1, ...random]), ctx('/', false)));
        const mutated = Uint8Array.from(valid);
        for (const [at, byte] of edits) mutated[at] = byte;
        onlyDecodeErrors(() => codec.decode(mutated, ctx('/3/0')));
        onlyDecodeErrors(() => codec.decode(mutated, ctx('/', false)));
      }),
      { numRuns: 3000 },
    );
  });
});
