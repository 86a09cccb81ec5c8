import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tlvCodec } from '../../../src/core/codec/tlv';
import { jsonToRecords, JsonInputError, recordsToJson } from '../../../src/core/json';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { hex, staticModels } from './staticModel';

const models = staticModels();
const P = (p: string): Lwm2mPath => Lwm2mPath.parse(p);

describe('CLI JSON node shape', () => {
  it('prints decoded records with names, in payload order', () => {
    const records = tlvCodec.decode(hex('c8 00 14 4f70656e204d6f62696c6520416c6c69616e6365 86 06 41 00 01 41 01 05 c4 0d 51 82 42 8f'), { path: P('/3/0'), models }).records;
    const doc = recordsToJson(records, { format: 11542, path: P('/3/0'), models });
    assert.deepEqual(doc, {
      format: 'tlv',
      path: '/3/0',
      nodes: [
        { path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Open Mobile Alliance' },
        { path: '/3/0/6/0', name: 'Available Power Sources', type: 'integer', value: 1 },
        { path: '/3/0/6/1', name: 'Available Power Sources', type: 'integer', value: 5 },
        { path: '/3/0/13', name: 'Current Time', type: 'time', value: 1367491215 },
      ],
    });
    assert.deepEqual(Object.keys(doc.nodes[0]!), ['path', 'name', 'type', 'value']);
  });

  it('spells every value type and reads it back', () => {
    const records: Lwm2mRecord[] = [
      { path: P('/9999/0/1'), type: 'string', value: 'x' },
      { path: P('/9999/0/2'), type: 'integer', value: -(2n ** 63n) },
      { path: P('/9999/0/3'), type: 'unsigned integer', value: 2n ** 64n - 1n },
      { path: P('/9999/0/4'), type: 'float', value: 22.5 },
      { path: P('/9999/0/5'), type: 'boolean', value: true },
      { path: P('/9999/0/6'), type: 'opaque', value: new Uint8Array([0xab, 0x01]) },
      { path: P('/9999/0/7'), type: 'time', value: 1700000000, time: 1700000001.5 },
      { path: P('/9999/0/8'), type: 'objlnk', value: { objectId: 3, instanceId: 0 } },
      { path: P('/9999/0/9'), type: 'corelnk', value: '</3>' },
      { path: P('/9999/0/10'), type: 'none', value: null },
    ];
    const doc = recordsToJson(records, { format: 110, path: Lwm2mPath.ROOT });
    assert.deepEqual(
      doc.nodes.map((n) => n.value),
      ['x', '-9223372036854775808', '18446744073709551615', 22.5, true, 'ab01', 1700000000, '3:0', '</3>', null],
    );
    assert.equal(doc.format, 'senml-json');
    assert.equal(doc.nodes[6]!.time, 1700000001.5);
    const back = jsonToRecords(JSON.parse(JSON.stringify(doc)));
    assert.deepEqual(back.records, records);
    assert.equal(back.path!.toString(), '/');
    assert.equal(back.format, 'senml-json');
  });

  it('prints unmodelled values with modelled:false and readings', () => {
    const records = tlvCodec.decode(hex('c1 09 64'), { path: P('/3/0') }).records;
    assert.deepEqual(recordsToJson(records, { format: 11542, path: P('/3/0') }).nodes, [
      { path: '/3/0/9', type: 'opaque', value: '64', modelled: false, readings: { integer: 100, string: 'd' } },
    ]);
  });

  it('takes the type from the model when the node has none', () => {
    const r = jsonToRecords([{ path: '/3/0/9', value: 100 }, { path: '/3/0/13', value: '1367491215' }, { path: '/3/0/6/0', value: 1 }], { models });
    assert.deepEqual(
      r.records.map((x) => [x.path.toString(), x.type, x.value]),
      [
        ['/3/0/9', 'integer', 100],
        ['/3/0/13', 'time', 1367491215],
        ['/3/0/6/0', 'integer', 1],
      ],
    );
    assert.equal(r.path, undefined);
  });

  it('names the JSON pointer of bad input', () => {
    const bad = (doc: unknown, pointer: string, match?: RegExp): void =>
      assert.throws(
        () => jsonToRecords(doc, { models }),
        (e: unknown) => e instanceof JsonInputError && e.pointer === pointer && (!match || match.test(e.message)),
      );
    bad(42, '');
    bad({ nodes: {} }, '/nodes');
    bad({ nodes: [{ value: 1 }] }, '/nodes/0/path');
    bad({ nodes: [{ path: '/3/x', value: 1 }] }, '/nodes/0/path');
    bad({ nodes: [{ path: '/3/0/9' }] }, '/nodes/0', /missing "value"/);
    bad({ nodes: [{ path: '/3/0/9', value: 'abc' }] }, '/nodes/0/value', /integer/);
    bad({ nodes: [{ path: '/3/0/9', value: 2 ** 60 }] }, '/nodes/0/value', /decimal string/);
    bad({ nodes: [{ path: '/3303/0/5700', value: 1 }] }, '/nodes/0', /no type/);
    bad({ nodes: [{ path: '/3/0/9', type: 'int', value: 1 }] }, '/nodes/0/type');
    bad({ nodes: [{ path: '/9999/0/6', value: 'abc' }] }, '/nodes/0/value', /hex/);
    bad({ nodes: [{ path: '/9999/0/8', value: '3-0' }] }, '/nodes/0/value', /O:I/);
    bad({ nodes: [{ path: '/3/0/9', value: 1, time: 'now' }] }, '/nodes/0/time');
    bad({ path: 5, nodes: [] }, '/path');
  });
});
