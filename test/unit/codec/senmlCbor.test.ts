import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { createSenmlCborCodec, readSenmlCbor, SenmlCollector, writeSenmlCbor, type SenmlRecord } from '../../../src/core/codec/senml';
import type { CodecContext } from '../../../src/core/codec/types';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { DEVICE_RECORDS, decodeError, hex, NOW, onlyDecodeErrors, senmlModels, toHex } from './senmlStaticModel';

const codec = createSenmlCborCodec({ now: () => NOW });
const ctx = (path = '/', models = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(models ? { models: senmlModels } : {}) });
const p = (s: string) => Lwm2mPath.parse(s);
const bare = (records: Lwm2mRecord[]) => records.map(({ span: _span, ...r }) => r);
const clean = (h: string) => h.replace(/\s+/g, '').toUpperCase();

function read(bytes: Uint8Array): SenmlRecord[] {
  const sink = new SenmlCollector();
  readSenmlCbor(bytes, sink);
  return sink.records;
}

/** §11.5: Notify/Send of a temperature with an absolute base time (40 bytes). */
const TEMPERATURE = `
  82
  A4 21 68 2F 33 33 30 33 2F 30 2F
     22 1A 65 53 F1 00
     00 64 35 37 30 30
     02 F9 4D A0
  A2 00 64 35 37 30 31
     03 63 43 65 6C`;

describe('SenML CBOR: spec vectors', () => {
  it('§11.4 Read /3/0: 196 bytes with the fragments the spec shows, and back', () => {
    const bytes = codec.encode(DEVICE_RECORDS, ctx('/3/0'));
    assert.equal(bytes.length, 196);
    const h = toHex(bytes);
    assert.ok(h.startsWith(clean('90 A3 21 65 2F332F302F 00 61 30 03 74 4F70656E')), h);
    for (const fragment of ['A2 00 61 31 03 76 4C69', 'A2 00 61 32 03 69 333435303030313233', 'A2 00 61 33 03 63 312E30', 'A2 00 63 362F30 02 01', 'A2 00 63 362F31 02 05', 'A2 00 63 372F30 02 19 0ED8', 'A2 00 62 3133 02 1A 5182428F', 'A2 00 62 3134 03 66 2B30323A3030']) {
      assert.ok(h.includes(clean(fragment)), fragment);
    }
    assert.ok(h.endsWith(clean('A2 00 62 3136 03 61 55')));
    assert.deepEqual(bare(codec.decode(bytes, ctx('/3/0')).records), DEVICE_RECORDS);
  });

  it('§11.5 temperature with base time: decodes, and encodes to the same 40 bytes', () => {
    const bytes = hex(TEMPERATURE);
    assert.equal(bytes.length, 40);
    const result = codec.decode(bytes, ctx('/3303/0'));
    assert.deepEqual(result.records, [
      { path: p('/3303/0/5700'), type: 'float', value: 22.5, time: 1700000000, span: [1, 28] },
      { path: p('/3303/0/5701'), type: 'string', value: 'Cel', time: 1700000000, span: [28, 40] },
    ]);
    assert.equal(toHex(codec.encode(result.records, ctx('/3303/0'))), clean(TEMPERATURE));
  });

  it('§11.6 Read-Composite request paths: the spec bytes', () => {
    const bytes = hex('82 A1 00 66 2F332F302F30  A1 00 6C 2F333330332F302F35373030');
    const records = codec.decode(bytes, ctx()).records;
    assert.deepEqual(bare(records), [
      { path: p('/3/0/0'), type: 'string', value: null },
      { path: p('/3303/0/5700'), type: 'float', value: null },
    ]);
    assert.equal(toHex(codec.encode(records, ctx())), toHex(bytes));
  });

  it('§11.6 Write-Composite: the spec bytes', () => {
    const bytes = hex('82 A2 00 6C 2F333331312F302F35383530 04 F5  A2 00 6C 2F333331312F312F35383531 02 18 32');
    const records = codec.decode(bytes, ctx()).records;
    assert.deepEqual(bare(records), [
      { path: p('/3311/0/5850'), type: 'boolean', value: true },
      { path: p('/3311/1/5851'), type: 'integer', value: 50 },
    ]);
    assert.equal(toHex(codec.encode(records, ctx())), toHex(bytes));
  });

  it('§11.6 deletion: v = null (F6)', () => {
    const bytes = hex('81 A2 00 68 2F332F302F372F31 02 F6');
    const records = codec.decode(bytes, ctx()).records;
    assert.deepEqual(bare(records), [{ path: p('/3/0/7/1'), type: 'integer', value: null }]);
    assert.equal(toHex(createSenmlCborCodec({ nullValue: 'null' }).encode(records, ctx())), toHex(bytes));
  });

  it('§11.3 opaque as a byte string (08 43 ABCDEF), objlnk under the text key "vlo"', () => {
    const bytes = hex('82 A2 00 66 2F352F302F30 08 43 ABCDEF  A2 00 69 2F36352F302F302F30 63 766C6F 64 36363A30');
    const records = codec.decode(bytes, ctx()).records;
    assert.deepEqual(bare(records), [
      { path: p('/5/0/0'), type: 'opaque', value: hex('ABCDEF') },
      { path: p('/65/0/0/0'), type: 'objlnk', value: { objectId: 66, instanceId: 0 } },
    ]);
    assert.equal(toHex(codec.encode(records, ctx())), toHex(bytes));
  });

  it('accepts Leshan\'s base time as a decimal fraction (C4 82 00 1A 1DCD6504)', () => {
    const bytes = hex('81 A3 21 6C 2F333330332F302F35373030 22 C4 82 00 1A 1DCD6504 02 F9 4DA0');
    assert.equal(codec.decode(bytes, ctx()).records[0]!.time, 500000004);
  });

  it('§11.7 the LwM2M Academy sample is not SenML: DecodeError at offset 0', () => {
    const academy = hex('A4 83 18 67 98 56 42 02 82 00 18 3B 0F 7B 76 82 00 18 3E 48 3C 29 82 00 18 41 CE 4B FD 82 01 18 3F B2 A7 28');
    const e = decodeError(() => codec.decode(academy, ctx()));
    assert.equal(e.offset, 0);
    assert.equal(e.format, 112);
    assert.match(e.message, /array \(SenML pack\), found map/);
  });
});

