import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { decode as cborxDecode } from 'cbor-x';
import {
  CborReader,
  CborSimple,
  CborTag,
  CborWriter,
  DEFAULT_MAX_DEPTH,
  decodeCbor,
  encodeCbor,
  readCborItem,
  type CborValue,
} from '../../../src/core/codec/cbor/wire';
import { DecodeError } from '../../../src/core/errors';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a DecodeError');
}

describe('CBOR reader: RFC 8949 appendix A vectors', () => {
  const vectors: [string, CborValue][] = [
    ['00', 0],
    ['17', 23],
    ['1818', 24],
    ['1903e8', 1000],
    ['1a000f4240', 1000000],
    ['1b000000e8d4a51000', 1000000000000],
    ['1b001fffffffffffff', 9007199254740991],
    ['1b0020000000000000', 9007199254740992n],
    ['1bffffffffffffffff', 18446744073709551615n],
    ['20', -1],
    ['29', -10],
    ['3903e7', -1000],
    ['3b001ffffffffffffe', -9007199254740991],
    ['3b001fffffffffffff', -9007199254740992n],
    ['3bffffffffffffffff', -18446744073709551616n],
    ['f90000', 0],
    ['f98000', -0],
    ['f93c00', 1],
    ['fb3ff199999999999a', 1.1],
    ['f93e00', 1.5],
    ['f97bff', 65504],
    ['fa47c35000', 100000],
    ['fa7f7fffff', 3.4028234663852886e38],
    ['fb7e37e43c8800759c', 1e300],
    ['f90001', 5.960464477539063e-8],
    ['f90400', 0.00006103515625],
    ['f9c400', -4],
    ['fbc010666666666666', -4.1],
    ['f97c00', Infinity],
    ['f9fc00', -Infinity],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['f7', undefined],
    ['40', new Uint8Array()],
    ['4401020304', hex('01020304')],
    ['60', ''],
    ['6161', 'a'],
    ['6449455446', 'IETF'],
    ['62225c', '"\\'],
    ['62c3bc', '\u00fc'],
    ['63e6b0b4', '\u6c34'],
    ['64f0908591', '\ud800\udd51'],
    ['80', []],
    ['83010203', [1, 2, 3]],
    ['8301820203820405', [1, [2, 3], [4, 5]]],
    ['5f42010243030405ff', hex('0102030405')],
    ['7f657374726561646d696e67ff', 'streaming'],
    ['9fff', []],
    ['9f018202039f0405ffff', [1, [2, 3], [4, 5]]],
    ['826161bf61626163ff', ['a', new Map([['b', 'c']])]],
  ];
  for (const [h, want] of vectors) {
    it(`decodes ${h}`, () => {
      const got = decodeCbor(hex(h));
      if (typeof want === 'number' && Number.isNaN(want)) assert.ok(Number.isNaN(got));
      else assert.deepEqual(got, want);
      if (Object.is(want, -0)) assert.ok(Object.is(got, -0));
    });
  }

  it('decodes NaN in all three widths', () => {
    for (const h of ['f97e00', 'fa7fc00000', 'fb7ff8000000000000']) assert.ok(Number.isNaN(decodeCbor(hex(h)) as number));
  });

  it('decodes maps (with any keys), tags and simple values', () => {
    assert.deepEqual(decodeCbor(hex('a201020304')), new Map([[1, 2], [3, 4]]));
    const m = decodeCbor(hex('a26161016162820203')) as Map<CborValue, CborValue>;
    assert.deepEqual([...m.entries()], [['a', 1], ['b', [2, 3]]]);
    assert.deepEqual(decodeCbor(hex('c074323031332d30332d32315432303a30343a30305a')), new CborTag(0, '2013-03-21T20:04:00Z'));
    assert.deepEqual(decodeCbor(hex('c11a514b67b0')), new CborTag(1, 1363896240));
    assert.deepEqual(decodeCbor(hex('d82076687474703a2f2f7777772e6578616d706c652e636f6d')), new CborTag(32, 'http://www.example.com'));
    assert.deepEqual(decodeCbor(hex('f0')), new CborSimple(16));
    assert.deepEqual(decodeCbor(hex('f8ff')), new CborSimple(255));
  });

  it('reads decimal fractions and integers as numbers through readNumeric', () => {
    const r = new CborReader(hex('c4822119 6ab3 c48220182d 1a000f4240'), 60);
    assert.equal(r.readNumeric(), 273.15);
    assert.equal(r.isFloat, true);
    assert.equal(r.readNumeric(), 4.5);
    assert.equal(r.readNumeric(), 1000000);
    assert.equal(r.isFloat, false);
  });
});

