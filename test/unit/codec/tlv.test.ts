import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tlvCodec } from '../../../src/core/codec/tlv';
import { decodeTlv, encodeTlv, type TlvInput } from '../../../src/core/codec/tlv/wire';
import { DecodeError, EncodeError } from '../../../src/core/errors';
import type { Lwm2mRecord, Value, ValueType } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import type { CodecContext } from '../../../src/core/codec/types';
import { hex, staticModels, toHexString } from './staticModel';

const models = staticModels();
const ctx = (path: string, withModels = true): CodecContext => ({ path: Lwm2mPath.parse(path), ...(withModels ? { models } : {}) });

/** lwm2m-protocol.md §10.4: Device /3/0, 121 bytes. */
const DEVICE = hex(`C800144F70656E204D6F62696C6520416C6C69616E6365 C801164C69676874776569676874204D324D20436C69656E74
C80209333435303030313233 C303312E30 860641000141010588070842000ED842011388 870841007D42010384
C10964 C10A0F 830B410000 C40D5182428F C60E2B30323A3030 C11055`);
const DEVICE_WRAPPED = new Uint8Array([0x08, 0x00, 0x79, ...DEVICE]);
/** §10.5 vectors. */
const SERVER = hex('08 00 0F  C1 00 01  C4 01 00 01 51 80  C1 06 01  C1 07 55');
const ACL = hex('08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F  08 02 12 C1 00 03 C1 01 00 87 02 41 7F 07 61 01 36 01 C1 03 7F');
const OBJLNK_MULTI = hex('88 00 0C 44 00 00 42 00 00 44 01 00 42 00 01');

function values(records: Lwm2mRecord[]): Record<string, unknown> {
  return Object.fromEntries(records.map((r) => [r.path.toString(), r.value]));
}

function expectDecodeError(fn: () => unknown, offset: number, match?: RegExp): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    assert.equal(e.offset, offset, e.message);
    if (match) assert.match(e.message, match);
    return e;
  }
  assert.fail('expected a DecodeError');
}

describe('TLV wire layer', () => {
  it('reads every header form', () => {
    // 8-bit id inline length; 16-bit id; 8/16/24-bit length fields
    const big = new Uint8Array(70000).fill(0x61);
    const bytes = new Uint8Array([0xc1, 0x05, 0x07, 0xe1, 0x01, 0x36, 0x01, 0xc8, 0x02, 0x01, 0xaa, 0xd0, 0x03, 0x00, 0x01, 0xbb, 0xd8, 0x04, 0x01, 0x11, 0x70, ...big]);
    const recs = decodeTlv(bytes);
    assert.deepEqual(
      recs.map((r) => [r.kind, r.id, r.value!.length, r.start, r.valueStart, r.end]),
      [
        ['resource', 5, 1, 0, 2, 3],
        ['resource', 310, 1, 3, 6, 7],
        ['resource', 2, 1, 7, 10, 11],
        ['resource', 3, 1, 11, 15, 16],
        ['resource', 4, 70000, 16, 21, 70021],
      ],
    );
  });

  it('nests records and keeps absolute offsets', () => {
    const recs = decodeTlv(DEVICE_WRAPPED);
    assert.equal(recs.length, 1);
    const inst = recs[0]!;
    assert.equal(inst.kind, 'objectInstance');
    assert.equal(inst.children!.length, 13);
    const power = inst.children![4]!;
    assert.equal(power.kind, 'multipleResource');
    assert.deepEqual([power.start, power.valueStart, power.end], [68, 70, 76]);
    assert.deepEqual(
      power.children!.map((c) => [c.id, c.start, c.valueStart, c.end]),
      [
        [0, 70, 72, 73],
        [1, 73, 75, 76],
      ],
    );
  });

  it('writes the shortest header forms', () => {
    const recs: TlvInput[] = [
      { kind: 'resource', id: 1, value: new Uint8Array(7) },
      { kind: 'resource', id: 2, value: new Uint8Array(8) },
      { kind: 'resource', id: 300, value: new Uint8Array(256) },
      { kind: 'resource', id: 4, value: new Uint8Array(65536) },
      { kind: 'multipleResource', id: 6, children: [] },
      { kind: 'objectInstance', id: 5, children: [] },
    ];
    const out = encodeTlv(recs);
    assert.equal(toHexString(out.subarray(0, 2)), 'c701');
    assert.equal(toHexString(out.subarray(9, 12)), 'c80208');
    assert.equal(toHexString(out.subarray(20, 25)), 'f0012c0100');
    assert.equal(toHexString(out.subarray(281, 286)), 'd804010000');
    assert.equal(toHexString(out.subarray(out.length - 4)), '80060005');
    assert.deepEqual(encodeTlv(decodeTlv(out)), out);
  });

  it('re-encodes the spec vectors byte for byte', () => {
    for (const v of [DEVICE, DEVICE_WRAPPED, SERVER, ACL, OBJLNK_MULTI]) assert.deepEqual(encodeTlv(decodeTlv(v)), v);
  });

  it('rejects truncated headers at the missing byte', () => {
    expectDecodeError(() => decodeTlv(hex('c1')), 1, /8-bit identifier/);
    expectDecodeError(() => decodeTlv(hex('e1 01')), 2, /16-bit identifier/);
    expectDecodeError(() => decodeTlv(hex('c8 00')), 2, /8-bit length field/);
    expectDecodeError(() => decodeTlv(hex('c1 09 64 d8 00 00 01')), 7, /24-bit length field/);
  });

  it('rejects lengths beyond the payload at the record start', () => {
    expectDecodeError(() => decodeTlv(hex('c1 09 64 c3 0a 01 02')), 3, /3 value bytes.*only 2 bytes/);
    expectDecodeError(() => decodeTlv(hex('c8 00 14 4f 70')), 0, /20 value bytes/);
    // child overruns its container
    expectDecodeError(() => decodeTlv(hex('86 06 41 00 01 42 01 05')), 5, /enclosing Multiple Resource TLV/);
  });

  it('rejects records in the wrong container', () => {
    expectDecodeError(() => decodeTlv(hex('03 00 41 00 01')), 2, /Resource Instance TLV .* inside an? Object Instance/);
    expectDecodeError(() => decodeTlv(hex('83 06 c1 00 01')), 2, /Resource TLV .* inside a Multiple Resource/);
    expectDecodeError(() => decodeTlv(hex('05 01 03 00 c1 00 01')), 2, /Object Instance TLV/);
  });
});

