import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { createSenmlJsonCodec, readSenmlJson, SenmlCollector, senmlJsonCodec, writeSenmlJson, type SenmlRecord } from '../../../src/core/codec/senml';
import type { CodecContext } from '../../../src/core/codec/types';
import { EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { DEVICE_JSON, DEVICE_RECORDS, decodeError, hex, NOW, onlyDecodeErrors, senmlModels, utf8 } from './senmlStaticModel';

const codec = createSenmlJsonCodec({ now: () => NOW });
const ctx = (path = '/', models = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(models ? { models: senmlModels } : {}) });
const p = (s: string) => Lwm2mPath.parse(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The records without their spans, for comparing with expectations. */
const bare = (records: Lwm2mRecord[]) => records.map(({ span: _span, ...r }) => r);

function read(json: string): SenmlRecord[] {
  const sink = new SenmlCollector();
  readSenmlJson(utf8(json), sink);
  return sink.records;
}

describe('SenML JSON: spec vectors', () => {
  it('§11.4 Read /3/0: decodes with model types and record spans', () => {
    const bytes = utf8(DEVICE_JSON);
    const result = codec.decode(bytes, ctx('/3/0'));
    assert.deepEqual(bare(result.records), DEVICE_RECORDS);
    assert.deepEqual(result.notes, []);
    assert.deepEqual(result.records[0]!.span, [1, 51]);
    assert.equal(text(bytes.subarray(...result.records[4]!.span!)), '{"n":"6/0","v":1}');
  });

  it('§11.4 Read /3/0: encodes to the spec text (without its line breaks)', () => {
    assert.equal(text(codec.encode(DEVICE_RECORDS, ctx('/3/0'))), DEVICE_JSON.replace(/\n /g, ''));
  });

  it('§11.6 Read-Composite request: names only, values null', () => {
    const json = '[{"n":"/3/0/0"},{"n":"/3303/0/5700"},{"n":"/1/0"}]';
    const result = codec.decode(utf8(json), ctx());
    assert.deepEqual(bare(result.records), [
      { path: p('/3/0/0'), type: 'string', value: null },
      { path: p('/3303/0/5700'), type: 'float', value: null },
      { path: p('/1/0'), type: 'none', value: null },
    ]);
    assert.equal(text(codec.encode(result.records, ctx())), json);
  });

  it('§11.6 Read-Composite request with a base name', () => {
    const result = codec.decode(utf8('[{"bn":"/3303/0/","n":"5700"},{"n":"5701"}]'), ctx());
    assert.deepEqual(
      result.records.map((r) => r.path.toString()),
      ['/3303/0/5700', '/3303/0/5701'],
    );
  });

  it('§11.6 Read-Composite response: several base names', () => {
    const json = '[{"bn":"/3/0/0","vs":"Open Mobile Alliance"},{"bn":"/3303/0/5700","v":22.5},{"bn":"/1/0/","n":"0","v":1},{"n":"1","v":86400}]';
    assert.deepEqual(bare(codec.decode(utf8(json), ctx()).records), [
      { path: p('/3/0/0'), type: 'string', value: 'Open Mobile Alliance' },
      { path: p('/3303/0/5700'), type: 'float', value: 22.5 },
      { path: p('/1/0/0'), type: 'integer', value: 1 },
      { path: p('/1/0/1'), type: 'integer', value: 86400 },
    ]);
  });

  it('§11.6 Write-Composite: decodes and re-encodes the spec text', () => {
    const json = '[{"n":"/3/0/14","vs":"+02:00"},{"n":"/1/0/1","v":3600},{"n":"/3311/0/5850","vb":true}]';
    const result = codec.decode(utf8(json), ctx());
    assert.deepEqual(bare(result.records), [
      { path: p('/3/0/14'), type: 'string', value: '+02:00' },
      { path: p('/1/0/1'), type: 'integer', value: 3600 },
      { path: p('/3311/0/5850'), type: 'boolean', value: true },
    ]);
    assert.equal(text(codec.encode(result.records, ctx())), json);
  });

  it('§11.6 Write-Composite deletion: "v": null, written back with nullValue "null"', () => {
    const json = '[{"n":"/3/0/7/1","v":null}]';
    const records = codec.decode(utf8(json), ctx()).records;
    assert.deepEqual(bare(records), [{ path: p('/3/0/7/1'), type: 'integer', value: null }]);
    assert.equal(text(createSenmlJsonCodec({ nullValue: 'null' }).encode(records, ctx())), json);
    assert.equal(text(codec.encode(records, ctx())), '[{"n":"/3/0/7/1"}]');
  });

  it('§11.3 value labels: vd is base64url, vlo an object link', () => {
    const json = '[{"n":"/5/0/0","vd":"q83v"},{"n":"/65/0/0/0","vlo":"66:0"}]';
    const records = codec.decode(utf8(json), ctx()).records;
    assert.deepEqual(bare(records), [
      { path: p('/5/0/0'), type: 'opaque', value: hex('ABCDEF') },
      { path: p('/65/0/0/0'), type: 'objlnk', value: { objectId: 66, instanceId: 0 } },
    ]);
    assert.equal(text(codec.encode(records, ctx())), json);
  });
});

describe('SenML JSON: base resolution and times (§11.2)', () => {
  it('concatenates base name and name as plain strings', () => {
    const names = (json: string) => codec.decode(utf8(json), ctx()).records.map((r) => r.path.toString());
    assert.deepEqual(names('[{"bn":"/3303/0/5700","v":1}]'), ['/3303/0/5700']);
    assert.deepEqual(names('[{"bn":"/3/0/","n":"6/1","v":1}]'), ['/3/0/6/1']);
    assert.deepEqual(names('[{"bn":"/3","n":"3/0/1","vs":"x"}]'), ['/33/0/1']);
    assert.deepEqual(names('[{"bn":"/3/0/","n":"0","vs":"a"},{"bn":"/1/0/","n":"1","v":60},{"n":"0","v":1}]'), ['/3/0/0', '/1/0/1', '/1/0/0']);
  });

  it('adds base time to time, carrying it over', () => {
    const records = codec.decode(utf8('[{"bn":"/3303/0/","bt":1700000000,"n":"5700","v":22.5},{"n":"5700","t":-5,"v":22},{"n":"5701","vs":"Cel"}]'), ctx()).records;
    assert.deepEqual(records.map((r) => r.time), [1700000000, 1699999995, 1700000000]);
  });

  it('resolves times below 2^28 relative to now', () => {
    const records = codec.decode(utf8('[{"n":"/3303/0/5700","t":-5,"v":1},{"n":"/3303/0/5700","t":0,"v":2},{"n":"/3303/0/5700","v":3}]'), ctx()).records;
    assert.deepEqual(records.map((r) => r.time), [NOW - 5, NOW, undefined]);
    const relativeBase = codec.decode(utf8('[{"bn":"/3303/0/5700","bt":-60,"v":1},{"t":30,"v":2}]'), ctx()).records;
    assert.deepEqual(relativeBase.map((r) => r.time), [NOW - 60, NOW - 30]);
  });

  it('keeps every record of a time series, in order', () => {
    const json = '[{"bn":"/3303/0/5700","bt":1700000000,"v":20.5},{"t":10,"v":21},{"t":20,"v":21.5},{"t":10,"v":19}]';
    const records = codec.decode(utf8(json), ctx()).records;
    assert.deepEqual(
      records.map((r) => [r.path.toString(), r.time, r.value]),
      [
        ['/3303/0/5700', 1700000000, 20.5],
        ['/3303/0/5700', 1700000010, 21],
        ['/3303/0/5700', 1700000020, 21.5],
        ['/3303/0/5700', 1700000010, 19],
      ],
    );
  });

  it('applies base value to numeric values (RFC 8428)', () => {
    const records = codec.decode(utf8('[{"bn":"/3303/0/","bv":20,"n":"5700","v":2.5},{"n":"5601","v":-1}]'), ctx()).records;
    assert.deepEqual(records.map((r) => r.value), [22.5, 19]);
  });

  it('accepts base versions up to 10 and rejects newer packs', () => {
    assert.equal(codec.decode(utf8('[{"bver":10,"n":"/3/0/9","v":1}]'), ctx()).records.length, 1);
    const e = decodeError(() => codec.decode(utf8('[{"n":"/3/0/9","v":1},{"bver":11,"n":"/3/0/9","v":1}]'), ctx()));
    assert.equal(e.pointer, '/1/bver');
    assert.equal(e.offset, 22);
    assert.equal(e.partial.length, 1);
  });
});

describe('SenML JSON: types', () => {
  it('takes types from the model: integers may be written 100.0, floats 22', () => {
    const records = codec.decode(utf8('[{"n":"/3/0/9","v":100.0},{"n":"/3303/0/5700","v":22},{"n":"/3/0/13","v":1367491215}]'), ctx()).records;
    assert.deepEqual(
      records.map((r) => [r.type, r.value]),
      [
        ['integer', 100],
        ['float', 22],
        ['time', 1367491215],
      ],
    );
  });

  it('reads integers beyond 2^53 exactly', () => {
    const json = '[{"n":"/9999/0/2","v":18446744073709551615},{"n":"/9999/0/1","v":-9223372036854775808},{"n":"/9999/0/1","v":9007199254740993}]';
    const records = codec.decode(utf8(json), ctx()).records;
    assert.deepEqual(
      records.map((r) => r.value),
      [18446744073709551615n, -9223372036854775808n, 9007199254740993n],
    );
    assert.equal(text(codec.encode(records, ctx())), json);
  });

  it('rejects integers outside the resource type range', () => {
    assert.equal(decodeError(() => codec.decode(utf8('[{"n":"/9999/0/1","v":9223372036854775808}]'), ctx())).pointer, '/0/v');
    assert.equal(decodeError(() => codec.decode(utf8('[{"n":"/9999/0/2","v":-1}]'), ctx())).pointer, '/0/v');
    assert.equal(decodeError(() => codec.decode(utf8('[{"n":"/3/0/9","v":1.5}]'), ctx())).pointer, '/0/v');
  });

  it('accepts "vs" for objlnk resources (pitfall 29)', () => {
    assert.deepEqual(codec.decode(utf8('[{"n":"/3/0/22/0","vs":"3303:0"}]'), ctx()).records[0]!.value, { objectId: 3303, instanceId: 0 });
  });

  it('guesses types without a model, marks records unmodelled and says so once per resource', () => {
    const json = '[{"bn":"/4242/0/","n":"1","v":5},{"n":"2","v":2.5},{"n":"3","vs":"x"},{"n":"4","vb":false},{"n":"5","vd":"AQI"},{"n":"6","vlo":"1:2"},{"n":"1","v":6},{"bn":"/4242/1/","n":"1","v":7}]';
    const result = codec.decode(utf8(json), ctx('/', false));
    assert.deepEqual(
      result.records.map((r) => [r.type, r.value, r.modelled]),
      [
        ['integer', 5, false],
        ['float', 2.5, false],
        ['string', 'x', false],
        ['boolean', false, false],
        ['opaque', hex('0102'), false],
        ['objlnk', { objectId: 1, instanceId: 2 }, false],
        ['integer', 6, false],
        ['integer', 7, false],
      ],
    );
    assert.equal(result.notes.length, 6);
    assert.equal(result.notes[0], 'no model for /4242/0/1: type guessed from the "v" label');
  });

  it('writes integral floats as 22.0 so they read back as floats without a model', () => {
    const records: Lwm2mRecord[] = [{ path: p('/4242/0/1'), type: 'float', value: 22 }];
    const json = text(codec.encode(records, ctx()));
    assert.equal(json, '[{"n":"/4242/0/1","v":22.0}]');
    assert.equal(codec.decode(utf8(json), ctx('/', false)).records[0]!.type, 'float');
    assert.equal(codec.decode(utf8('[{"n":"/4242/0/1","v":22}]'), ctx('/', false)).records[0]!.type, 'integer');
  });
});

describe('SenML JSON: errors name the byte offset and JSON pointer', () => {
  const cases: [string, number, string, RegExp][] = [
    ['', 0, '', /JSON array/],
    ['{"n":"/3/0/0"}', 0, '', /JSON array/],
    ['[{"n":"/3/0/0","vs":"x"},}]', 25, '/1', /JSON object/],
    ['[{"n":"/3/0/0","vs":1}]', 20, '/0/vs', /string/],
    ['[{"n":"/3/0/0","vs":"x"}', 24, '', /"," or "]"/],
    ['[{"n":"/3/0/0" "vs":"x"}]', 15, '/0', /"," or "}"/],
    ['[{"n":"/3/0/0","vs":"x\u0001"}]', 22, '/0/vs', /control characters/],
    ['[{"n":"/3/0/0","vs":"\\x"}]', 22, '/0/vs', /escape/],
    ['[{"n":"/3/0/9","v":01}]', 20, '/0', /"," or "}"/],
    ['[{"n":"/3/0/9","v":1.}]', 21, '/0/v', /digit after/],
    ['[{"n":"/3/0/9","v":-}]', 20, '/0/v', /number/],
    ['[{"n":"/3/0/9","v":1e}]', 21, '/0/v', /exponent/],
    ['[{"n":"/3/0/9","v":true}]', 19, '/0/v', /number/],
    ['[{"n":"/3/0/9","v":1}] x', 23, '', /end of payload/],
    ['[{"n":"/3/0/9","v":1,"v":2}]', 21, '/0/v', /at most once/],
    ['[{"n":"/3/0/0","vs":"a","vb":true}]', 24, '/0/vb', /one value label/],
    ['[{"n":"/3/0/0","vs":null}]', 20, '/0/vs', /string/],
    ['[{"n":"/3/0/0","x_":1}]', 15, '/0/x_', /must-understand/],
    ['[{"n":"/5/0/0","vd":"q8*v"}]', 23, '/0/vd', /base64url/],
    ['[{"n":"/3/0/9","vs":"x"}]', 1, '/0/vs', /"v" with a integer/],
    ['[{"n":"3/0/9","v":1}]', 1, '/0/n', /LwM2M path/],
    ['[{"n":"/3/0/9/1/2","v":1}]', 1, '/0/n', /LwM2M path/],
    ['[{"n":"/3/65535/9","v":1}]', 1, '/0/n', /LwM2M path/],
    ['[{"bn":"/3/0/","v":1}]', 1, '/0/v', /resource or resource-instance/],
    ['[{"n":"/3/0/4","v":1}]', 1, '/0/v', /executable/],
    ['[{"n":"/3/0/22/0","vlo":"3303"}]', 1, '/0/vlo', /objlnk/],
  ];
  for (const [json, offset, pointer, expected] of cases) {
    it(`${json || '(empty)'} → byte ${offset}, pointer "${pointer}"`, () => {
      const e = decodeError(() => codec.decode(utf8(json), ctx()));
      assert.equal(e.format, 110);
      assert.equal(e.offset, offset, e.message);
      assert.equal(e.pointer, pointer, e.message);
      assert.match(e.message, expected);
    });
  }

  it('counts offsets in bytes, not characters', () => {
    const e = decodeError(() => codec.decode(utf8('[{"n":"/3/0/0","vs":"größe"},{"n":1}]'), ctx()));
    assert.equal(e.offset, 36);
    assert.equal(e.pointer, '/1/n');
  });

  it('rejects invalid UTF-8 inside strings at the string', () => {
    const bytes = Uint8Array.from([...utf8('[{"n":"/3/0/0","vs":"'), 0xc3, 0x28, ...utf8('"}]')]);
    const e = decodeError(() => codec.decode(bytes, ctx()));
    assert.equal(e.offset, 21);
    assert.match(e.expected, /UTF-8/);
  });

  it('limits the nesting of skipped values instead of overflowing the stack', () => {
    assert.equal(codec.decode(utf8(`[{"n":"/3/0/9","v":1,"x":${'['.repeat(60)}${']'.repeat(60)}}]`), ctx()).records.length, 1);
    const e = decodeError(() => codec.decode(utf8(`[{"n":"/3/0/9","v":1,"x":${'['.repeat(100000)}`), ctx()));
    assert.match(e.expected, /nesting/);
    assert.equal(e.pointer, '/0/x');
  });

  it('keeps the records decoded before the failure', () => {
    const e = decodeError(() => codec.decode(utf8('[{"n":"/3/0/9","v":1},{"n":"/3/0/10","v":2},{"n":"/3/0/11/0",'), ctx()));
    assert.deepEqual(
      e.partial.map((r) => r.value),
      [1, 2],
    );
  });
});

describe('SenML JSON: wire layer', () => {
  it('reads every label into a record with its span, skipping unknown ones', () => {
    const json = ' [ {"bver":10, "bn":"/a/", "bt":1.5, "bu":"V", "bv":2, "n":"b", "u":"m", "v":-0.25, "s":3, "t":-1, "ut":60, "x":{"y":[1,{"z":null}]} } ] ';
    const [rec] = read(json);
    assert.deepEqual(
      Object.fromEntries(Object.entries(rec!).filter(([, v]) => v !== undefined)),
      { bver: 10, bn: '/a/', bt: 1.5, bu: 'V', bv: 2, n: 'b', u: 'm', v: -0.25, float: true, s: 3, t: -1, ut: 60, span: [3, json.length - 3] },
    );
  });

  it('decodes escapes and non-ASCII strings', () => {
    const [rec] = read('[{"n":"a\\"b\\\\c\\u00fc\\ud83d\\ude00","vs":"größe ✓"}]');
    assert.equal(rec!.n, 'a"b\\cü😀');
    assert.equal(rec!.vs, 'größe ✓');
  });

  it('parses numbers exactly like JSON.parse', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0.1, 1e-7, 123456789012345, 0.000001234, 1e21, -0)), (x) => {
        const literal = JSON.stringify(x);
        const [rec] = read(`[{"t":${literal}}]`);
        assert.ok(Object.is(rec!.t, JSON.parse(literal)), literal);
      }),
      { numRuns: 2000 },
    );
    for (const literal of ['0.1', '1.7976931348623157e308', '5e-324', '123.456e-2', '1E+2', '100000000000000000000000', '0.30000000000000004', '9.999999999999999e22']) {
      assert.ok(Object.is(read(`[{"t":${literal}}]`)[0]!.t, JSON.parse(literal)), literal);
    }
  });

  it('writes what it reads', () => {
    const pack: SenmlRecord[] = [
      { bn: '/3/0/', bt: 1.5, n: '0', vs: 'a"b' },
      { n: '1', v: 2n ** 64n - 1n },
      { n: '2', v: null },
      { n: '3', vd: hex('FBFF') },
      { n: '4', vlo: '1:2', t: -3 },
      { n: '5', vb: false, float: undefined },
      {},
    ];
    const again = read(text(writeSenmlJson(pack)));
    assert.deepEqual(
      again.map((r) => Object.fromEntries(Object.entries(r).filter(([k, v]) => v !== undefined && k !== 'span'))),
      pack.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
    );
    assert.equal(text(writeSenmlJson([{ n: '3', vd: hex('FBFF') }])), '[{"n":"3","vd":"-_8"}]');
  });

  it('cannot write non-finite numbers', () => {
    assert.throws(() => writeSenmlJson([{ n: 'x', v: NaN }]), EncodeError);
  });
});

