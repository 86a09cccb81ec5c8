// Extension-host tests of the payload inspector: every fixture format opens in the custom editor
// and the webview renders the decoded model it received; edits round-trip through save and
// re-open byte-exactly; undo/redo/revert/backup; conversion, copy, Decode Hex/Selection, the API
// for other code, languages; and the time to open a 1 MB TLV.
import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { codecRegistry } from '../../src/core/codec/registry';
import { temperatureTlv } from '../fixtures/largeTlv';
import { createModelRegistry } from '../../src/core/model/bundled';
import type { Lwm2mRecord } from '../../src/core/node';
import { Lwm2mPath } from '../../src/core/path';
import { unpackTable } from '../../src/common/pack';
import { RowFlag, type InspectorState, type NodeTable, type RenderedInfo } from '../../src/common/protocol';
import { findRow, rowPaths, rowSegments, tableRows, type RowView } from '../../src/common/table';
import type { Lwm2mWorkbenchApi } from '../../src/vscode/extension';
import { decodeBackup } from '../../src/vscode/inspector/backup';

const EXTENSION_ID = 'lwm2m-workbench.lwm2m-workbench';
const VIEW = 'lwm2m.payloadInspector';
const ANY = 'lwm2m.payloadInspector.any';
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'payloads');
const models = createModelRegistry();

let api: Lwm2mWorkbenchApi;
let counter = 0;

function workspaceDir(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test run opens a workspace folder');
  return folder.uri;
}

/** Copies a fixture into the workspace under a fresh name (so no remembered settings apply). */
function place(fixture: string): vscode.Uri {
  const dot = fixture.indexOf('.');
  const name = `${fixture.slice(0, dot)}-${++counter}${fixture.slice(dot)}`;
  const uri = vscode.Uri.joinPath(workspaceDir(), name);
  copyFileSync(join(FIXTURES, fixture), uri.fsPath);
  return uri;
}

async function open(uri: vscode.Uri, viewType = VIEW): Promise<{ state: InspectorState; rendered: RenderedInfo }> {
  await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
  const rendered = await api.inspector.testing.whenRendered(uri);
  const state = api.inspector.testing.state(uri);
  assert.ok(state, `a state for ${uri.path}`);
  return { state, rendered };
}

/** The node table the webview unpacks from the state it receives. */
function nodes(state: InspectorState): NodeTable {
  return unpackTable(state.nodes);
}

function rows(state: InspectorState): Map<string, RowView> {
  const out = new Map<string, RowView>();
  for (const r of tableRows(nodes(state))) if (!out.has(r.path)) out.set(r.path, r);
  return out;
}

function decodeFile(uri: vscode.Uri, format: number, path = '/'): Lwm2mRecord[] {
  return codecRegistry.decode(format, new Uint8Array(readFileSync(uri.fsPath)), { path: Lwm2mPath.parse(path), models }).records;
}

/** Byte equality that ignores Buffer vs Uint8Array. */
function sameBytes(actual: Uint8Array, expected: Uint8Array, message: string): void {
  assert.ok(Buffer.compare(Buffer.from(actual), Buffer.from(expected)) === 0, `${message}: ${Buffer.from(actual).toString('hex')} != ${Buffer.from(expected).toString('hex')}`);
}

