// Inspector edits, value parsing, copy formats, pasted bytes, the message protocol helpers and
// byte descriptions, in plain Node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codecRegistry } from '../../../src/core/codec/registry';
import { createModelRegistry } from '../../../src/core/model/bundled';
import { Lwm2mPath } from '../../../src/core/path';
import { describeBytes, describeCborHead, describeTlvHeader } from '../../../src/common/describe';
import { createRequester, handleRequest, RequestError, SegmentRole, type FromWebviewMessage, type RequestHandlers } from '../../../src/common/protocol';
import { findRow } from '../../../src/common/table';
import { defaultValue, isoTime, parseValueText, valueText } from '../../../src/common/values';
import { analyze } from '../../../src/vscode/inspector/analyze';
import { decodeBackup, encodeBackup } from '../../../src/vscode/inspector/backup';
import { applyEdit, cArray, commonPath, EditProblem, encodeRecords, prettyJsonPack, targetBasePath, type ResolvedEdit } from '../../../src/vscode/inspector/edits';
import { bytesFromText } from '../../../src/vscode/inspector/paste';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'payloads');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const models = createModelRegistry();

function editTlv(name: string, base: string, edit: (rows: (p: string) => number) => ResolvedEdit) {
  const bytes = fixture(name);
  const basePath = Lwm2mPath.parse(base);
  const a = analyze({ bytes, format: 11542, basePath, models });
  const out = applyEdit({ records: a.records, nodes: a.nodes, rowPaths: a.rowPaths, format: 11542, basePath, models, now: () => 1700000000 }, edit((p) => findRow(a.nodes, p)));
  const encoded = encodeRecords(out.records, 11542, basePath, models);
  const decoded = codecRegistry.decode(11542, encoded, { path: basePath, models }).records;
  return { out, decoded, values: Object.fromEntries(decoded.map((r) => [r.path.toString(), r.value])) };
}

describe('parseValueText', () => {
  it('validates by type', () => {
    assert.deepEqual(parseValueText('integer', ' -42 '), { ok: true, value: -42 });
    assert.equal(parseValueText('integer', '4.2').ok, false);
    assert.deepEqual(parseValueText('integer', '9223372036854775807'), { ok: true, value: 9223372036854775807n });
    assert.equal(parseValueText('integer', '9223372036854775808').ok, false);
    assert.equal(parseValueText('unsigned integer', '-1').ok, false);
    assert.deepEqual(parseValueText('unsigned integer', '18446744073709551615'), { ok: true, value: 18446744073709551615n });
    assert.deepEqual(parseValueText('float', '2.5e3'), { ok: true, value: 2500 });
    assert.equal(parseValueText('float', 'warm').ok, false);
    assert.deepEqual(parseValueText('boolean', 'TRUE'), { ok: true, value: true });
    assert.deepEqual(parseValueText('boolean', '0'), { ok: true, value: false });
    assert.equal(parseValueText('boolean', 'yes').ok, false);
    assert.deepEqual(parseValueText('opaque', '0x01 ff'), { ok: true, value: new Uint8Array([1, 255]) });
    assert.equal(parseValueText('opaque', 'zz').ok, false);
    assert.deepEqual(parseValueText('time', '2024-01-31T12:00:00Z'), { ok: true, value: 1706702400 });
    assert.deepEqual(parseValueText('time', '1706702400'), { ok: true, value: 1706702400 });
    assert.deepEqual(parseValueText('objlnk', '3:0'), { ok: true, value: { objectId: 3, instanceId: 0 } });
    assert.equal(parseValueText('objlnk', '3:70000').ok, false);
    assert.equal(parseValueText('none', '').ok, false);
  });
  it('checks the model range', () => {
    const battery = models.getResource(3, 9)!;
    assert.equal(parseValueText('integer', '100', battery.range).ok, true);
    const r = parseValueText('integer', '101', battery.range);
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, /outside the model's range/);
  });
  it('round-trips value text', () => {
    assert.equal(valueText(new Uint8Array([0xab, 1])), 'ab01');
    assert.equal(valueText({ objectId: 1, instanceId: 2 }), '1:2');
    assert.equal(valueText(null), '');
    assert.equal(isoTime(1706702400), '2024-01-31 12:00:00Z');
    assert.deepEqual(defaultValue('objlnk', 0), { objectId: 65535, instanceId: 65535 });
  });
});