describe('SenML JSON: encoding conventions', () => {
  it('uses the request path as base name, like Leshan', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3/0/7/0'), type: 'integer', value: 3800 },
      { path: p('/3/0/7/1'), type: 'integer', value: 5000 },
    ];
    assert.equal(text(codec.encode(records, ctx('/3/0/7'))), '[{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}]');
    assert.equal(text(codec.encode(records, ctx('/3'))), '[{"bn":"/3/","n":"0/7/0","v":3800},{"n":"0/7/1","v":5000}]');
    assert.equal(text(codec.encode(records.slice(0, 1), ctx('/3/0/7/0'))), '[{"bn":"/3/0/7/0","v":3800}]');
    assert.equal(text(codec.encode(records, ctx())), '[{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}]');
    assert.equal(text(codec.encode(records.slice(0, 1), ctx())), '[{"n":"/3/0/7/0","v":3800}]');
  });

  it('writes a Send time series with one base name and a base time per timestamp', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3303/0/5700'), type: 'float', value: 20.5, time: 1700000000 },
      { path: p('/3303/0/5700'), type: 'float', value: 21, time: 1700000010 },
      { path: p('/3303/0/5700'), type: 'float', value: 21.5, time: 1700000010 },
    ];
    const json = text(codec.encode(records, ctx()));
    assert.equal(json, '[{"bn":"/3303/0/5700","bt":1700000000,"v":20.5},{"bt":1700000010,"v":21.0},{"v":21.5}]');
    assert.deepEqual(bare(codec.decode(utf8(json), ctx()).records), records);
  });

  it('cannot write a record without time after timed ones', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3303/0/5700'), type: 'float', value: 20.5, time: 1700000000 },
      { path: p('/3303/0/5701'), type: 'string', value: 'Cel' },
    ];
    assert.throws(() => codec.encode(records, ctx()), /without time/);
    assert.doesNotThrow(() => codec.encode([...records].reverse(), ctx()));
  });

  it('refuses values that do not fit their type', () => {
    for (const rec of [
      { path: p('/3/0/9'), type: 'integer', value: 'x' },
      { path: p('/3/0/9'), type: 'integer', value: 2 ** 64 },
      { path: p('/3/0/4'), type: 'none', value: 1 },
      { path: p('/3/0/22/0'), type: 'objlnk', value: { objectId: 70000, instanceId: 0 } },
      { path: p('/3303/0/5700'), type: 'float', value: Infinity },
    ] as Lwm2mRecord[]) {
      assert.throws(() => codec.encode([rec], ctx()), EncodeError, JSON.stringify(rec.value));
    }
  });

  it('the default codec uses the system clock for relative times', () => {
    const before = Date.now() / 1000;
    const time = senmlJsonCodec.decode(utf8('[{"n":"/3/0/9","v":1,"t":-10}]'), ctx()).records[0]!.time!;
    assert.ok(time >= before - 10 - 1 && time <= Date.now() / 1000 - 10 + 1);
  });
});

