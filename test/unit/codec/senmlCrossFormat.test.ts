import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { cborCodec } from '../../../src/core/codec/cbor';
import { createLwm2mJsonCodec } from '../../../src/core/codec/lwm2mJson';
import { lwm2mCborCodec } from '../../../src/core/codec/lwm2mCbor';
import { createSenmlCborCodec, createSenmlJsonCodec } from '../../../src/core/codec/senml';
import type { Codec, CodecContext } from '../../../src/core/codec/types';
import type { Lwm2mRecord, Value, ValueType } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { NOW, senmlModels } from './senmlStaticModel';

const now = () => NOW;
const senmlJson = createSenmlJsonCodec({ now, nullValue: 'null' });
const senmlCbor = createSenmlCborCodec({ now, nullValue: 'null' });
const lwm2mJson = createLwm2mJsonCodec({ now });
const root: CodecContext = { path: Lwm2mPath.ROOT, models: senmlModels };
const bare = (records: Lwm2mRecord[]) => records.map(({ span: _span, ...r }) => r);
const byPath = (records: Lwm2mRecord[]) => [...records].sort((a, b) => a.path.compare(b.path));

/** Object 9999 of the static model: resource id → type (10 and 11 are multiple). */
const TYPES: Record<number, ValueType> = {
  0: 'string',
  1: 'integer',
  2: 'unsigned integer',
  3: 'float',
  4: 'boolean',
  5: 'opaque',
  6: 'time',
  7: 'objlnk',
  8: 'corelnk',
  10: 'integer',
  11: 'string',
};

const safe = (b: bigint): number | bigint => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);

function valueOf(type: ValueType): fc.Arbitrary<Value> {
  switch (type) {
    case 'string':
    case 'corelnk':
      return fc.string({ unit: 'binary', maxLength: 40 });
    case 'integer':
      return fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(safe));
    case 'unsigned integer':
      return fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(safe));
    case 'float':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'opaque':
      return fc.uint8Array({ maxLength: 40 });
    case 'time':
      return fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }));
    case 'objlnk':
      return fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([objectId, instanceId]) => ({ objectId, instanceId }));
    default:
      throw new Error(type);
  }
}

/** A record of object 9999 (unique paths), its value sometimes null (a deletion). */
const record: fc.Arbitrary<Lwm2mRecord> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...Object.keys(TYPES).map(Number)), fc.integer({ min: 0, max: 3 }))
  .chain(([instance, resource, ri]) => {
    const type = TYPES[resource]!;
    const path = new Lwm2mPath(resource >= 10 ? [9999, instance, resource, ri] : [9999, instance, resource]);
    return fc.oneof({ weight: 9, arbitrary: valueOf(type) }, { weight: 1, arbitrary: fc.constant(null) }).map((value): Lwm2mRecord => ({ path, type, value }));
  });

const records = fc.uniqueArray(record, { selector: (r) => r.path.toString(), minLength: 1, maxLength: 12 });
const times = fc.integer({ min: 2 ** 28, max: 2 ** 33 });

describe('round trips of every data type', () => {
  it('SenML JSON, SenML CBOR, LwM2M JSON and LwM2M CBOR: decode(encode(records)) = records, the same in all four', () => {
    fc.assert(
      fc.property(records, (recs) => {
        const results = ([senmlJson, senmlCbor, lwm2mJson, lwm2mCborCodec] as Codec[]).map((codec) => {
          const decoded = bare(codec.decode(codec.encode(recs, root), root).records);
          return codec === lwm2mCborCodec ? decoded : byPath(decoded);
        });
        for (const decoded of results) assert.deepEqual(decoded, byPath(recs));
      }),
      { numRuns: 500 },
    );
  });

  it('with timestamps: SenML JSON, SenML CBOR and LwM2M JSON keep them', () => {
    fc.assert(
      fc.property(records, fc.array(times, { minLength: 12, maxLength: 12 }), (recs, stamps) => {
        const timed = recs.map((r, i) => ({ ...r, time: stamps[i]! }));
        for (const codec of [senmlJson, senmlCbor, lwm2mJson]) {
          assert.deepEqual(bare(codec.decode(codec.encode(timed, root), root).records), timed);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('under the request path as base name', () => {
    fc.assert(
      fc.property(records, (recs) => {
        const instance = recs.filter((r) => r.path.instanceId === recs[0]!.path.instanceId);
        const ctx: CodecContext = { path: recs[0]!.path.parent().resourceId === undefined ? recs[0]!.path.parent() : recs[0]!.path.parent().parent(), models: senmlModels };
        for (const codec of [senmlJson, senmlCbor, lwm2mJson]) {
          assert.deepEqual(bare(codec.decode(codec.encode(instance, ctx), ctx).records), instance);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('CBOR (CF 60): one value of every type', () => {
    fc.assert(
      fc.property(record, (rec) => {
        fc.pre(rec.value !== null);
        const ctx: CodecContext = { path: rec.path, models: senmlModels };
        assert.deepEqual(bare(cborCodec.decode(cborCodec.encode([rec], ctx), ctx).records), [rec]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('cross-format equality on composite and time-series payloads', () => {
  const p = (s: string) => Lwm2mPath.parse(s);
  const composite: Lwm2mRecord[] = [
    { path: p('/3/0/0'), type: 'string', value: 'Open Mobile Alliance' },
    { path: p('/3/0/7/0'), type: 'integer', value: 3800 },
    { path: p('/3/0/13'), type: 'time', value: 1367491215 },
    { path: p('/3303/0/5700'), type: 'float', value: 22.5 },
    { path: p('/3311/1/5850'), type: 'boolean', value: false },
    { path: p('/5/0/0'), type: 'opaque', value: Uint8Array.of(1, 2, 3) },
    { path: p('/65/0/0/0'), type: 'objlnk', value: { objectId: 66, instanceId: 0 } },
  ];

  it('a composite of several objects decodes identically from all four formats', () => {
    const decoded = ([senmlJson, senmlCbor, lwm2mJson, lwm2mCborCodec] as Codec[]).map((c) => byPath(bare(c.decode(c.encode(composite, root), root).records)));
    for (const d of decoded) assert.deepEqual(d, byPath(composite));
  });

  it('a Send time series keeps every record of the same path, in order, in SenML JSON and CBOR', () => {
    const series: Lwm2mRecord[] = [20, 21.5, 21.5, 19].map((value, i) => ({ path: p('/3303/0/5700'), type: 'float', value, time: 1700000000 + 10 * (i % 3) }));
    const json = bare(senmlJson.decode(senmlJson.encode(series, root), root).records);
    const cbor = bare(senmlCbor.decode(senmlCbor.encode(series, root), root).records);
    assert.deepEqual(json, series);
    assert.deepEqual(cbor, series);
  });
});