describe('CBOR reader: errors carry the offset of the bad item', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /CBOR item/],
    ['18', 0, /1-byte argument/],
    ['1a0001', 0, /4-byte argument/],
    ['820102 03', 3, /end of payload/],
    ['83 01 02', 3, /CBOR item/],
    ['1c', 0, /reserved/],
    ['3f', 0, /definite-length/],
    ['df', 0, /definite-length/],
    ['ff', 0, /break/],
    ['81 ff', 1, /break/],
    ['f81f', 0, /simple value of 32/],
    ['62 c3', 0, /2 bytes of string/],
    ['62 c328', 0, /UTF-8/],
    ['7f 61 61 41 61 ff', 3, /definite text string chunk/],
    ['5f 5f ff ff', 1, /definite byte string chunk/],
    ['bf 01 ff', 2, /CBOR item/],
    ['a1 01', 2, /CBOR item/],
  ];
  for (const [h, offset, expected] of cases) {
    it(`rejects ${h || '(empty)'} at byte ${offset}`, () => {
      const e = decodeError(() => decodeCbor(hex(h)));
      assert.equal(e.offset, offset, e.message);
      assert.match(e.message, expected);
      assert.equal(e.format, 60);
    });
  }

  it('names the given content format', () => {
    assert.equal(decodeError(() => decodeCbor(hex('18'), 11544)).format, 11544);
  });

  it('rejects the LwM2M Academy "SenML CBOR" sample at offset 13 (§11.7)', () => {
    const academy = hex('A4 83 18 67 98 56 42 02 82 00 18 3B 0F 7B 76 82 00 18 3E 48 3C 29 82 00 18 41 CE 4B FD 82 01 18 3F B2 A7 28');
    assert.equal(academy.length, 36);
    const e = decodeError(() => decodeCbor(academy));
    assert.equal(e.offset, 13);
    assert.match(e.expected, /bytes of string/);
    assert.equal(decodeError(() => readCborItem(academy)).offset, 13);
  });

  it('limits nesting depth instead of overflowing the stack', () => {
    const deep = new Uint8Array(100_000).fill(0x81);
    const e = decodeError(() => decodeCbor(deep));
    assert.match(e.expected, new RegExp(`${DEFAULT_MAX_DEPTH} levels`));
    assert.equal(decodeError(() => readCborItem(deep)).offset, DEFAULT_MAX_DEPTH + 1);
    assert.deepEqual(decodeCbor(new Uint8Array([...new Uint8Array(10).fill(0x81), 0x00])), [[[[[[[[[[0]]]]]]]]]]);
  });

  it('rejects a count too large for any payload without allocating it', () => {
    assert.match(decodeError(() => decodeCbor(hex('9b ffffffffffffffff 00'))).expected, /count/);
  });
});

describe('CBOR reader: item spans for the inspector', () => {
  it('gives head and whole-item ranges, nested', () => {
    const item = readCborItem(hex('a2 6161 1903e8 6162 82 f5 5f 4101 ff'));
    assert.equal(item.major, 5);
    assert.deepEqual(item.head, [0, 1]);
    assert.deepEqual(item.span, [0, 14]);
    assert.equal(item.value, 2);
    const [k1, v1, k2, v2] = item.children!;
    assert.deepEqual([k1!.span, k1!.value], [[1, 3], 'a']);
    assert.deepEqual([v1!.head, v1!.span, v1!.value], [[3, 6], [3, 6], 1000]);
    assert.deepEqual([k2!.span, k2!.value], [[6, 8], 'b']);
    assert.deepEqual(v2!.span, [8, 14]);
    const [t, chunks] = v2!.children!;
    assert.deepEqual([t!.span, t!.value], [[9, 10], true]);
    assert.equal(chunks!.indefinite, true);
    assert.deepEqual(chunks!.value, hex('01'));
    assert.deepEqual(chunks!.children!.map((c) => c.span), [[11, 13]]);
  });

  it('gives tags their content as a child', () => {
    const item = readCborItem(hex('c1 1a 514b67b0'));
    assert.equal(item.value, 1);
    assert.deepEqual(item.children![0]!.span, [1, 6]);
  });
});