describe('TLV codec: spec vectors', () => {
  it('decodes Device /3/0 (§10.4) with the model', () => {
    const r = tlvCodec.decode(DEVICE, ctx('/3/0'));
    assert.deepEqual(r.notes, []);
    assert.deepEqual(values(r.records), {
      '/3/0/0': 'Open Mobile Alliance',
      '/3/0/1': 'Lightweight M2M Client',
      '/3/0/2': '345000123',
      '/3/0/3': '1.0',
      '/3/0/6/0': 1,
      '/3/0/6/1': 5,
      '/3/0/7/0': 3800,
      '/3/0/7/1': 5000,
      '/3/0/8/0': 125,
      '/3/0/8/1': 900,
      '/3/0/9': 100,
      '/3/0/10': 15,
      '/3/0/11/0': 0,
      '/3/0/13': 1367491215,
      '/3/0/14': '+02:00',
      '/3/0/16': 'U',
    });
    assert.equal(r.records.find((x) => x.path.toString() === '/3/0/13')!.type, 'time');
    assert.deepEqual(r.records[0]!.span, [0, 23]);
    assert.deepEqual(r.records[4]!.span, [67, 70]);
    assert.deepEqual(r.records.at(-1)!.span, [118, 121]);
  });

  it('decodes Device /3/0 with and without the instance wrapper, at /3/0 and /3', () => {
    const bare = tlvCodec.decode(DEVICE, ctx('/3/0')).records;
    const wrapped = tlvCodec.decode(DEVICE_WRAPPED, ctx('/3/0')).records;
    const object = tlvCodec.decode(DEVICE_WRAPPED, ctx('/3')).records;
    assert.deepEqual(values(wrapped), values(bare));
    assert.deepEqual(values(object), values(bare));
  });

  it('re-encodes Device /3/0 byte for byte (bare at /3/0, wrapped at /3)', () => {
    assert.deepEqual(tlvCodec.encode(tlvCodec.decode(DEVICE, ctx('/3/0')).records, ctx('/3/0')), DEVICE);
    assert.deepEqual(tlvCodec.encode(tlvCodec.decode(DEVICE_WRAPPED, ctx('/3/0')).records, ctx('/3')), DEVICE_WRAPPED);
  });

  it('decodes and re-encodes Server /1 (§10.5)', () => {
    const r = tlvCodec.decode(SERVER, ctx('/1'));
    assert.deepEqual(values(r.records), { '/1/0/0': 1, '/1/0/1': 86400, '/1/0/6': true, '/1/0/7': 'U' });
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/1')), SERVER);
  });

  it('decodes and re-encodes ACL /2 with a 16-bit resource instance id (§10.5)', () => {
    const r = tlvCodec.decode(ACL, ctx('/2'));
    assert.deepEqual(values(r.records), {
      '/2/0/0': 1,
      '/2/0/1': 0,
      '/2/0/2/127': 7,
      '/2/0/3': 127,
      '/2/2/0': 3,
      '/2/2/1': 0,
      '/2/2/2/127': 7,
      '/2/2/2/310': 1,
      '/2/2/3': 127,
    });
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/2')), ACL);
  });

  it('decodes and re-encodes an objlnk multiple resource (§10.5)', () => {
    const r = tlvCodec.decode(OBJLNK_MULTI, ctx('/9999/0'));
    assert.deepEqual(values(r.records), { '/9999/0/0/0': { objectId: 66, instanceId: 0 }, '/9999/0/0/1': { objectId: 66, instanceId: 1 } });
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/9999/0')), OBJLNK_MULTI);
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/9999/0/0')), OBJLNK_MULTI);
  });
});

