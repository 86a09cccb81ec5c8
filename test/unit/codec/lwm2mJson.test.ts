import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { createLwm2mJsonCodec, lwm2mJsonCodec } from '../../../src/core/codec/lwm2mJson';
import type { CodecContext } from '../../../src/core/codec/types';
import { EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { DEVICE_RECORDS, decodeError, hex, NOW, onlyDecodeErrors, senmlModels, utf8 } from './senmlStaticModel';

const codec = createLwm2mJsonCodec({ now: () => NOW });
const ctx = (path = '/', models = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(models ? { models: senmlModels } : {}) });
const p = (s: string) => Lwm2mPath.parse(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** lwm2m-protocol.md §12: Read /3/0 (abbreviated in the spec). */
const DEVICE_LWM2M_JSON =
  '{"bn":"/3/0/","e":[\n' +
  ' {"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"6/1","v":5},\n' +
  ' {"n":"9","v":100},{"n":"13","v":1367491215},{"n":"16","sv":"U"}]}';

describe('LwM2M JSON: §12 vector', () => {
  const expected = DEVICE_RECORDS.filter((r) => ['/3/0/0', '/3/0/6/0', '/3/0/6/1', '/3/0/9', '/3/0/13', '/3/0/16'].includes(r.path.toString()));

  it('decodes with model types', () => {
    const result = codec.decode(utf8(DEVICE_LWM2M_JSON), ctx('/3/0'));
    assert.deepEqual(result.records, expected);
    assert.deepEqual(result.notes, []);
    assert.equal(result.format, 11543);
  });

  it('encodes to the spec text (without its line breaks)', () => {
    assert.equal(text(codec.encode(expected, ctx('/3/0'))), DEVICE_LWM2M_JSON.replace(/\n ?/g, ''));
  });

  it('round-trips the whole Device object', () => {
    assert.deepEqual(codec.decode(codec.encode(DEVICE_RECORDS, ctx('/3/0')), ctx('/3/0')).records, DEVICE_RECORDS);
  });
});

describe('LwM2M JSON: values and times', () => {
  it('reads sv/v/bv/ov by the model: opaque is standard base64 in sv, objlnk in ov', () => {
    const json = '{"bn":"/9999/0/","e":[{"n":"0","sv":"x"},{"n":"2","v":18446744073709551615},{"n":"3","v":22},{"n":"4","bv":false},{"n":"5","sv":"AQI="},{"n":"7","ov":"3:0"},{"n":"8","sv":"</1>"}]}';
    const records = codec.decode(utf8(json), ctx()).records;
    assert.deepEqual(
      records.map((r) => [r.path.toString(), r.type, r.value]),
      [
        ['/9999/0/0', 'string', 'x'],
        ['/9999/0/2', 'unsigned integer', 18446744073709551615n],
        ['/9999/0/3', 'float', 22],
        ['/9999/0/4', 'boolean', false],
        ['/9999/0/5', 'opaque', hex('0102')],
        ['/9999/0/7', 'objlnk', { objectId: 3, instanceId: 0 }],
        ['/9999/0/8', 'corelnk', '</1>'],
      ],
    );
    assert.equal(text(codec.encode(records, ctx('/9999/0'))), json.replace('"v":22}', '"v":22.0}'));
  });

  it('accepts url-safe and unpadded base64 for opaque', () => {
    assert.deepEqual(codec.decode(utf8('{"bn":"/5/0/0","e":[{"sv":"-_8"}]}'), ctx()).records[0]!.value, hex('FBFF'));
  });

  it('resolves bt + t; t alone; values below 2^28 relative to now', () => {
    const json = '{"bn":"/3303/0/5700","bt":1700000000,"e":[{"v":1},{"v":2,"t":-5}]}';
    assert.deepEqual(
      codec.decode(utf8(json), ctx()).records.map((r) => r.time),
      [1700000000, 1699999995],
    );
    assert.deepEqual(
      codec.decode(utf8('{"bn":"/3303/0/5700","e":[{"v":1,"t":1700000123},{"v":2,"t":-5},{"v":3}]}'), ctx()).records.map((r) => r.time),
      [1700000123, NOW - 5, undefined],
    );
  });

  it('writes one common time as bt, differing times as t, and refuses a mix with untimed records', () => {
    const at = (time: number | undefined, value: number): Lwm2mRecord => ({ path: p('/3303/0/5700'), type: 'float', value, ...(time === undefined ? {} : { time }) });
    assert.equal(text(codec.encode([at(1700000000, 1.5)], ctx('/3303/0/5700'))), '{"bn":"/3303/0/5700","bt":1700000000,"e":[{"v":1.5}]}');
    const series = [at(1700000000, 1.5), at(1700000010, 2.5)];
    const json = text(codec.encode(series, ctx()));
    assert.equal(json, '{"bn":"/3303/0/5700","e":[{"v":1.5,"t":1700000000},{"v":2.5,"t":1700000010}]}');
    assert.deepEqual(codec.decode(utf8(json), ctx()).records, series);
    assert.throws(() => codec.encode([at(1700000000, 1), at(undefined, 2)], ctx()), EncodeError);
  });

  it('names records relative to one base name; a composite gets "/"', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3/0/14'), type: 'string', value: '+02:00' },
      { path: p('/1/0/1'), type: 'integer', value: 3600 },
    ];
    const json = text(codec.encode(records, ctx()));
    assert.equal(json, '{"bn":"/","e":[{"n":"3/0/14","sv":"+02:00"},{"n":"1/0/1","v":3600}]}');
    assert.deepEqual(codec.decode(utf8(json), ctx()).records, records);
  });

  it('guesses types without a model', () => {
    const result = codec.decode(utf8('{"bn":"/4242/0/","e":[{"n":"1","v":5},{"n":"2","v":2.5},{"n":"3","sv":"x"},{"n":"4","bv":true},{"n":"5","ov":"1:2"}]}'), ctx('/', false));
    assert.deepEqual(
      result.records.map((r) => [r.type, r.modelled]),
      [
        ['integer', false],
        ['float', false],
        ['string', false],
        ['boolean', false],
        ['objlnk', false],
      ],
    );
    assert.equal(result.notes.length, 5);
  });

  it('ignores entry keys it does not know, even ones named like Object members', () => {
    const json = '{"bn":"/3/0/9","e":[{"v":1,"toString":2,"__proto__":3,"x":{}}],"constructor":4}';
    assert.deepEqual(codec.decode(utf8(json), ctx()).records, [{ path: p('/3/0/9'), type: 'integer', value: 1 }]);
  });

  it('the exported codec is CF 11543 (the registry maps legacy 1543 to it)', () => {
    assert.equal(lwm2mJsonCodec.format, 11543);
    assert.equal(lwm2mJsonCodec.name, 'lwm2m-json');
  });
});