describe('applyEdit', () => {
  it('sets a value; other values keep their bytes', () => {
    const { values, out } = editTlv('device.tlv', '/3/0', (row) => ({ op: 'setValue', row: row('/3/0/0'), text: 'ACME' }));
    assert.equal(values['/3/0/0'], 'ACME');
    assert.equal(values['/3/0/1'], 'Lightweight M2M Client');
    assert.equal(out.label, 'Set /3/0/0');
  });
  it('rejects values of the wrong type or range', () => {
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'setValue', row: row('/3/0/9'), text: 'full' })), EditProblem);
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'setValue', row: row('/3/0/9'), text: '-1' })), /range/);
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'setValue', row: row('/3/0/7'), text: '1' })), /no value/);
  });
  it('removes a resource, a resource instance, an instance', () => {
    assert.equal(editTlv('device.tlv', '/3/0', (row) => ({ op: 'remove', row: row('/3/0/7') })).values['/3/0/7/0'], undefined);
    const ri = editTlv('device.tlv', '/3/0', (row) => ({ op: 'remove', row: row('/3/0/7/0') })).values;
    assert.deepEqual([ri['/3/0/7/0'], ri['/3/0/7/1']], [undefined, 5000]);
    const inst = editTlv('temperature.tlv', '/3303', (row) => ({ op: 'remove', row: row('/3303/0') })).decoded;
    assert.ok(inst.every((r) => r.path.instanceId === 1));
  });
  it('adds resources (model type, multiple → instance 0), instances (copying the first) and resource instances', () => {
    const res = editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResource', row: row('/3/0'), resourceId: 15, text: 'Europe/Berlin' }));
    assert.equal(res.values['/3/0/15'], 'Europe/Berlin');
    assert.equal(res.out.select, '/3/0/15');
    const order = res.decoded.map((r) => r.path.resourceId);
    assert.ok(order.indexOf(15) === order.indexOf(16) - 1, 'inserted in resource-id order');
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResource', row: row('/3/0'), resourceId: 12 })), /executable/);
    const multi = editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResource', row: row('/3/0'), resourceId: 15 }));
    assert.equal(multi.values['/3/0/15'], '', 'a default value of the type');
    const err = editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResourceInstance', row: row('/3/0/11') }));
    assert.equal(err.values['/3/0/11/1'], 0);
    const inst = editTlv('temperature.tlv', '/3303', (row) => ({ op: 'addInstance', row: row('/3303/1/5700') }));
    assert.equal(inst.values['/3303/2/5700'], 21.5);
    assert.equal(inst.out.select, '/3303/2');
  });
  it('explains what a base path forbids', () => {
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'addInstance', row: row('/3') })), /base path to \/3 first/);
  });
  it('unmodelled resources need a type', () => {
    assert.throws(() => editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResource', row: row('/3/0'), resourceId: 999 })), /choose its type/);
    const ok = editTlv('device.tlv', '/3/0', (row) => ({ op: 'addResource', row: row('/3/0'), resourceId: 999, type: 'opaque', text: 'c0ffee' }));
    assert.deepEqual(ok.values['/3/0/999'], new Uint8Array([0xc0, 0xff, 0xee]));
  });
});