describe('CBOR writer: preferred serialization', () => {
  const cases: [CborValue, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18FF'],
    [256, '190100'],
    [65535, '19FFFF'],
    [65536, '1A00010000'],
    [4294967295, '1AFFFFFFFF'],
    [4294967296, '1B0000000100000000'],
    [9007199254740991, '1B001FFFFFFFFFFFFF'],
    [18446744073709551615n, '1BFFFFFFFFFFFFFFFF'],
    [-1, '20'],
    [-25, '3818'],
    [-18446744073709551616n, '3BFFFFFFFFFFFFFFFF'],
    [0.5, 'F93800'],
    [22.5, 'F94DA0'],
    [-0, 'F98000'],
    [5.960464477539063e-8, 'F90001'],
    [0.00006103515625, 'F90400'],
    [100000, '1A000186A0'],
    [100000.5, 'FA47C35040'],
    [3.4028234663852886e38, 'FA7F7FFFFF'],
    [1.1, 'FB3FF199999999999A'],
    [1e300, 'FB7E37E43C8800759C'],
    [Infinity, 'F97C00'],
    [-Infinity, 'F9FC00'],
    [NaN, 'F97E00'],
    ['IETF', '6449455446'],
    ['\u00fc', '62C3BC'],
    [hex('01020304'), '4401020304'],
    [[1, [2, 3]], '8201820203'],
    [new Map<CborValue, CborValue>([[-2, '/3/0/']]), 'A121652F332F302F'],
    [new CborTag(1, 1363896240), 'C11A514B67B0'],
    [new CborSimple(255), 'F8FF'],
    [null, 'F6'],
    [undefined, 'F7'],
    [true, 'F5'],
  ];
  for (const [value, h] of cases) {
    it(`writes ${String(value instanceof Map ? 'a map' : value)} as ${h}`, () => assert.equal(toHex(encodeCbor(value)), h));
  }

  it('picks float16 only when exact, including subnormals', () => {
    const w = new CborWriter();
    w.float(2 ** -24).float(3 * 2 ** -24).float(2 ** -25).float(1 + 2 ** -10).float(1 + 2 ** -11).float(65504).float(65520);
    assert.equal(toHex(w.finish()), 'F90001' + 'F90003' + 'FA33000000' + 'F93C01' + 'FA3F801000' + 'F97BFF' + 'FA477FF000');
  });

  it('grows its buffer for large payloads', () => {
    const big = new Uint8Array(100_000).fill(7);
    assert.deepEqual(decodeCbor(encodeCbor([big, 'x'.repeat(70_000)])), [big, 'x'.repeat(70_000)]);
  });
});

describe('CBOR properties', () => {
  const value = fc.letrec<{ any: CborValue }>((tie) => ({
    any: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }).map((b) => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b)),
      fc.double(),
      fc.string({ unit: 'grapheme' }),
      fc.uint8Array(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('any'), { maxLength: 5 }),
      fc.array(fc.tuple(fc.oneof(fc.integer(), fc.string()), tie('any')), { maxLength: 5 }).map((pairs) => new Map<CborValue, CborValue>(pairs as [CborValue, CborValue][])),
      fc.tuple(fc.integer({ min: 6, max: 1000 }), tie('any')).map(([t, v]) => new CborTag(t, v as CborValue)),
    ),
  })).any;

  it('decode(encode(v)) equals v', () => {
    fc.assert(
      fc.property(value, (v) => {
        assert.deepEqual(decodeCbor(encodeCbor(v)), v);
      }),
    );
  });

  /** cbor-x reads every 64-bit integer as a bigint: back to a number where that is exact. */
  const safeNumbers = (v: unknown): unknown =>
    typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Array.isArray(v) ? v.map(safeNumbers) : v;

  it('agrees with cbor-x on what it writes', () => {
    const plain = fc.letrec<{ any: CborValue }>((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.double({ noNaN: true }),
        fc.string(),
        fc.boolean(),
        fc.array(tie('any'), { maxLength: 4 }),
      ),
    })).any;
    fc.assert(
      fc.property(plain, (v) => {
        assert.deepEqual(safeNumbers(cborxDecode(encodeCbor(v))), v);
      }),
    );
    // An integral double beyond 32 bits is written as a 64-bit integer, which cbor-x reads as a bigint.
    assert.deepEqual(safeNumbers(cborxDecode(encodeCbor(-479614040781736))), -479614040781736);
  });

  it('random bytes only ever raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const read of [decodeCbor, readCborItem]) {
          try {
            read(bytes);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('spans of readCborItem tile the payload', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCbor(v);
        const item = readCborItem(bytes);
        assert.deepEqual(item.span, [0, bytes.length]);
        const check = (it: typeof item) => {
          let at = it.head[1];
          for (const c of it.children ?? []) {
            assert.equal(c.span[0], at);
            check(c);
            at = c.span[1];
          }
          if (it.children) assert.equal(it.span[1], at + (it.indefinite ? 1 : 0));
        };
        check(item);
      }),
    );
  });
});
