import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { textCodec } from '../../../src/core/codec/text';
import { opaqueCodec } from '../../../src/core/codec/opaque';
import { DecodeError, EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord, Value, ValueType } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import type { CodecContext } from '../../../src/core/codec/types';
import { staticModels } from './staticModel';

const models = staticModels();
const ctx = (path: string, withModels = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(withModels ? { models } : {}) });
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const RES: Record<string, string> = { string: '/9999/0/1', integer: '/9999/0/2', 'unsigned integer': '/9999/0/3', float: '/9999/0/4', boolean: '/9999/0/5', opaque: '/9999/0/6', time: '/9999/0/7', objlnk: '/9999/0/8', corelnk: '/9999/0/9' };

function decodeOne(type: ValueType, payload: string): Value | null {
  const r = textCodec.decode(utf8(payload), ctx(RES[type]!));
  assert.equal(r.records.length, 1);
  assert.equal(r.records[0]!.type, type);
  return r.records[0]!.value;
}

function expectDecodeError(fn: () => unknown, offset: number, match?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DecodeError, String(e));
    assert.equal(e.offset, offset, e.message);
    if (match) assert.match(e.message, match);
    return true;
  });
}

describe('text codec (CF 0)', () => {
  it('decodes the spec example', () => {
    const r = textCodec.decode(utf8('Open Mobile Alliance'), ctx('/3/0/0'));
    assert.deepEqual(r.records, [{ path: Lwm2mPath.parse('/3/0/0'), type: 'string', value: 'Open Mobile Alliance', span: [0, 20] }]);
  });

  const cases: [ValueType, string, Value][] = [
    ['string', 'héllo, wörld ', 'héllo, wörld '],
    ['string', '', ''],
    ['integer', '-42', -42],
    ['integer', '9223372036854775807', 2n ** 63n - 1n],
    ['integer', '-9223372036854775808', -(2n ** 63n)],
    ['integer', '9007199254740991', Number.MAX_SAFE_INTEGER],
    ['unsigned integer', '18446744073709551615', 2n ** 64n - 1n],
    ['unsigned integer', '200', 200],
    ['float', '22.5', 22.5],
    ['float', '-1e-7', -1e-7],
    ['float', '1e+21', 1e21],
    ['float', 'NaN', NaN],
    ['float', '-Infinity', -Infinity],
    ['boolean', '1', true],
    ['boolean', '0', false],
    ['opaque', 'AAH+/w==', new Uint8Array([0, 1, 0xfe, 0xff])],
    ['time', '1367491215', 1367491215],
    ['time', '-5', -5],
    ['objlnk', '3303:0', { objectId: 3303, instanceId: 0 }],
    ['objlnk', '65535:65535', { objectId: 65535, instanceId: 65535 }],
    ['corelnk', '</3/0>;ver=1.1', '</3/0>;ver=1.1'],
  ];
  for (const [type, payload, value] of cases) {
    it(`${type} ${JSON.stringify(payload)} ⇄ value`, () => {
      assert.deepEqual(decodeOne(type, payload), value);
      const out = textCodec.encode([{ path: Lwm2mPath.parse(RES[type]!), type, value }], ctx(RES[type]!));
      assert.equal(text(out), payload);
    });
  }

  it('accepts other spellings on input', () => {
    assert.equal(decodeOne('integer', ' +42\n'), 42);
    assert.equal(decodeOne('float', '22'), 22);
    assert.equal(decodeOne('float', '.5'), 0.5);
    assert.deepEqual(decodeOne('opaque', 'AAH-_w'), new Uint8Array([0, 1, 0xfe, 0xff]));
    assert.equal(decodeOne('boolean', '1\r\n'), true);
  });

  it('rejects malformed values at the offending byte', () => {
    expectDecodeError(() => decodeOne('integer', '12a'), 2, /decimal digit.*"a"/);
    expectDecodeError(() => decodeOne('integer', '  -'), 3, /end of value/);
    expectDecodeError(() => decodeOne('integer', '9223372036854775808'), 0, /64-bit/);
    expectDecodeError(() => decodeOne('unsigned integer', '-1'), 0, /decimal digit/);
    expectDecodeError(() => decodeOne('float', '1.5x'), 3);
    expectDecodeError(() => decodeOne('float', '1e'), 2, /exponent/);
    expectDecodeError(() => decodeOne('boolean', 'true'), 0, /"0" or "1".*"true"/);
    expectDecodeError(() => decodeOne('objlnk', '3303-0'), 4, /":"/);
    expectDecodeError(() => decodeOne('objlnk', '70000:0'), 0, /0\.\.65535/);
    expectDecodeError(() => decodeOne('opaque', 'AA*A'), 2, /base64/);
    expectDecodeError(() => textCodec.decode(new Uint8Array([0x41, 0xc3, 0x28]), ctx('/9999/0/1')), 1, /UTF-8/);
    expectDecodeError(() => textCodec.decode(utf8('x'), ctx('/3/0/4')), 0, /executable/);
  });

  it('needs a resource or resource instance path', () => {
    expectDecodeError(() => textCodec.decode(utf8('1'), ctx('/3/0')), 0, /resource or resource instance/);
    assert.equal(textCodec.decode(utf8('7'), ctx('/3/0/6/1')).records[0]!.value, 7);
  });

  it('keeps unmodelled text as a string with readings', () => {
    const r = textCodec.decode(utf8('42'), ctx('/3303/0/5700', false));
    assert.equal(r.records[0]!.type, 'string');
    assert.equal(r.records[0]!.modelled, false);
    assert.deepEqual(r.records[0]!.readings, { integer: 42 });
    assert.match(r.notes[0]!, /no model for \/3303\/0\/5700/);
    const f = textCodec.decode(utf8('1'), ctx('/3303/0/5700', false));
    assert.deepEqual(f.records[0]!.readings, { integer: 1, boolean: true });
    const bin = textCodec.decode(new Uint8Array([0xff]), ctx('/3303/0/5700', false));
    assert.equal(bin.records[0]!.type, 'opaque');
  });

  it('encodes exactly one value at the request path', () => {
    const rec = (p: string, v: Value | null, type: ValueType = 'integer'): Lwm2mRecord => ({ path: Lwm2mPath.parse(p), type, value: v });
    assert.throws(() => textCodec.encode([], ctx('/3/0/9')), EncodeError);
    assert.throws(() => textCodec.encode([rec('/3/0/9', 1), rec('/3/0/10', 2)], ctx('/3/0')), /exactly one value/);
    assert.throws(() => textCodec.encode([rec('/3/0/9', 1)], ctx('/3/0/10')), /not the request path/);
    assert.throws(() => textCodec.encode([rec('/3/0/9', null)], ctx('/3/0/9')), /no value/);
    assert.throws(() => textCodec.encode([rec('/3/0/9', 'x')], ctx('/3/0/9')), EncodeError);
    assert.equal(text(textCodec.encode([rec('/3/0/9', 1)], ctx('/'))), '1');
  });

  it('random and mutated input only ever throws DecodeError', () => {
    const types = Object.keys(RES) as ValueType[];
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 30 }).map(utf8)), (bytes) => {
        for (const t of types) {
          try {
            textCodec.decode(bytes, ctx(RES[t]!));
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            assert.ok(e.offset >= 0 && e.offset <= bytes.length);
          }
        }
        textCodec.decode(bytes, ctx('/3303/0/5700', false));
      }),
      { numRuns: 500 },
    );
  });

  it('typed values round-trip through text', () => {
    const arb: fc.Arbitrary<[ValueType, Value]> = fc.oneof(
      fc.string().map((v) => ['string', v] as [ValueType, Value]),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => ['integer', Number.isSafeInteger(Number(b)) ? Number(b) : b] as [ValueType, Value]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => ['unsigned integer', Number.isSafeInteger(Number(b)) ? Number(b) : b] as [ValueType, Value]),
      fc.double().map((v) => ['float', v] as [ValueType, Value]),
      fc.boolean().map((v) => ['boolean', v] as [ValueType, Value]),
      fc.uint8Array({ maxLength: 50 }).map((v) => ['opaque', v] as [ValueType, Value]),
      fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([o, i]) => ['objlnk', { objectId: o, instanceId: i }] as [ValueType, Value]),
    );
    fc.assert(
      fc.property(arb, ([type, value]) => {
        const bytes = textCodec.encode([{ path: Lwm2mPath.parse(RES[type]!), type, value }], ctx(RES[type]!));
        const back = textCodec.decode(bytes, ctx(RES[type]!)).records[0]!.value;
        if (type === 'float' && Object.is(value, -0)) assert.equal(back, 0);
        else assert.deepEqual(back, value);
      }),
      { numRuns: 500 },
    );
  });
});