describe('TLV codec: request paths (§10.3)', () => {
  it('decodes a single resource at /O/I/R', () => {
    const r = tlvCodec.decode(hex('c1 09 64'), ctx('/3/0/9'));
    assert.deepEqual(values(r.records), { '/3/0/9': 100 });
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/3/0/9')), hex('c1 09 64'));
  });

  it('decodes a multiple resource at /O/I/R and a resource instance at /O/I/R/RI', () => {
    const multi = hex('86 06 41 00 01 41 01 05');
    assert.deepEqual(values(tlvCodec.decode(multi, ctx('/3/0/6')).records), { '/3/0/6/0': 1, '/3/0/6/1': 5 });
    assert.deepEqual(tlvCodec.encode(tlvCodec.decode(multi, ctx('/3/0/6')).records, ctx('/3/0/6')), multi);
    const ri = hex('41 01 05');
    assert.deepEqual(values(tlvCodec.decode(ri, ctx('/3/0/6/1')).records), { '/3/0/6/1': 5 });
    assert.deepEqual(tlvCodec.encode(tlvCodec.decode(ri, ctx('/3/0/6/1')).records, ctx('/3/0/6/1')), ri);
  });

  it('names resources and resource instances with small and large ids (shared paths, valid ids)', () => {
    // ids below 256 and above (5700, 65534) are kept apart by the decoder's path cache
    const bytes = encodeTlv([
      {
        kind: 'objectInstance',
        id: 7,
        children: [
          { kind: 'resource', id: 1, value: new Uint8Array([1]) },
          { kind: 'resource', id: 5700, value: new Uint8Array([2]) },
          { kind: 'multipleResource', id: 65534, children: [{ kind: 'resourceInstance', id: 300, value: new Uint8Array([3]) }] },
          { kind: 'multipleResource', id: 9, children: [{ kind: 'resourceInstance', id: 0, value: new Uint8Array([4]) }] },
        ],
      },
    ]);
    const first = tlvCodec.decode(bytes, ctx('/9999', false)).records;
    assert.deepEqual(first.map((r) => r.path.toString()), ['/9999/7/1', '/9999/7/5700', '/9999/7/65534/300', '/9999/7/9/0']);
    for (const r of first) {
      assert.ok(Object.isFrozen(r.path.ids), `${r.path.toString()}: ids are frozen`);
      assert.ok(r.path.equals(Lwm2mPath.parse(r.path.toString())));
    }
    const again = tlvCodec.decode(bytes, ctx('/9999', false)).records;
    again.forEach((r, i) => assert.equal(r.path, first[i]!.path, 'the same path object is shared between decodes'));
    assert.deepEqual(Lwm2mPath.checked([3, 0, 5700]), Lwm2mPath.parse('/3/0/5700'));
  });
  it('rejects ids that contradict the request path, at the record', () => {
    expectDecodeError(() => tlvCodec.decode(DEVICE_WRAPPED, ctx('/3/1')), 0, /object instance id 1 .* id 0/);
    expectDecodeError(() => tlvCodec.decode(hex('c1 09 64'), ctx('/3/0/10')), 0, /resource id 10/);
    expectDecodeError(() => tlvCodec.decode(hex('86 06 41 00 01 41 01 05'), ctx('/3/0/6/1')), 2, /resource instance id 1/);
  });

  it('rejects records that need a longer request path', () => {
    expectDecodeError(() => tlvCodec.decode(hex('c1 09 64'), ctx('/3')), 0, /at least \/O\/I/);
    expectDecodeError(() => tlvCodec.decode(DEVICE_WRAPPED, ctx('/')), 0, /at least \/O/);
    expectDecodeError(() => tlvCodec.decode(hex('41 01 05'), ctx('/3/0')), 0, /at least \/O\/I\/R/);
  });

  it('round-trips an empty object instance and an empty multiple resource (§19.27/28)', () => {
    const emptyInstance = hex('00 05');
    const r1 = tlvCodec.decode(emptyInstance, ctx('/9999'));
    assert.equal(r1.records.length, 1);
    assert.equal(r1.records[0]!.path.toString(), '/9999/5');
    assert.equal(r1.records[0]!.value, null);
    assert.deepEqual(tlvCodec.encode(r1.records, ctx('/9999')), emptyInstance);
    const emptyMulti = hex('80 06');
    const r2 = tlvCodec.decode(emptyMulti, ctx('/3/0'));
    assert.equal(r2.records[0]!.path.toString(), '/3/0/6');
    assert.equal(r2.records[0]!.value, null);
    assert.deepEqual(tlvCodec.encode(r2.records, ctx('/3/0')), emptyMulti);
    // zero-length values are values (§19.27)
    const r3 = tlvCodec.decode(hex('c0 06 c0 01'), ctx('/9999/0'));
    assert.deepEqual(values(r3.records), { '/9999/0/6': new Uint8Array(0), '/9999/0/1': '' });
  });

  it('encodes in payload order, grouping resource instances under their resource', () => {
    const recs: Lwm2mRecord[] = [
      { path: Lwm2mPath.parse('/3/0/9'), type: 'integer', value: 100 },
      { path: Lwm2mPath.parse('/3/0/6/0'), type: 'integer', value: 1 },
      { path: Lwm2mPath.parse('/3/0/0'), type: 'string', value: 'A' },
      { path: Lwm2mPath.parse('/3/0/6/1'), type: 'integer', value: 5 },
    ];
    assert.equal(toHexString(tlvCodec.encode(recs, ctx('/3/0'))), 'c10964' + '860641000141010' + '5' + 'c10041');
  });

  it('refuses records outside the request path and other inexpressible input', () => {
    const rec = (p: string, type: ValueType, value: Value | null): Lwm2mRecord => ({ path: Lwm2mPath.parse(p), type, value });
    assert.throws(() => tlvCodec.encode([rec('/3/0/9', 'integer', 1)], ctx('/3/1')), EncodeError);
    assert.throws(() => tlvCodec.encode([rec('/3/0/9', 'integer', 1)], ctx('/')), EncodeError);
    assert.throws(() => tlvCodec.encode([rec('/3/0/9', 'integer', 1.5)], ctx('/3/0')), /expected an integer/);
    assert.throws(() => tlvCodec.encode([rec('/3/0/9', 'unsigned integer', -1)], ctx('/3/0')), EncodeError);
    assert.throws(() => tlvCodec.encode([rec('/3/0/9', 'integer', 2n ** 63n)], ctx('/3/0')), /64 bits/);
    assert.throws(() => tlvCodec.encode([rec('/3/0/4', 'none', 1)], ctx('/3/0')), EncodeError);
    assert.throws(() => tlvCodec.encode([rec('/3/0/6', 'integer', 1), rec('/3/0/6/0', 'integer', 1)], ctx('/3/0')), /both/);
  });
});