describe('SenML JSON: fuzzing', () => {
  it('random bytes only ever raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => onlyDecodeErrors(() => codec.decode(bytes, ctx()))),
      { numRuns: 3000 },
    );
  });

  it('random JSON-ish text only ever raises DecodeError', () => {
    const token = fc.constantFrom('[', ']', '{', '}', ',', ':', '"n"', '"bn"', '"v"', '"vs"', '"vd"', '"vlo"', '"t"', '"bt"', '"x_"', '"/3/0/9"', '"/3/0/"', '"9"', '1', '-2.5e3', '18446744073709551615', 'null', 'true', '"\\u00e9"', '"q83v"', ' ');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (tokens) => onlyDecodeErrors(() => codec.decode(utf8(tokens.join('')), ctx()))),
      { numRuns: 3000 },
    );
  });

  it('mutated valid payloads only ever raise DecodeError', () => {
    const valid = utf8(DEVICE_JSON);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 }), (edits) => {
        let bytes = Uint8Array.from(valid);
        for (const [at, byte, op] of edits) {
          const i = Math.min(at, bytes.length - 1);
          if (op === 'set') bytes[i] = byte;
          else if (op === 'cut') bytes = bytes.subarray(0, i);
          else bytes = Uint8Array.from([...bytes.subarray(0, i), byte, ...bytes.subarray(i)]);
        }
        onlyDecodeErrors(() => codec.decode(bytes, ctx()));
        onlyDecodeErrors(() => codec.decode(bytes, ctx('/', false)));
      }),
      { numRuns: 3000 },
    );
  });
});