describe('LwM2M JSON: errors name the byte offset and JSON pointer', () => {
  const cases: [string, number, string | undefined, RegExp][] = [
    ['[]', 0, '', /JSON object/],
    ['{"bn":"/3/0/"}', 0, '/e', /array of entries/],
    ['{"bn":3,"e":[]}', 6, '/bn', /string/],
    ['{"bt":"x","e":[]}', 6, '/bt', /number/],
    ['{"e":[1]}', 6, '/e/0', /entry object/],
    ['{"bn":"/3/0/","e":[{"n":"9","v":"x"}]}', 32, '/e/0/v', /number/],
    ['{"bn":"/3/0/","e":[{"n":"9","v":1,"sv":"x"}]}', 39, '/e/0/sv', /one value label/],
    ['{"bn":"/3/0/","e":[{"n":"9","sv":"x"}]}', 33, '/e/0/sv', /"v" with a integer/],
    ['{"bn":"/3/0/","e":[{"n":"x","v":1}]}', 24, '/e/0/n', /LwM2M path/],
    ['{"bn":"/5/0/","e":[{"n":"0","sv":"q8*v"}]}', 33, '/e/0/sv', /opaque/],
    ['{"bn":"/3/0/","e":[{"n":"9","v":1},]}', 35, '/e/1', /JSON value/],
    ['{"bn":"/3/0/","e":[{"n":"9","v":1}]', 35, '/e', /"," or "}"/],
    ['{"bn":"größe","e":[{"n":"9",v:1}]}', 30, '/e/0', /string key/],
  ];
  for (const [json, offset, pointer, expected] of cases) {
    it(`${json} → byte ${offset}, pointer "${pointer}"`, () => {
      const e = decodeError(() => codec.decode(utf8(json), ctx()));
      assert.equal(e.format, 11543);
      assert.equal(e.offset, offset, e.message);
      assert.equal(e.pointer, pointer, e.message);
      assert.match(e.message, expected);
    });
  }

  it('rejects invalid UTF-8 at its byte', () => {
    const e = decodeError(() => codec.decode(Uint8Array.from([...utf8('{"bn":"'), 0xff, ...utf8('","e":[]}')]), ctx()));
    assert.equal(e.offset, 7);
  });

  it('keeps the records decoded before the failure', () => {
    const e = decodeError(() => codec.decode(utf8('{"bn":"/3/0/","e":[{"n":"9","v":1},{"n":"10","v":true}]}'), ctx()));
    assert.deepEqual(
      e.partial.map((r) => r.value),
      [1],
    );
  });

  it('random and mutated input only ever raises DecodeError', () => {
    const valid = utf8(DEVICE_LWM2M_JSON);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (random, edits) => {
        onlyDecodeErrors(() => codec.decode(random, ctx()));
        const mutated = Uint8Array.from(valid);
        for (const [at, byte] of edits) mutated[at] = byte;
        onlyDecodeErrors(() => codec.decode(mutated, ctx('/3/0')));
        onlyDecodeErrors(() => codec.decode(mutated, ctx('/', false)));
      }),
      { numRuns: 3000 },
    );
  });
});