describe('TLV codec: values', () => {
  const res = (type: ValueType): string => ({ string: '1', integer: '2', 'unsigned integer': '3', float: '4', boolean: '5', opaque: '6', time: '7', objlnk: '8', corelnk: '9', none: '10' })[type];

  const cases: [ValueType, Value, string][] = [
    ['integer', 0, '00'],
    ['integer', 127, '7f'],
    ['integer', -128, '80'],
    ['integer', 128, '0080'],
    ['integer', 200, '00c8'],
    ['integer', -129, 'ff7f'],
    ['integer', 32767, '7fff'],
    ['integer', 32768, '00008000'],
    ['integer', -2147483648, '80000000'],
    ['integer', 2147483648, '0000000080000000'],
    ['integer', Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    ['integer', -(2 ** 53) + 1, 'ffe0000000000001'],
    ['integer', 2n ** 63n - 1n, '7fffffffffffffff'],
    ['integer', -(2n ** 63n), '8000000000000000'],
    ['unsigned integer', 200, 'c8'],
    ['unsigned integer', 255, 'ff'],
    ['unsigned integer', 65535, 'ffff'],
    ['unsigned integer', 65536, '00010000'],
    ['unsigned integer', 4294967295, 'ffffffff'],
    ['unsigned integer', 4294967296, '0000000100000000'],
    ['unsigned integer', 2n ** 64n - 1n, 'ffffffffffffffff'],
    ['unsigned integer', 2n ** 53n, '0020000000000000'],
    ['float', 22.5, '41b40000'],
    ['float', -0.5, 'bf000000'],
    ['float', 0.1, '3fb999999999999a'],
    ['float', 1e300, '7e37e43c8800759c'],
    ['float', Infinity, '7f800000'],
    ['boolean', true, '01'],
    ['boolean', false, '00'],
    ['time', 1367491215, '5182428f'],
    ['time', -1, 'ff'],
    ['objlnk', { objectId: 66, instanceId: 1 }, '00420001'],
    ['objlnk', { objectId: 65535, instanceId: 65535 }, 'ffffffff'],
    ['opaque', new Uint8Array([0, 1, 0xfe]), '0001fe'],
    ['opaque', new Uint8Array(0), ''],
    ['string', 'héllo €', '68c3a96c6c6f20e282ac'],
    ['corelnk', '</3/0>', '3c2f332f303e'],
  ];

  for (const [type, value, valueHex] of cases) {
    it(`${type} ${typeof value === 'object' ? JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? [...v] : v)) : String(value)} ⇄ ${valueHex || '(empty)'}`, () => {
      const path = Lwm2mPath.parse(`/9999/0/${res(type)}`);
      const bytes = tlvCodec.encode([{ path, type, value }], ctx('/9999/0'));
      const rid = Number(res(type));
      const n = valueHex.length / 2;
      const header = n < 8 ? [0xc0 | n, rid] : [0xc8, rid, n];
      assert.equal(toHexString(bytes), toHexString(new Uint8Array(header)) + valueHex);
      const back = tlvCodec.decode(bytes, ctx('/9999/0')).records;
      assert.equal(back.length, 1);
      assert.equal(back[0]!.type, type);
      assert.deepEqual(back[0]!.value, value);
    });
  }

  it('decodes non-minimal widths by model type and re-encodes minimally', () => {
    assert.deepEqual(values(tlvCodec.decode(hex('c2 03 00 c8'), ctx('/9999/0')).records), { '/9999/0/3': 200 });
    assert.deepEqual(values(tlvCodec.decode(hex('c4 02 00 00 00 07'), ctx('/9999/0')).records), { '/9999/0/2': 7 });
    assert.deepEqual(values(tlvCodec.decode(hex('c8 04 08 40 36 80 00 00 00 00 00'), ctx('/9999/0')).records), { '/9999/0/4': 22.5 });
    const r = tlvCodec.decode(hex('c8 02 08 00 00 00 00 00 00 00 07'), ctx('/9999/0')).records;
    assert.deepEqual(tlvCodec.encode(r, ctx('/9999/0')), hex('c1 02 07'));
  });

  it('reads 64-bit values beyond 2^53 as bigint', () => {
    assert.deepEqual(values(tlvCodec.decode(hex('c8 03 08 ff ff ff ff ff ff ff ff'), ctx('/9999/0')).records), { '/9999/0/3': 2n ** 64n - 1n });
    assert.deepEqual(values(tlvCodec.decode(hex('c8 02 08 ff ff ff ff ff ff ff ff'), ctx('/9999/0')).records), { '/9999/0/2': -1 });
    assert.deepEqual(values(tlvCodec.decode(hex('c8 02 08 80 00 00 00 00 00 00 00'), ctx('/9999/0')).records), { '/9999/0/2': -(2n ** 63n) });
  });

  it('rejects bad value lengths and bytes at the value offset', () => {
    expectDecodeError(() => tlvCodec.decode(hex('c1 09 64 c3 02 00 00 01'), ctx('/9999/0')), 5, /1, 2, 4 or 8 bytes.*3 bytes/);
    expectDecodeError(() => tlvCodec.decode(hex('c3 04 00 00 01'), ctx('/9999/0')), 2, /float of 4 or 8/);
    expectDecodeError(() => tlvCodec.decode(hex('c2 05 00 01'), ctx('/9999/0')), 2, /boolean of 1 byte/);
    expectDecodeError(() => tlvCodec.decode(hex('c1 05 02'), ctx('/9999/0')), 2, /00 or 01.*0x02/);
    expectDecodeError(() => tlvCodec.decode(hex('c3 08 00 01 02'), ctx('/9999/0')), 2, /objlnk of 4 bytes/);
    expectDecodeError(() => tlvCodec.decode(hex('c4 01 41 42 ff 43'), ctx('/9999/0')), 4, /UTF-8.*0xff/);
    expectDecodeError(() => tlvCodec.decode(hex('c3 03 00 00 00'), ctx('/9999/0')), 2, /unsigned integer of 1, 2, 4 or 8/);
  });

  it('keeps the records decoded before a failure', () => {
    const e = expectDecodeError(() => tlvCodec.decode(hex('c1 09 64 c1 0a 0f c3 0d 00 00 00'), ctx('/3/0')), 8);
    assert.deepEqual(values(e.partial), { '/3/0/9': 100, '/3/0/10': 15 });
  });

  it('guesses readings without a model and says so', () => {
    const r = tlvCodec.decode(hex('c1 09 64 c4 0d 51 82 42 8f c3 00 41 42 43'), ctx('/3/0', false));
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0]!, /no object model for object 3: 3 values kept as opaque/);
    const [a, b, c] = r.records;
    assert.equal(a!.type, 'opaque');
    assert.equal(a!.modelled, false);
    assert.deepEqual(a!.value, new Uint8Array([0x64]));
    assert.deepEqual(a!.readings, { integer: 100, string: 'd' });
    assert.equal(b!.readings!.integer, 1367491215);
    assert.equal(typeof b!.readings!.float, 'number');
    assert.deepEqual(c!.readings, { string: 'ABC' });
    // opaque records re-encode to the same bytes
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/3/0', false)), hex('c1 09 64 c4 0d 51 82 42 8f c3 00 41 42 43'));
    // a known object without that resource
    const r2 = tlvCodec.decode(hex('c1 63 01'), ctx('/3/0'));
    assert.match(r2.notes[0]!, /object 3 has no resource 99/);
    assert.deepEqual(r2.records[0]!.readings, { integer: 1, boolean: true });
  });

  it('decodes the whole Device object unmodelled', () => {
    const r = tlvCodec.decode(DEVICE, ctx('/3/0', false));
    assert.equal(r.records.length, 16);
    assert.ok(r.records.every((x) => x.modelled === false && x.type === 'opaque'));
    assert.equal(r.records[0]!.readings!.string, 'Open Mobile Alliance');
    assert.deepEqual(tlvCodec.encode(r.records, ctx('/3/0', false)), DEVICE);
  });
});

