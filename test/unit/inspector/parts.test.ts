// A large payload's state in two parts (common/parts.ts, common/pack.ts): the first part is the
// first rows and bytes on their own, and joining the rest gives back exactly the whole state.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModelRegistry } from '../../../src/core/model/bundled';
import { encodeTlv, type TlvInput } from '../../../src/core/codec/tlv/wire';
import { Lwm2mPath } from '../../../src/core/path';
import { PackError, packTable, unpackTable } from '../../../src/common/pack';
import { isPartial, joinState, splitState, type StateHead } from '../../../src/common/parts';
import { tableByteMap, tableRows } from '../../../src/common/table';
import { analyze } from '../../../src/vscode/inspector/analyze';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'payloads');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const models = createModelRegistry();

const head: StateHead = {
  revision: 3,
  title: 't',
  format: 0,
  formatName: '',
  formatReason: '',
  formatChosen: false,
  formats: [],
  basePath: '/',
  usesBasePath: false,
  basePathReason: '',
  notes: [],
  editable: true,
  analyzeMs: 0,
  sentAt: 0,
};

const CASES = [
  ['device.tlv', 11542, '/3/0'],
  ['truncated.tlv', 11542, '/3/0'],
  ['composite.senmlc', 112, '/'],
  ['temperature.senml.json', 110, '/'],
  ['registration.link', 40, '/'],
  ['device.lwm2m.cbor', 11544, '/'],
] as const;

describe('state in parts', () => {
  it('packs a table in parts that unpack to the first rows alone and to the whole table together', () => {
    for (const [name, format, path] of CASES) {
      const a = analyze({ bytes: fixture(name), format, basePath: Lwm2mPath.parse(path), models });
      const whole = tableRows(unpackTable(packTable(a.nodes)));
      for (const cut of [0, 1, Math.floor(a.nodes.count / 2), a.nodes.count]) {
        const first = packTable(a.nodes, 0, cut);
        const rest = packTable(a.nodes, cut);
        assert.deepEqual([first.from, first.count, first.total, rest.from, rest.count, rest.total], [0, cut, a.nodes.count, cut, a.nodes.count - cut, a.nodes.count]);
        assert.deepEqual(tableRows(unpackTable(first, rest)), whole, `${name} cut at ${cut}`);
        // the first part on its own: the same first rows (a subtree cut short ends with the part)
        const alone = tableRows(unpackTable(first));
        assert.deepEqual(
          alone.map((r) => [r.path, r.value, r.span, r.flags]),
          whole.slice(0, cut).map((r) => [r.path, r.value, r.span, r.flags]),
          `${name} first ${cut} rows`,
        );
      }
    }
  });

  it('refuses parts that do not follow each other from row 0', () => {
    const a = analyze({ bytes: fixture('device.tlv'), format: 11542, basePath: Lwm2mPath.parse('/3/0'), models });
    const first = packTable(a.nodes, 0, 5);
    const rest = packTable(a.nodes, 6);
    assert.throws(() => unpackTable(first, rest), PackError);
    assert.throws(() => unpackTable(rest), PackError);
  });

  it('sends small payloads whole and splits large ones into a first screen and the rest', () => {
    for (const [name, format, path] of CASES) {
      const bytes = fixture(name);
      const a = analyze({ bytes, format, basePath: Lwm2mPath.parse(path), models });
      const one = splitState(head, a.nodes, bytes, a.segments);
      assert.equal(one.rest, undefined, `${name} is small`);
      assert.equal(isPartial(one.state), false);
      assert.equal(one.state.byteLength, bytes.length);

      // tiny limits split even these, anywhere
      for (const limits of [
        { rows: 1, bytes: 1 },
        { rows: 3, bytes: 10 },
        { rows: 1000, bytes: 7 },
        { rows: 2, bytes: 100_000 },
      ]) {
        const { state, rest } = splitState(head, a.nodes, bytes, a.segments, limits, { rows: 0, bytes: 0 });
        assert.ok(rest, `${name}: split`);
        assert.equal(isPartial(state), state.bytes.length < bytes.length || state.nodes.count < a.nodes.count);
        assert.equal(state.byteLength, bytes.length);
        assert.equal(state.bytes.length, Math.min(bytes.length, limits.bytes));
        assert.equal(state.nodes.count, Math.min(a.nodes.count, limits.rows));
        assert.equal(rest.revision, head.revision);
        for (let s = 0; s < state.segments.length; s += 4) assert.ok(state.segments[s]! < state.bytes.length, 'first-part segments start in its bytes');
        for (let s = 0; s < rest.segments.length; s += 4) assert.ok(rest.segments[s]! >= state.bytes.length, 'the rest holds the later segments');
        const joined = joinState(state, rest);
        assert.deepEqual(joined.bytes, bytes, `${name}: bytes`);
        assert.deepEqual(joined.segments, a.segments, `${name}: segments`);
        const table = unpackTable(state.nodes, rest.nodes);
        assert.deepEqual(tableRows(table), tableRows(a.nodes), `${name}: rows`);
        assert.deepEqual(tableByteMap(table, joined.segments, bytes.length), tableByteMap(a.nodes, a.segments, bytes.length), `${name}: byte map`);
        // bulk arrays own their buffers (VS Code would send a whole shared buffer)
        for (const arr of [state.bytes, state.segments, rest.bytes, rest.segments, state.nodes.rows, rest.nodes.rows]) {
          assert.equal(arr.byteOffset, 0);
          assert.equal(arr.byteLength, arr.buffer.byteLength);
        }
      }
    }
  });

  it('splits a 1 MB TLV into a first screen of a few kilobytes', () => {
    const instances: TlvInput[] = [];
    for (let i = 0; i < 20_000; i++) {
      instances.push({ kind: 'objectInstance', id: i, children: [{ kind: 'resource', id: 5700, value: new Uint8Array([0x41, 0xa8, 0, 0]) }, { kind: 'resource', id: 5750, value: new TextEncoder().encode(`room number ${i} of the building`) }] });
    }
    const bytes = encodeTlv(instances);
    assert.ok(bytes.length > 800_000);
    const a = analyze({ bytes, format: 11542, basePath: Lwm2mPath.parse('/3303'), models });
    const { state, rest } = splitState(head, a.nodes, bytes, a.segments);
    assert.ok(rest);
    assert.ok(isPartial(state));
    const firstSize = state.bytes.length + state.nodes.rows.length + state.nodes.text.length * 2 + state.segments.byteLength;
    assert.ok(firstSize < 64 * 1024, `first part ${firstSize} bytes`);
    assert.ok(state.nodes.count >= 100, 'more than a screen of rows');
    assert.equal(state.nodes.count + rest.nodes.count, a.nodes.count);
  });
});
