import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { cborCodec } from '../../../src/core/codec/cbor';
import type { CodecContext } from '../../../src/core/codec/types';
import { DecodeError, EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord, Value, ValueType } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { senmlModels } from './senmlStaticModel';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const ctx = (path: string, models = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(models ? { models: senmlModels } : {}) });

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a DecodeError');
}

describe('CBOR (CF 60) single values, typed by the model', () => {
  const cases: [string, string, ValueType, Value][] = [
    ['/3/0/0', '74 4F70656E204D6F62696C6520416C6C69616E6365', 'string', 'Open Mobile Alliance'],
    ['/3/0/9', '18 64', 'integer', 100],
    ['/9999/0/1', '3B 7FFFFFFFFFFFFFFF', 'integer', -(2n ** 63n)],
    ['/9999/0/2', '1B FFFFFFFFFFFFFFFF', 'unsigned integer', 2n ** 64n - 1n],
    ['/3303/0/5700', 'F9 4DA0', 'float', 22.5],
    ['/9999/0/4', 'F5', 'boolean', true],
    ['/5/0/0', '43 ABCDEF', 'opaque', hex('ABCDEF')],
    ['/3/0/13', 'C1 1A 5182428F', 'time', 1367491215],
    ['/3/0/22/0', '66 333330333A30', 'objlnk', { objectId: 3303, instanceId: 0 }],
    ['/9999/0/8', '66 3C2F332F303E', 'corelnk', '</3/0>'],
  ];
  for (const [path, h, type, value] of cases) {
    it(`${path} ${type}: decodes and re-encodes byte for byte`, () => {
      const bytes = hex(h);
      const result = cborCodec.decode(bytes, ctx(path));
      assert.deepEqual(result.records, [{ path: Lwm2mPath.parse(path), type, value, span: [0, bytes.length] }]);
      assert.deepEqual(result.notes, []);
      assert.equal(toHex(cborCodec.encode(result.records, ctx(path))), h.replace(/\s+/g, ''));
    });
  }

  it('accepts integers and decimal fractions for floats', () => {
    assert.equal(cborCodec.decode(hex('16'), ctx('/3303/0/5700')).records[0]!.value, 22);
    assert.equal(cborCodec.decode(hex('C4 82 20 18 2D'), ctx('/3303/0/5700')).records[0]!.value, 4.5);
  });

  it('accepts bare integers and tag 0 date-time text for times', () => {
    assert.equal(cborCodec.decode(hex('1A 5182428F'), ctx('/3/0/13')).records[0]!.value, 1367491215);
    const tag0 = Buffer.concat([hex('C0 74'), Buffer.from('2013-05-02T10:40:15Z')]);
    assert.equal(cborCodec.decode(tag0, ctx('/3/0/13')).records[0]!.value, 1367491215);
  });

  it('writes a fractional time (or -0) as tag 1 + float', () => {
    const rec: Lwm2mRecord = { path: Lwm2mPath.parse('/3/0/13'), type: 'time', value: 1.5 };
    assert.equal(toHex(cborCodec.encode([rec], ctx('/3/0/13'))), 'C1F93E00');
    assert.equal(toHex(cborCodec.encode([{ ...rec, value: -0 }], ctx('/3/0/13'))), 'C1F98000');
  });
});

describe('CBOR (CF 60) without a model', () => {
  const cases: [string, ValueType, Value][] = [
    ['18 64', 'integer', 100],
    ['38 63', 'integer', -100],
    ['FB 3FF199999999999A', 'float', 1.1],
    ['63 616263', 'string', 'abc'],
    ['42 0102', 'opaque', hex('0102')],
    ['F4', 'boolean', false],
    ['C1 1A 5182428F', 'time', 1367491215],
    ['C4 82 20 18 2D', 'float', 4.5],
  ];
  for (const [h, type, value] of cases) {
    it(`guesses ${type} from ${h}`, () => {
      const result = cborCodec.decode(hex(h), ctx('/4242/0/1', false));
      assert.deepEqual(result.records[0]!.value, value);
      assert.equal(result.records[0]!.type, type);
      assert.equal(result.records[0]!.modelled, false);
      assert.deepEqual(result.notes, ['no model for /4242/0/1: type guessed from the CBOR item']);
    });
  }
});

describe('CBOR (CF 60) errors', () => {
  const cases: [string, string, number, RegExp][] = [
    ['/3/0', '18 64', 0, /resource or resource instance/],
    ['/3/0/9', '63 616263', 0, /integer/],
    ['/3/0/9', '18 64 00', 2, /end of payload/],
    ['/3/0/9', '1B 8000000000000000', 0, /integer in 64 bits/],
    ['/9999/0/2', '20', 0, /unsigned integer/],
    ['/3/0/4', '18 64', 0, /executable/],
    ['/3/0/22/0', '63 333330', 0, /objlnk/],
    ['/3/0/13', 'FB 3FF199999999999A', 0, /time/],
    ['/3/0/13', 'C0 63 616263', 0, /date-time/],
    ['/9999/0/4', '18', 0, /1-byte argument/],
    ['/9999/0/0', '', 0, /CBOR item/],
  ];
  for (const [path, h, offset, expected] of cases) {
    it(`${path} ${h || '(empty)'} → DecodeError at ${offset}`, () => {
      const e = decodeError(() => cborCodec.decode(hex(h), ctx(path)));
      assert.equal(e.offset, offset, e.message);
      assert.match(e.message, expected);
    });
  }

  it('encodes exactly one record with a value of its type', () => {
    const p = Lwm2mPath.parse('/3/0/9');
    assert.throws(() => cborCodec.encode([], ctx('/3/0/9')), EncodeError);
    assert.throws(() => cborCodec.encode([{ path: p, type: 'integer', value: null }], ctx('/3/0/9')), EncodeError);
    assert.throws(() => cborCodec.encode([{ path: p, type: 'integer', value: 'x' }], ctx('/3/0/9')), EncodeError);
    assert.throws(() => cborCodec.encode([{ path: p, type: 'integer', value: 1.5 }], ctx('/3/0/9')), EncodeError);
  });

  it('random bytes only ever raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.constantFrom('/3/0/0', '/3/0/9', '/9999/0/2', '/3303/0/5700', '/3/0/13', '/3/0/22/0', '/5/0/0', '/4242/0/1'), (bytes, path) => {
        try {
          cborCodec.decode(bytes, ctx(path));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