function valueOf(records: Lwm2mRecord[], path: string): unknown {
  return records.find((r) => r.path.toString() === path)?.value;
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The webview rendered what the host sent: same revision, row count, first rows. */
function checkRendered(state: InspectorState, rendered: RenderedInfo): void {
  assert.equal(rendered.revision, state.revision);
  assert.equal(rendered.rows, state.nodes.count, 'the webview shows every row it received');
  assert.ok(rendered.sample.length > 0 || state.nodes.count === 0, 'the webview rendered rows');
  const paths = rowPaths(nodes(state));
  if (rendered.sample.length > 0) assert.equal(rendered.sample[0]![0], paths[0], 'first rendered row is the first row');
  assert.equal(rendered.formatShown, state.formatName);
  assert.equal(rendered.parts, 1, 'a small payload arrives in one message');
}

describe('Payload inspector', function () {
  this.timeout(60_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<Lwm2mWorkbenchApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
  });

  afterEach(async () => {
    await closeAll();
  });

  describe('opens every format and the webview receives the decoded model', () => {
    it('TLV (resources): base path guessed from the model, names, values, header/value bytes', async () => {
      const uri = place('device.tlv');
      const { state, rendered } = await open(uri);
      checkRendered(state, rendered);
      assert.equal(state.format, 11542);
      assert.match(state.formatReason, /file name/);
      assert.equal(state.basePath, '/3/0');
      assert.match(state.basePathReason, /object 3 Device/);
      assert.equal(state.error, undefined);
      assert.equal(state.editable, true);
      const r = rows(state);
      assert.equal(r.get('/3')?.name, 'Device');
      assert.deepEqual([r.get('/3/0/0')?.name, r.get('/3/0/0')?.type, r.get('/3/0/0')?.value], ['Manufacturer', 'string', 'Open Mobile Alliance']);
      assert.equal(r.get('/3/0/9')?.value, '100');
      assert.equal(r.get('/3/0/7/1')?.value, '5000');
      assert.equal(r.get('/3/0/13')?.type, 'time');
      assert.ok((r.get('/3/0/7')!.flags & RowFlag.Multiple) !== 0);
      // bytes of /3/0/0: header C8 00 14, then 20 value bytes
      const row = findRow(nodes(state), '/3/0/0');
      assert.deepEqual(rowSegments(nodes(state), state.segments, row), [
        [0, 3, 0],
        [3, 23, 2],
      ]);
      assert.deepEqual(r.get('/3/0/0')?.span, [0, 23]);
      assert.ok(state.bytes instanceof Uint8Array && state.bytes.length === 121);
    });

    it('TLV (object instance) and TLV named after its object', async () => {
      let { state } = await open(place('device-instance.tlv'));
      assert.equal(state.basePath, '/3');
      assert.equal(rows(state).get('/3/0/1')?.value, 'Lightweight M2M Client');
      assert.deepEqual(rowSegments(nodes(state), state.segments, findRow(nodes(state), '/3/0')), [[0, 3, 0]], 'the Object Instance TLV header belongs to /3/0');
      await closeAll();
      ({ state } = await open(place('temperature.tlv')));
      assert.equal(state.basePath, '/3303');
      assert.match(state.basePathReason, /Temperature/);
      assert.equal(rows(state).get('/3303/1/5700')?.value, '-4.5');
      assert.equal(rows(state).get('/3303/0/5700')?.units, undefined);
    });

    it('SenML JSON (time series, text payload opened with the option editor)', async () => {
      const uri = place('temperature.senml.json');
      const { state, rendered } = await open(uri, ANY);
      checkRendered(state, rendered);
      assert.equal(state.format, 110);
      assert.equal(state.usesBasePath, false);
      const all = tableRows(nodes(state)).filter((x) => x.path === '/3303/0/5700');
      assert.deepEqual(
        all.map((x) => [x.value, x.time]),
        [
          ['21.5', 1706702400],
          ['22.25', 1706702460],
        ],
      );
      assert.equal(all[0]!.name, 'Sensor Value');
      // labels of the first record: "bn", "bt", "n", "v"
      const labels = rowSegments(nodes(state), state.segments, all[0]!.row).filter((s) => s[2] === 1);
      assert.equal(labels.length, 4);
      assert.equal(new TextDecoder().decode(state.bytes.subarray(labels[0]![0], labels[0]![1])), '"bn"');
    });

    it('SenML JSON pretty-printed (*.senml.json) and SenML JSON (*.senmlj) with an object without a model', async () => {
      let { state } = await open(place('device.senml.json'), ANY);
      assert.equal(rows(state).get('/3/0/16')?.value, 'U');
      await closeAll();
      ({ state } = await open(place('composite.senmlj'), ANY));
      const r = rows(state);
      assert.equal(r.get('/3311/0/5850')?.value, 'true');
      assert.equal(r.get('/5/0/0')?.value, '0102030405060708090a');
      assert.ok((r.get('/9999/0/1')!.flags & RowFlag.Unmodelled) !== 0, 'no model: marked');
      assert.ok(state.notes.some((n) => n.includes('/9999/0/1')));
    });

    it('SenML CBOR (*.senml.cbor, *.senmlc): map heads, integer labels, values', async () => {
      const first = await open(place('temperature.senml.cbor'));
      let state = first.state;
      checkRendered(state, first.rendered);
      assert.equal(state.format, 112);
      assert.equal(tableRows(nodes(state)).filter((x) => x.path === '/3303/0/5700').length, 2);
      const segs = rowSegments(nodes(state), state.segments, findRow(nodes(state), '/3303/0/5700'));
      assert.equal(segs[0]![2], 0, 'the map head comes first');
      assert.ok(segs.some((s) => s[2] === 1), 'labels');
      await closeAll();
      ({ state } = await open(place('composite.senmlc')));
      assert.equal(rows(state).get('/1/0/1')?.value, '86400');
      assert.equal(rows(state).get('/1/0/1')?.name, 'Lifetime');
    });

    it('LwM2M JSON and LwM2M CBOR', async () => {
      let { state, rendered } = await open(place('device.lwm2m.json'), ANY);
      checkRendered(state, rendered);
      assert.equal(state.format, 11543);
      assert.equal(rows(state).get('/3/0/14')?.value, '+02:00');
      await closeAll();
      ({ state, rendered } = await open(place('device.lwm2m.cbor')));
      checkRendered(state, rendered);
      assert.equal(state.format, 11544);
      assert.equal(rows(state).get('/3/0/8/1')?.value, '900');
      const keyLabels = rowSegments(nodes(state), state.segments, findRow(nodes(state), '/3/0/8/1')).map((s) => s[2]);
      assert.deepEqual(keyLabels, [1, 2], 'path key, then value');
    });

    it('*.cbor: SenML CBOR detected with its reason; a single value (CF 60) after setting the base path', async () => {
      let { state } = await open(place('instances.cbor'));
      assert.equal(state.format, 112);
      assert.match(state.formatReason, /detected: CBOR array of maps/);
      await closeAll();
      const uri = place('battery-level.cbor');
      ({ state } = await open(uri));
      assert.equal(state.format, 60);
      assert.ok(state.error, 'needs the resource path');
      const { revision } = await api.inspector.testing.request(uri, 'setBasePath', { path: '/3/0/9' });
      const rendered = await api.inspector.testing.whenRendered(uri, revision);
      state = api.inspector.testing.state(uri)!;
      checkRendered(state, rendered);
      assert.equal(state.error, undefined);
      assert.deepEqual([rows(state).get('/3/0/9')?.name, rows(state).get('/3/0/9')?.value], ['Battery Level', '87']);
    });

    it('a truncated TLV: exact offset and expectation, bytes around it, everything decoded before', async () => {
      const uri = place('truncated.tlv');
      const { state, rendered } = await open(uri);
      assert.ok(state.error);
      assert.equal(state.error.offset, 100);
      assert.equal(state.error.expected, 'an 8-bit identifier');
      assert.equal(state.error.found, 'end of payload');
      assert.deepEqual(state.error.context, [92, 100]);
      assert.equal(state.editable, false);
      assert.equal(rows(state).get('/3/0/10')?.value, '15', 'values before the failure are listed');
      assert.equal(tableRows(nodes(state)).filter((x) => x.record >= 0).length, 12);
      assert.match(rendered.errorShown ?? '', /end of the payload \(byte 100\).*expected an 8-bit identifier, found end of payload/);
      await assert.rejects(api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: 2, text: 'x' } }), /cannot edit/);
    });

    it('broken SenML JSON: JSON pointer and the records before it', async () => {
      const { state, rendered } = await open(place('broken.senml.json'), ANY);
      assert.equal(state.error?.pointer, '/2/v');
      assert.equal(state.error?.offset, 79);
      assert.equal(rows(state).get('/3303/0/5701')?.value, 'Cel');
      assert.ok(rendered.errorShown?.includes('/2/v'));
    });

    it('changing the content format re-reads the bytes', async () => {
      const uri = place('device.tlv');
      const { state } = await open(uri);
      const { revision } = await api.inspector.testing.request(uri, 'setFormat', { format: 42 });
      const rendered = await api.inspector.testing.whenRendered(uri, revision);
      const after = api.inspector.testing.state(uri)!;
      assert.equal(after.format, 42);
      assert.equal(after.formatReason, 'chosen by you');
      assert.equal(rendered.formatShown, after.formatName);
      assert.notEqual(after.revision, state.revision);
      await api.inspector.testing.request(uri, 'setFormat', { format: 11542 });
      assert.equal(api.inspector.testing.state(uri)!.basePath, '/3/0');
    });
  });

  describe('editing', () => {
    it('edits a TLV value, saves, re-opens: the saved bytes decode to the edit, byte-exactly', async () => {
      const uri = place('device.tlv');
      const { state } = await open(uri);
      const row = findRow(nodes(state), '/3/0/0');
      await assert.rejects(api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: findRow(nodes(state), '/3/0/9'), text: 'lots' } }), /expected an integer/);
      await assert.rejects(api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: findRow(nodes(state), '/3/0/9'), text: '101' } }), /outside the model's range/);
      await assert.rejects(api.inspector.testing.request(uri, 'edit', { revision: state.revision - 1, edit: { op: 'setValue', row, text: 'x' } }), /changed/);
      const r = await api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row, text: 'ACME Corporation' } });
      assert.equal(r.select, '/3/0/0');
      const rendered = await api.inspector.testing.whenRendered(uri, r.revision);
      const edited = api.inspector.testing.state(uri)!;
      checkRendered(edited, rendered);
      assert.equal(rows(edited).get('/3/0/0')?.value, 'ACME Corporation');
      assert.equal(api.inspector.testing.document(uri)!.isDirty, true);
      const expected = edited.bytes.slice();
      await vscode.commands.executeCommand('workbench.action.files.save');
      const saved = new Uint8Array(readFileSync(uri.fsPath));
      sameBytes(saved, expected, 'the saved file holds the re-encoded bytes');
      const records = decodeFile(uri, 11542, '/3/0');
      assert.equal(valueOf(records, '/3/0/0'), 'ACME Corporation');
      assert.equal(valueOf(records, '/3/0/9'), 100, 'other values kept');
      assert.equal(records.length, 16);
      assert.equal(api.inspector.testing.document(uri)!.isDirty, false);
      await closeAll();
      const reopened = await open(uri);
      sameBytes(reopened.state.bytes, saved, 'byte-exact after re-opening');
      assert.equal(rows(reopened.state).get('/3/0/0')?.value, 'ACME Corporation');
    });

    it('adds and removes resources, instances and resource instances; re-encodes on save', async () => {
      const uri = place('temperature.tlv');
      let { state } = await open(uri);
      const edit = async (e: Parameters<typeof api.inspector.testing.request<'edit'>>[2]['edit']) => {
        const r = await api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: e });
        await api.inspector.testing.whenRendered(uri, r.revision);
        state = api.inspector.testing.state(uri)!;
        return r;
      };
      let r = await edit({ op: 'addInstance', row: findRow(nodes(state), '/3303') });
      assert.equal(r.select, '/3303/2');
      assert.equal(rows(state).get('/3303/2/5700')?.value, '21.5', 'a new instance copies the first one');
      r = await edit({ op: 'addResource', row: findRow(nodes(state), '/3303/2'), resourceId: 5750, text: 'greenhouse' });
      assert.equal(r.select, '/3303/2/5750');
      assert.equal(rows(state).get('/3303/2/5750')?.name, 'Application Type');
      await assert.rejects(edit({ op: 'addResource', row: findRow(nodes(state), '/3303/2'), resourceId: 5750, text: 'again' }), /already exists/);
      await edit({ op: 'remove', row: findRow(nodes(state), '/3303/1') });
      assert.equal(rows(state).get('/3303/1'), undefined);
      await edit({ op: 'setValue', row: findRow(nodes(state), '/3303/0/5700'), text: '-12.25' });
      await vscode.commands.executeCommand('workbench.action.files.save');
      const records = decodeFile(uri, 11542, '/3303');
      assert.equal(valueOf(records, '/3303/0/5700'), -12.25);
      assert.equal(valueOf(records, '/3303/2/5750'), 'greenhouse');
      assert.equal(valueOf(records, '/3303/2/5701'), 'Cel');
      assert.equal(records.some((x) => x.path.instanceId === 1), false);
      sameBytes(new Uint8Array(readFileSync(uri.fsPath)), state.bytes, 'saved bytes');

      const device = place('device.tlv');
      ({ state } = await open(device));
      const r2 = await api.inspector.testing.request(device, 'edit', { revision: state.revision, edit: { op: 'addResourceInstance', row: findRow(nodes(state), '/3/0/7'), text: '12000' } });
      assert.equal(r2.select, '/3/0/7/2');
      await api.inspector.testing.whenRendered(device, r2.revision);
      await vscode.commands.executeCommand('workbench.action.files.save');
      assert.equal(valueOf(decodeFile(device, 11542, '/3/0'), '/3/0/7/2'), 12000);
    });

    it('round-trips edits in SenML CBOR, SenML JSON, LwM2M JSON and LwM2M CBOR', async () => {
      const cases: [string, number, string, string, string, unknown][] = [
        ['temperature.senml.cbor', 112, VIEW, '/3303/1/5700', '30.5', 30.5],
        ['composite.senmlj', 110, ANY, '/3311/0/5850', 'false', false],
        ['device.lwm2m.json', 11543, ANY, '/3/0/14', '-05:00', '-05:00'],
        ['device.lwm2m.cbor', 11544, VIEW, '/3/0/9', '42', 42],
      ];
      for (const [fixture, format, view, path, text, value] of cases) {
        const uri = place(fixture);
        const { state } = await open(uri, view);
        const before = decodeFile(uri, format);
        const r = await api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: findRow(nodes(state), path), text } });
        await api.inspector.testing.whenRendered(uri, r.revision);
        const edited = api.inspector.testing.state(uri)!.bytes.slice();
        await vscode.commands.executeCommand('workbench.action.files.save');
        sameBytes(new Uint8Array(readFileSync(uri.fsPath)), edited, `${fixture}: saved bytes`);
        const after = decodeFile(uri, format);
        assert.deepEqual(valueOf(after, path), value, `${fixture}: ${path} edited`);
        assert.equal(after.length, before.length, `${fixture}: same number of values`);
        for (const rec of before) if (rec.path.toString() !== path) assert.deepEqual(valueOf(after, rec.path.toString()), valueOf(before, rec.path.toString()), `${fixture}: ${rec.path} kept`);
        await closeAll();
        const reopened = await open(uri, view);
        sameBytes(reopened.state.bytes, edited, `${fixture}: byte-exact after re-opening`);
        await closeAll();
      }
    });

    it('undo, redo and revert', async () => {
      const uri = place('device.tlv');
      const { state } = await open(uri);
      const original = state.bytes.slice();
      const r = await api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: findRow(nodes(state), '/3/0/9'), text: '55' } });
      await api.inspector.testing.whenRendered(uri, r.revision);
      assert.equal(rows(api.inspector.testing.state(uri)!).get('/3/0/9')?.value, '55');
      await vscode.commands.executeCommand('undo');
      await api.inspector.testing.whenRendered(uri, r.revision + 1);
      assert.equal(rows(api.inspector.testing.state(uri)!).get('/3/0/9')?.value, '100', 'undo');
      sameBytes(api.inspector.testing.state(uri)!.bytes, original, 'undo restores the bytes');
      await vscode.commands.executeCommand('redo');
      await api.inspector.testing.whenRendered(uri, r.revision + 2);
      assert.equal(rows(api.inspector.testing.state(uri)!).get('/3/0/9')?.value, '55', 'redo');
      await vscode.commands.executeCommand('workbench.action.files.revert');
      await api.inspector.testing.whenRendered(uri, r.revision + 3);
      assert.equal(rows(api.inspector.testing.state(uri)!).get('/3/0/9')?.value, '100', 'revert');
      sameBytes(new Uint8Array(readFileSync(uri.fsPath)), original, 'the file was never written');
    });

    it('backs up the edited bytes and how they are read (hot exit)', async () => {
      const uri = place('device.tlv');
      const { state } = await open(uri);
      const r = await api.inspector.testing.request(uri, 'edit', { revision: state.revision, edit: { op: 'setValue', row: findRow(nodes(state), '/3/0/1'), text: 'Backup Model' } });
      await api.inspector.testing.whenRendered(uri, r.revision);
      const doc = api.inspector.testing.document(uri)!;
      const destination = vscode.Uri.joinPath(workspaceDir(), '.backup', `b${counter}`);
      const backup = await doc.backup(destination);
      const restored = decodeBackup(new Uint8Array(readFileSync(destination.fsPath)));
      sameBytes(restored.bytes, doc.bytes, 'backup bytes');
      assert.equal(restored.settings?.basePath, '/3/0');
      assert.equal(restored.settings?.format, 11542);
      backup.delete();
      await vscode.commands.executeCommand('workbench.action.files.revert');
    });
  });

  describe('conversion, copy and opening bytes', () => {
    it('converts TLV to every other format; the new files decode to the same values', async () => {
      const uri = place('device.tlv');
      await open(uri);
      const source = decodeFile(uri, 11542, '/3/0');
      for (const [format, ext] of [
        [110, '.senml.json'],
        [112, '.senml.cbor'],
        [11543, '.lwm2m.json'],
        [11544, '.lwm2m.cbor'],
      ] as const) {
        const target = vscode.Uri.joinPath(workspaceDir(), `converted-${counter}${ext}`);
        const r = await api.inspector.testing.request(uri, 'convert', { format, target: target.toString() });
        assert.equal(r.uri, target.toString());
        const converted = decodeFile(target, format);
        assert.equal(converted.length, source.length, `${ext}: every value`);
        for (const rec of source) assert.deepEqual(valueOf(converted, rec.path.toString()), rec.value, `${ext}: ${rec.path}`);
      }
      await assert.rejects(api.inspector.testing.request(uri, 'convert', { format: 60, target: vscode.Uri.joinPath(workspaceDir(), 'x.cbor').toString() }), /exactly one value/);
      // and back: SenML CBOR (composite of one object) → TLV
      const senml = place('temperature.senml.cbor');
      await open(senml);
      const tlv = vscode.Uri.joinPath(workspaceDir(), `back-${counter}.tlv`);
      await api.inspector.testing.request(senml, 'convert', { format: 11542, target: tlv.toString() });
      const back = decodeFile(tlv, 11542, '/3303');
      assert.equal(valueOf(back, '/3303/1/5700'), -4.5);
    });

    it('copies as hex, C array and SenML JSON', async () => {
      const uri = place('device.tlv');
      const { state } = await open(uri);
      const hex = await api.inspector.testing.request(uri, 'copy', { as: 'hex' });
      assert.equal(hex.length, state.bytes.length * 2);
      const clip = await vscode.env.clipboard.readText().then(
        (t) => t,
        () => undefined,
      );
      if (clip !== undefined && clip !== '') assert.equal(clip, Buffer.from(state.bytes).toString('hex'));
      const c = await api.inspector.testing.request(uri, 'copy', { as: 'c-array' });
      assert.ok(c.length > state.bytes.length * 6);
      const json = await api.inspector.testing.request(uri, 'copy', { as: 'senml-json' });
      assert.ok(json.length > 100);
    });

    it('openPayloadInInspector: bytes with a format and request path, e.g. from the traffic log', async () => {
      const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'device.tlv')));
      const uri = await api.inspector.openPayloadInInspector(bytes, { format: 11542, path: '/3/0', title: '2.05 Content /3/0' });
      assert.equal(uri.scheme, 'untitled');
      const rendered = await api.inspector.testing.whenRendered(uri);
      const state = api.inspector.testing.state(uri)!;
      checkRendered(state, rendered);
      assert.equal(state.basePath, '/3/0');
      assert.match(state.basePathReason, /request path/);
      assert.equal(state.title, '2.05 Content /3/0');
      assert.equal(rows(state).get('/3/0/0')?.value, 'Open Mobile Alliance');
    });

    it('LwM2M: Decode Hex… and LwM2M: Decode Selection (base64)', async () => {
      const uri = (await vscode.commands.executeCommand<vscode.Uri>('lwm2m.inspector.decodeHex', 'C1 09 64 C1 0A 0F'))!;
      await api.inspector.testing.whenRendered(uri);
      let state = api.inspector.testing.state(uri)!;
      assert.equal(state.format, 11542);
      assert.match(state.formatReason, /detected: TLV/);
      assert.deepEqual(Array.from(state.bytes), [0xc1, 0x09, 0x64, 0xc1, 0x0a, 0x0f]);
      await closeAll();
      const doc = await vscode.workspace.openTextDocument({ content: `payload: ${Buffer.from(readFileSync(join(FIXTURES, 'temperature.senml.cbor'))).toString('base64')}\n` });
      const editor = await vscode.window.showTextDocument(doc);
      const line = doc.lineAt(0).text;
      editor.selection = new vscode.Selection(0, line.indexOf(' ') + 1, 0, line.length);
      const sel = (await vscode.commands.executeCommand<vscode.Uri>('lwm2m.inspector.decodeSelection'))!;
      await api.inspector.testing.whenRendered(sel);
      state = api.inspector.testing.state(sel)!;
      assert.equal(state.format, 112);
      assert.equal(rows(state).get('/3303/1/5701')?.value, 'Cel');
      await closeAll();
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });
  });

  describe('languages', () => {
    it('registers CoRE Link Format and the traffic-log export', async () => {
      const languages = await vscode.languages.getLanguages();
      assert.ok(languages.includes('core-link'));
      assert.ok(languages.includes('lwm2m-coaplog'));
      const link = await vscode.workspace.openTextDocument(place('registration.link'));
      assert.equal(link.languageId, 'core-link');
      const log = await vscode.workspace.openTextDocument(place('traffic.coaplog'));
      assert.equal(log.languageId, 'lwm2m-coaplog');
    });
  });

  describe('performance', () => {
    // The 1 s goal is measured and printed here, not asserted: these machines are shared and noisy
    // (performance is measured, not asserted in tests). The test asserts that a 1 MB payload opens
    // completely, crosses as binary and renders every row.
    it('opens a 1 MB TLV (18 k instances, 126 k values) and renders it (time printed)', async function () {
      this.timeout(120_000);
      const { bytes, instances } = temperatureTlv();
      assert.ok(bytes.length >= 1024 * 1024);
      // Three opens of fresh copies (the first one also warms the code up); the best counts.
      // "Open" is the time to the first screen of rows (the rest of the rows and bytes follows
      // in a second message); "complete" the time until every row is shown.
      const times: number[] = [];
      const complete: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const uri = vscode.Uri.joinPath(workspaceDir(), `temperature-1mb-${++counter}.tlv`);
        await vscode.workspace.fs.writeFile(uri, bytes);
        const started = Date.now();
        await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
        const rendered = await api.inspector.testing.whenRendered(uri, undefined, 60_000);
        const ms = Date.now() - started;
        const firstScreen = rendered.firstPaintAt - started;
        times.push(firstScreen);
        complete.push(ms);
        const state = api.inspector.testing.state(uri)!;
        const t = api.inspector.testing.timings(uri)!;
        console.log(
          `      1 MB TLV (${bytes.length} bytes, ${instances} instances, ${state.nodes.count} rows): first screen at ${firstScreen} ms, complete at ${ms} ms — ` +
            `panel after ${t.createdAt - started} ms, host decode+table ${state.analyzeMs} ms (done at ${t.analyzedAt - started} ms), ` +
            `webview ready at ${t.readyAt - started} ms, rest in transit ${rendered.transferMs} ms (typed arrays: ${rendered.typedArrays}), rest rendered in ${rendered.renderMs} ms, page script ran ${rendered.bootMs} ms after the page started`,
        );
        assert.equal(state.error, undefined);
        assert.equal(state.basePath, '/3303');
        assert.equal(rendered.rows, instances * 8 + 1);
        assert.equal(rendered.parts, 2, 'the first screen travels ahead of the rest');
        assert.ok(rendered.domRows > 0 && rendered.domRows < 200, `the tree is virtualised: ${rendered.domRows} rows in the DOM`);
        assert.ok(rendered.domHexLines > 0 && rendered.domHexLines < 200, `the hex view is virtualised: ${rendered.domHexLines} lines in the DOM`);
        assert.ok(firstScreen > 0 && firstScreen <= ms, `first screen ${firstScreen} ms within ${ms} ms`);
        assert.equal(rendered.typedArrays, true, 'bulk data crosses as binary');
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      }
      const best = Math.min(...times);
      console.log(
        `      best first screen ${best} ms of ${times.join(', ')} ms; complete ${complete.join(', ')} ms (goal 1000 ms; load ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores)`,
      );
    });
  });
});