describe('SenML CBOR: wire layer', () => {
  it('reads every label with integer keys, indefinite lengths, and spans', () => {
    const bytes = hex(
      '9F BF 20 0A 21 62 2F61 22 F9 3E00 23 61 56 24 02 00 61 62 01 61 6D 02 F9 B400 05 03 06 20 07 18 3C 25 00 FF  A1 02 1B 0020000000000000 FF',
    );
    const [a, b] = read(bytes);
    const defined = (r: SenmlRecord) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
    assert.deepEqual(defined(a!), { bver: 10, bn: '/a', bt: 1.5, bu: 'V', bv: 2, n: 'b', u: 'm', v: -0.25, float: true, s: 3, t: -1, ut: 60, span: [1, 37] });
    assert.deepEqual(defined(b!), { v: 2n ** 53n, span: [37, 48] });
  });

  it('writes what it reads', () => {
    const pack: SenmlRecord[] = [
      { bver: 10, bn: '/3/0/', bt: 1.5, n: '0', vs: 'ü' },
      { n: '1', v: -(2n ** 64n) },
      { n: '2', v: null },
      { n: '3', vd: hex('FBFF') },
      { n: '4', vlo: '1:2', t: -3, ut: 1 },
      { n: '5', vb: false, u: 'x', bu: 'y', bv: 1, s: 2 },
      { n: '6', v: 22, float: true },
      {},
    ];
    const again = read(writeSenmlCbor(pack));
    assert.deepEqual(
      again.map((r) => Object.fromEntries(Object.entries(r).filter(([k, v]) => v !== undefined && k !== 'span'))),
      pack.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
    );
  });

  it('writes integral floats as float items when hinted, integers otherwise', () => {
    assert.equal(toHex(writeSenmlCbor([{ v: 22, float: true }, { v: 22 }])), '82A102F94D80A10216');
  });
});

