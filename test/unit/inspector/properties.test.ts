// Properties of the inspector's model over generated payloads (fast-check): every byte of a valid
// TLV belongs to a row whose span holds it; SenML records get their labels; the packed table
// round-trips; edits re-encode to payloads that decode to the edited records.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codecRegistry } from '../../../src/core/codec/registry';
import { createModelRegistry } from '../../../src/core/model/bundled';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { packTable, unpackTable } from '../../../src/common/pack';
import { SegmentRole } from '../../../src/common/protocol';
import { findRowByPath, rowSegments, tableByteMap, tableRows } from '../../../src/common/table';
import { valueText } from '../../../src/common/values';
import { analyze } from '../../../src/vscode/inspector/analyze';
import { applyEdit, encodeRecords } from '../../../src/vscode/inspector/edits';
import { walkTlv, type TlvItem } from '../../../src/vscode/inspector/wire';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const models = createModelRegistry();
const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'payloads');
const TLV_FIXTURES = ['device.tlv', 'device-instance.tlv', 'temperature.tlv', 'truncated.tlv'].map((f) => new Uint8Array(readFileSync(join(FIXTURES, f))));

/** Records of object 9999 (no model): opaque values, 8- and 16-bit ids, short and long values. */
const tlvRecords = fc
  .uniqueArray(
    fc.record({
      instance: fc.integer({ min: 0, max: 3 }),
      resource: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 250, max: 1000 })),
      instances: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      value: fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 9 }), fc.uint8Array({ minLength: 250, maxLength: 300 })),
    }),
    { minLength: 1, maxLength: 12, selector: (r) => `${r.instance}/${r.resource}` },
  )
  .map((list) =>
    list
      .sort((a, b) => a.instance - b.instance || a.resource - b.resource)
      .flatMap((r): Lwm2mRecord[] =>
        r.instances
          ? r.instances.map((ri) => ({ path: new Lwm2mPath([9999, r.instance, r.resource, ri]), type: 'opaque', value: r.value }))
          : [{ path: new Lwm2mPath([9999, r.instance, r.resource]), type: 'opaque', value: r.value }],
      ),
  );

describe('inspector properties', () => {
  it('TLV: every byte is annotated, owned by a row whose span holds it; the table packs losslessly', () => {
    fc.assert(
      fc.property(tlvRecords, (records) => {
        const base = Lwm2mPath.parse('/9999');
        const bytes = codecRegistry.encode(11542, records, { path: base });
        const a = analyze({ bytes, format: 11542, basePath: base, models });
        assert.equal(a.error, undefined);
        const map = tableByteMap(a.nodes, a.segments, bytes.length);
        for (let i = 0; i < bytes.length; i++) {
          const row = map.owner[i]!;
          assert.ok(row >= 0, `byte ${i} has an owner`);
          assert.ok(a.nodes.start[row]! <= i && i < a.nodes.end[row]!, `byte ${i} lies in its row's span`);
          assert.ok(map.role[i] === SegmentRole.Header || map.role[i] === SegmentRole.Value);
        }
        const rows = tableRows(a.nodes);
        for (const r of rows.filter((x) => x.record >= 0)) assert.equal(r.value, valueText(a.records[r.record]!.value));
        assert.deepEqual(tableRows(unpackTable(packTable(a.nodes))), rows);
      }),
      { numRuns: 150 },
    );
  });

  it('TLV, also damaged: every record the tolerant walker finds has its header and value bytes annotated', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TLV_FIXTURES),
        fc.nat({ max: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.constantFrom('/3/0', '/3', '/3/0/7', '/9999', '/9999/0'),
        (fixture, cut, edits, path) => {
          const bytes = fixture.slice(0, Math.max(0, fixture.length - cut));
          for (const [at, v] of edits) if (bytes.length > 0) bytes[at % bytes.length] = v;
          const a = analyze({ bytes, format: 11542, basePath: Lwm2mPath.parse(path), models });
          const map = tableByteMap(a.nodes, a.segments, bytes.length);
          const check = (items: readonly TlvItem[]) => {
            for (const item of items) {
              for (let i = item.start; i < Math.min(item.valueStart, bytes.length); i++) assert.equal(map.role[i], SegmentRole.Header, `byte ${i}: header of the record at ${item.start}`);
              if (item.kind === 1 || item.kind === 3) {
                for (let i = item.valueStart; i < Math.min(item.end, bytes.length); i++) assert.equal(map.role[i], SegmentRole.Value, `byte ${i}: value of the record at ${item.start}`);
              }
              check(item.children ?? []);
            }
          };
          check(walkTlv(bytes).items);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('SenML JSON and CBOR: each record row has its labels and value inside its span', () => {
    const senml = fc.uniqueArray(
      fc.record({ o: fc.integer({ min: 1, max: 5 }), i: fc.integer({ min: 0, max: 2 }), r: fc.integer({ min: 0, max: 30 }), v: fc.oneof(fc.string(), fc.integer(), fc.boolean()) }),
      { minLength: 1, maxLength: 10, selector: (x) => `${x.o}/${x.i}/${x.r}` },
    );
    fc.assert(
      fc.property(senml, fc.constantFrom(110, 112), (list, format) => {
        const records: Lwm2mRecord[] = list.map((x) => ({
          path: new Lwm2mPath([9000 + x.o, x.i, x.r]),
          type: typeof x.v === 'string' ? 'string' : typeof x.v === 'number' ? 'integer' : 'boolean',
          value: x.v,
        }));
        const bytes = codecRegistry.encode(format, records, { path: Lwm2mPath.ROOT });
        const a = analyze({ bytes, format, basePath: Lwm2mPath.ROOT, models });
        assert.equal(a.error, undefined);
        for (const r of tableRows(a.nodes).filter((x) => x.record >= 0)) {
          const segs = rowSegments(a.nodes, a.segments, r.row);
          assert.ok(segs.some((s) => s[2] === SegmentRole.Label), `${r.path} has labels`);
          assert.ok(segs.some((s) => s[2] === SegmentRole.Value), `${r.path} has a value`);
          for (const [s, e] of segs) assert.ok(r.span && r.span[0] <= s && e <= r.span[1]);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('edits re-encode to payloads that decode to the edited value', () => {
    fc.assert(
      fc.property(tlvRecords, fc.uint8Array({ maxLength: 20 }), fc.nat(), (records, value, pick) => {
        const base = Lwm2mPath.parse('/9999');
        const bytes = codecRegistry.encode(11542, records, { path: base });
        const a = analyze({ bytes, format: 11542, basePath: base, models });
        const target = records[pick % records.length]!;
        const row = findRowByPath(a.nodes, target.path.toString());
        const hex = Buffer.from(value).toString('hex');
        const out = applyEdit({ records: a.records, nodes: a.nodes, rowPaths: a.rowPaths, format: 11542, basePath: base, models }, { op: 'setValue', row, text: hex });
        const again = codecRegistry.decode(11542, encodeRecords(out.records, 11542, base, models), { path: base, models }).records;
        assert.deepEqual(again.find((r) => r.path.equals(target.path))?.value, value);
        assert.equal(again.length, records.length);
      }),
      { numRuns: 100 },
    );
  });
});