describe('conversion helpers', () => {
  it('picks request paths per target format', () => {
    const a = analyze({ bytes: fixture('composite.senmlc'), format: 112, basePath: Lwm2mPath.ROOT, models });
    assert.equal(commonPath(a.records).toString(), '/');
    assert.throws(() => targetBasePath(a.records, 11542, Lwm2mPath.ROOT), /one object/);
    const t = analyze({ bytes: fixture('temperature.senml.cbor'), format: 112, basePath: Lwm2mPath.ROOT, models });
    assert.equal(targetBasePath(t.records, 11542, Lwm2mPath.ROOT).toString(), '/3303');
    assert.throws(() => targetBasePath(t.records, 60, Lwm2mPath.ROOT), /exactly one value/);
  });
  it('copy formats', () => {
    assert.equal(cArray(new Uint8Array([0xc1, 0x09, 0x64]), 'battery'), '/* 3 bytes */\nconst uint8_t battery[3] = {\n    0xc1, 0x09, 0x64\n};\n');
    assert.equal(prettyJsonPack(new TextEncoder().encode('[{"n":"a"},{"n":"b"}]')), '[\n  {"n":"a"},\n  {"n":"b"}\n]\n');
  });
  it('backups keep bytes and settings', () => {
    const settings = { format: 11542, formatReason: 'x', formatChosen: false, basePath: '/3/0', basePathReason: 'y' };
    const b = decodeBackup(encodeBackup(new Uint8Array([1, 2, 0x0a, 3]), settings));
    assert.deepEqual(b.bytes, new Uint8Array([1, 2, 0x0a, 3]));
    assert.deepEqual(b.settings, settings);
    assert.deepEqual(decodeBackup(new Uint8Array([9, 9])).bytes, new Uint8Array([9, 9]));
  });
});

describe('bytesFromText (Decode Hex / Decode Selection)', () => {
  it('reads hex in its usual spellings, then base64', () => {
    const want = new Uint8Array([0xc8, 0x00, 0x14]);
    for (const t of ['C8 00 14', 'c80014', '0xC8, 0x00, 0x14', 'c8:00:14', '{ 0xc8, 0x00, 0x14 };', 'const uint8_t p[3] = { 0xc8, 0x00, 0x14 };']) {
      assert.deepEqual(bytesFromText(t), { bytes: want, encoding: 'hex' }, t);
    }
    assert.deepEqual(bytesFromText('yAAU'), { bytes: want, encoding: 'base64' });
    assert.deepEqual(bytesFromText('yAA-'), { bytes: new Uint8Array([0xc8, 0x00, 0x3e]), encoding: 'base64' });
    assert.ok('error' in bytesFromText('hello world!'));
    assert.ok('error' in bytesFromText('   '));
  });
});

describe('protocol helpers', () => {
  it('a request gets exactly one reply, with the result or the error', async () => {
    const sent: FromWebviewMessage[] = [];
    const rpc = createRequester((m) => sent.push(m));
    const handlers = {
      setFormat: ({ format }: { format: number }) => {
        if (format === 0) throw new RequestError('bad format', 'invalid');
        return { revision: format };
      },
    } as unknown as RequestHandlers;
    const ok = rpc.request('setFormat', { format: 7 });
    const bad = rpc.request('setFormat', { format: 0 });
    assert.equal(rpc.pendingCount, 2);
    for (const m of sent) if (m.type === 'request') rpc.onReply(await handleRequest(m, handlers));
    assert.deepEqual(await ok, { revision: 7 });
    await assert.rejects(bad, (e: RequestError) => e.code === 'invalid' && e.message === 'bad format');
    assert.equal(rpc.pendingCount, 0);
  });
});

describe('describe', () => {
  it('explains TLV headers, CBOR heads and SenML labels', () => {
    assert.equal(describeTlvHeader(new Uint8Array([0xc8, 0x00, 0x14]), 0, 3), 'Resource TLV: type byte 0xC8, id 0 (8-bit), length 20 (8-bit length field)');
    assert.equal(describeTlvHeader(new Uint8Array([0x08, 0x00, 0x79]), 0, 3), 'Object Instance TLV: type byte 0x08, id 0 (8-bit), length 121 (8-bit length field)');
    assert.match(describeTlvHeader(new Uint8Array([0xe4, 0x16, 0x44]), 0, 3), /id 5700 \(16-bit\), length 4 \(in the type byte\)/);
    assert.equal(describeCborHead(new Uint8Array([0xa3]), 0, 1), 'CBOR map head 0xA3: 3 pairs');
    assert.equal(describeCborHead(new Uint8Array([0x78, 0x20]), 0, 2), 'CBOR text string head 0x78: 32 bytes');
    assert.equal(describeBytes(112, SegmentRole.Label, new Uint8Array([0x21]), 0, 1), 'SenML label -2 = bn (base name)');
    assert.equal(describeBytes(110, SegmentRole.Label, new TextEncoder().encode('"vs"'), 0, 4), 'label "vs" (string value)');
  });
});