describe('SenML CBOR: errors name the byte offset', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /CBOR item/],
    ['A0', 0, /array \(SenML pack\)/],
    ['81 80', 1, /map \(SenML record\)/],
    ['82 A2 00 66 2F332F302F39 02 01', 12, /CBOR item/],
    ['81 A1 00 01', 3, /text string \(n\)/],
    ['81 A1 61 33 01', 2, /integer label/],
    ['81 A1 62 7673 01', 2, /integer label/],
    ['81 A0', 1, /LwM2M path/],
    ['81 A1 40 01', 2, /integer or text label/],
    ['81 A1 62 785F 01', 2, /must-understand/],
    ['81 A2 02 01 02 02', 4, /at most once/],
    ['81 A2 02 01 03 61 78', 4, /one value label/],
    ['81 A1 08 61 78', 3, /byte string \(vd\)/],
    ['81 A1 04 01', 3, /boolean \(vb\)/],
    ['81 A1 03 F6', 3, /text string \(vs\)/],
    ['81 A1 02 61 78', 3, /number or null/],
    ['81 A1 00 62 C328', 3, /UTF-8/],
    ['81 A2 00 66 2F332F302F39 03 61 78', 1, /"v" with a integer/],
    ['80 00', 1, /end of payload/],
  ];
  for (const [h, offset, expected] of cases) {
    it(`${h || '(empty)'} → byte ${offset}`, () => {
      const e = decodeError(() => codec.decode(hex(h), ctx()));
      assert.equal(e.offset, offset, e.message);
      assert.match(e.message, expected);
      assert.equal(e.pointer, undefined);
    });
  }

  it('skips unknown labels (with any nesting up to the limit)', () => {
    const ok = hex('81 A3 00 66 2F332F302F39 02 01 25 ' + '81'.repeat(60) + '00');
    assert.equal(codec.decode(ok, ctx()).records[0]!.value, 1);
    const deep = Uint8Array.from([...hex('81 A2 00 66 2F332F302F39 25'), ...new Uint8Array(100000).fill(0x81)]);
    assert.match(decodeError(() => codec.decode(deep, ctx())).expected, /nesting/);
  });

  it('keeps the records decoded before the failure', () => {
    const e = decodeError(() => codec.decode(hex('83 A2 00 66 2F332F302F39 02 01  A2 00 67 2F332F302F3130 02 02  A2 00'), ctx()));
    assert.deepEqual(
      e.partial.map((r) => [r.path.toString(), r.value]),
      [
        ['/3/0/9', 1],
        ['/3/0/10', 2],
      ],
    );
  });
});

describe('SenML CBOR: types without a model', () => {
  it('guesses Float from a float item even when integral', () => {
    const result = codec.decode(hex('82 A2 00 69 2F343234322F302F31 02 F9 4D80  A2 00 69 2F343234322F302F32 02 16'), ctx('/', false));
    assert.deepEqual(
      result.records.map((r) => [r.type, r.value, r.modelled]),
      [
        ['float', 22, false],
        ['integer', 22, false],
      ],
    );
    assert.equal(result.notes.length, 2);
  });
});

describe('SenML CBOR: fuzzing', () => {
  it('random bytes only ever raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        onlyDecodeErrors(() => codec.decode(bytes, ctx()));
        onlyDecodeErrors(() => codec.decode(Uint8Array.from([0x81, ...bytes]), ctx()));
        onlyDecodeErrors(() => codec.decode(Uint8Array.from([0x81, 0xa2, ...bytes]), ctx('/', false)));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid payloads only ever raise DecodeError', () => {
    const valid = [codec.encode(DEVICE_RECORDS, ctx('/3/0')), hex(TEMPERATURE)];
    fc.assert(
      fc.property(fc.nat(1), fc.array(fc.tuple(fc.nat(250), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 }), (which, edits) => {
        let bytes = Uint8Array.from(valid[which]!);
        for (const [at, byte, op] of edits) {
          const i = Math.min(at, bytes.length - 1);
          if (op === 'set') bytes[i] = byte;
          else if (op === 'cut') bytes = bytes.subarray(0, i);
          else bytes = Uint8Array.from([...bytes.subarray(0, i), byte, ...bytes.subarray(i)]);
        }
        onlyDecodeErrors(() => codec.decode(bytes, ctx('/3/0')));
        onlyDecodeErrors(() => codec.decode(bytes, ctx('/', false)));
      }),
      { numRuns: 3000 },
    );
  });
});