describe('TLV codec: properties', () => {
  const paths = ['/3/0', '/3', '/3/0/6', '/3/0/6/1', '/9999/0', '/1', '/2', '/', '/4242/1/2'];

  const onlyDecodeErrors = (bytes: Uint8Array): void => {
    for (const p of paths) {
      for (const m of [true, false]) {
        try {
          tlvCodec.decode(bytes, ctx(p, m));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          assert.ok(e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset} outside payload of ${bytes.length}`);
        }
      }
    }
  };

  it('random bytes only ever throw DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), onlyDecodeErrors), { numRuns: 400 });
  });

  it('mutated spec vectors only ever throw DecodeError', () => {
    const seeds = [DEVICE, DEVICE_WRAPPED, SERVER, ACL, OBJLNK_MULTI];
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
      .map(([seed, edits, cut]) => {
        const b = seed.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
      });
    fc.assert(fc.property(mutated, onlyDecodeErrors), { numRuns: 400 });
  });

  it('whatever decodes re-encodes to records that decode the same', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        for (const p of ['/3/0', '/9999']) {
          let first;
          try {
            first = tlvCodec.decode(bytes, ctx(p));
          } catch {
            continue;
          }
          const again = tlvCodec.decode(tlvCodec.encode(first.records, ctx(p)), ctx(p));
          assert.deepEqual(
            again.records.map((r) => [r.path.toString(), r.type, r.value]),
            first.records.map((r) => [r.path.toString(), r.type, r.value]),
          );
        }
      }),
      { numRuns: 400 },
    );
  });

  it('typed records round-trip through TLV', () => {
    const value: fc.Arbitrary<[string, ValueType, Value]> = fc.oneof(
      fc.string().map((v) => ['1', 'string', v] as [string, ValueType, Value]),
      fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b))).map((v) => ['2', 'integer', v] as [string, ValueType, Value]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => ['3', 'unsigned integer', Number.isSafeInteger(Number(b)) ? Number(b) : b] as [string, ValueType, Value]),
      fc.double({ noNaN: true }).map((v) => ['4', 'float', v] as [string, ValueType, Value]),
      fc.boolean().map((v) => ['5', 'boolean', v] as [string, ValueType, Value]),
      fc.uint8Array({ maxLength: 300 }).map((v) => ['6', 'opaque', v] as [string, ValueType, Value]),
      fc.record({ objectId: fc.integer({ min: 0, max: 65535 }), instanceId: fc.integer({ min: 0, max: 65535 }) }).map((v) => ['8', 'objlnk', { objectId: v.objectId, instanceId: v.instanceId }] as [string, ValueType, Value]),
    );
    fc.assert(
      fc.property(fc.uniqueArray(value, { selector: (v) => v[0], maxLength: 7 }), fc.integer({ min: 0, max: 65534 }), (vals, iid) => {
        const recs: Lwm2mRecord[] = vals.map(([rid, type, v]) => ({ path: Lwm2mPath.parse(`/9999/${iid}/${rid}`), type, value: v }));
        const bytes = tlvCodec.encode(recs, ctx('/9999'));
        const back = tlvCodec.decode(bytes, ctx('/9999')).records;
        assert.deepEqual(
          back.map((r) => [r.path.toString(), r.type, r.value]),
          recs.map((r) => [r.path.toString(), r.type, r.value]),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('TLV codec: linear cost', () => {
  it('decodes a 1,000-instance payload in time proportional to its size', () => {
    const one = tlvCodec.encode(
      [
        { path: Lwm2mPath.parse('/2/0/0'), type: 'integer', value: 3 },
        { path: Lwm2mPath.parse('/2/0/1'), type: 'integer', value: 0 },
        { path: Lwm2mPath.parse('/2/0/2/127'), type: 'integer', value: 7 },
        { path: Lwm2mPath.parse('/2/0/3'), type: 'integer', value: 127 },
      ],
      ctx('/2'),
    );
    const recs: Lwm2mRecord[] = [];
    for (let i = 0; i < 1000; i++) for (const r of tlvCodec.decode(one, ctx('/2')).records) recs.push({ ...r, path: new Lwm2mPath([2, i, ...r.path.ids.slice(2)]) });
    const big = tlvCodec.encode(recs, ctx('/2'));
    const time = (bytes: Uint8Array, n: number): number => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) tlvCodec.decode(bytes, ctx('/2'));
      return Number(process.hrtime.bigint() - t0) / n / bytes.length;
    };
    time(one, 2000);
    time(big, 5);
    const small = time(one, 5000);
    const large = time(big, 20);
    assert.equal(tlvCodec.decode(big, ctx('/2')).records.length, 4000);
    // generous bound for a noisy shared machine; a quadratic decoder is ~100× off
    assert.ok(large < small * 6, `per-byte cost ${large.toFixed(1)} ns vs ${small.toFixed(1)} ns`);
  });
});