describe('opaque codec (CF 42)', () => {
  it('decodes raw bytes as one opaque record and encodes them back', () => {
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const r = opaqueCodec.decode(bytes, ctx('/9999/0/6'));
    assert.deepEqual(r.records, [{ path: Lwm2mPath.parse('/9999/0/6'), type: 'opaque', value: bytes, span: [0, 4] }]);
    assert.deepEqual(r.notes, []);
    assert.notEqual(r.records[0]!.value, bytes, 'the value is a copy');
    assert.deepEqual(opaqueCodec.encode(r.records, ctx('/9999/0/6')), bytes);
  });

  it('notes a resource that is not Opaque in its model, or has no model', () => {
    assert.match(opaqueCodec.decode(new Uint8Array([1]), ctx('/3/0/9')).notes[0]!, /integer in its model/);
    const r = opaqueCodec.decode(new Uint8Array([1]), ctx('/5/0/0', false));
    assert.equal(r.records[0]!.modelled, false);
  });

  it('needs a resource path and a bytes value', () => {
    assert.throws(() => opaqueCodec.decode(new Uint8Array(0), ctx('/5/0')), DecodeError);
    assert.throws(() => opaqueCodec.encode([{ path: Lwm2mPath.parse('/3/0/9'), type: 'integer', value: 1 }], ctx('/3/0/9')), EncodeError);
  });
});
