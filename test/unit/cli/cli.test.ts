/**
 * Runs the CLI as a process. before() bundles src/cli/main.ts with esbuild's JS API into a temp
 * directory (platform node, cjs, shebang banner: the same shape as dist/cli.js), so these tests
 * exercise the real entry point and process exit codes without depending on `npm run build`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = join(__dirname, '..', '..', '..');
let dir = '';
let cli = '';

/** cbor-x optionally loads a native add-on; bundle none (as scripts/build.mjs does). */
const noNativeAddons: Plugin = {
  name: 'no-native-addons',
  setup(b) {
    b.onResolve({ filter: /^cbor-extract$/ }, () => ({ path: 'cbor-extract', namespace: 'no-native' }));
    b.onLoad({ filter: /.*/, namespace: 'no-native' }, () => ({ contents: 'module.exports = undefined;', loader: 'js' }));
  },
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

function run(args: string[], input?: string | Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [cli, ...args], { encoding: 'buffer', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), raw: stdout });
    });
    child.stdin!.end(input ?? '');
  });
}

const DEVICE_HEX =
  'c800144f70656e204d6f62696c6520416c6c69616e6365c801164c69676874776569676874204d324d20436c69656e74' +
  'c80209333435303030313233c303312e30860641000141010588070842000ed842011388870841007d42010384' +
  'c10964c10a0f830b410000c40d5182428fc60e2b30323a3030c11055';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwm2m-cli-test-'));
  cli = join(dir, 'cli.js');
  await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [noNativeAddons],
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'device.tlv'), Buffer.from(DEVICE_HEX, 'hex'));
  mkdirSync(join(dir, 'models'));
  writeFileSync(
    join(dir, 'models', 'sensor.xml'),
    `<?xml version="1.0" encoding="utf-8"?>
<LWM2M><Object ObjectType="MODefinition"><Name>Test Sensor</Name><ObjectID>32769</ObjectID>
<ObjectURN>urn:oma:lwm2m:x:32769</ObjectURN><ObjectVersion>1.1</ObjectVersion>
<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
<Item ID="0"><Name>Reading</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>
<Mandatory>Mandatory</Mandatory><Type>Unsigned Integer</Type><RangeEnumeration></RangeEnumeration><Units>Cel</Units></Item>
</Resources></Object></LWM2M>
`,
  );
  writeFileSync(join(dir, 'models', 'broken.xml'), '<LWM2M>\n<Object>\n<Name>Broken</Name>\n</Object>\n</LWM2M>\n');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lwm2m-workbench CLI', () => {
  it('is a node script with a shebang', () => {
    assert.ok(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n'));
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it('has help for every subcommand', async () => {
    const top = await run(['--help']);
    assert.equal(top.code, 0);
    for (const cmd of ['decode', 'encode', 'convert', 'models']) {
      assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
      const r = await run([cmd, '--help']);
      assert.equal(r.code, 0, `${cmd} --help`);
      assert.match(r.stdout, new RegExp(`Usage: lwm2m-workbench ${cmd}`));
      if (cmd !== 'models') assert.match(r.stdout, /senml-json/);
    }
  });

  it('decodes TLV into the JSON node shape', async () => {
    const r = await run(['decode', '--format', 'tlv', '--path', '/3/0', join(dir, 'device.tlv')]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.format, 'tlv');
    assert.equal(doc.path, '/3/0');
    assert.equal(doc.nodes.length, 16);
    assert.deepEqual(doc.nodes[0], { path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Open Mobile Alliance' });
    assert.deepEqual(doc.nodes[13], { path: '/3/0/13', name: 'Current Time', type: 'time', value: 1367491215 });
  });

  it('reads hex from standard input and format numbers', async () => {
    const r = await run(['decode', '-f', '11542', '-p', '/3/0', '--hex', '-'], 'C1 09 64\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).nodes, [{ path: '/3/0/9', name: 'Battery Level', type: 'integer', value: 100 }]);
  });

  it('guesses the format when --format is missing and says so', async () => {
    const r = await run(['decode', '-p', '/3/0', join(dir, 'device.tlv')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /decoding as tlv/);
  });

  it('encodes the JSON back to the same bytes', async () => {
    const decoded = await run(['decode', '-f', 'tlv', '-p', '/3/0', join(dir, 'device.tlv')]);
    const raw = await run(['encode', '-f', 'tlv'], decoded.stdout);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.raw.toString('hex'), DEVICE_HEX);
    const hexOut = await run(['encode', '-f', 'tlv', '--hex'], decoded.stdout);
    assert.equal(hexOut.stdout, DEVICE_HEX + '\n');
  });

  it('converts between formats', async () => {
    const same = await run(['convert', '--from', 'tlv', '--to', 'tlv', '-p', '/3/0', join(dir, 'device.tlv')]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.raw.toString('hex'), DEVICE_HEX);
    const text = await run(['convert', '--from', 'tlv', '--to', 'text', '-p', '/3/0/13', '--hex'], 'c4 0d 51 82 42 8f');
    assert.equal(text.code, 0, text.stderr);
    assert.equal(Buffer.from(text.stdout.trim(), 'hex').toString(), '1367491215');
  });

  it('decodes link format without a path', async () => {
    const r = await run(['decode', '-f', 'link'], '</>;rt="oma.lwm2m",</3/0>;ver=1.1');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).nodes, [
      { path: '/', type: 'corelnk', value: '</>;rt="oma.lwm2m"' },
      { path: '/3/0', type: 'corelnk', value: '</3/0>;ver=1.1' },
    ]);
  });

  it('fails on broken input with the offset on stderr', async () => {
    const r = await run(['decode', '-f', 'tlv', '-p', '/3/0', '--hex'], 'c1 09 64 c3 0a 01');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: cannot decode content format 11542 at byte 3: /);
    assert.match(r.stderr, /1 value decoded before the error/);
    const notHex = await run(['decode', '-f', 'tlv', '-p', '/3/0', '--hex'], 'c1 zz');
    assert.equal(notHex.code, 1);
    assert.match(notHex.stderr, /not hex: at character 3/);
    const badJson = await run(['encode', '-f', 'tlv'], '{"nodes": [');
    assert.equal(badJson.code, 1);
    assert.match(badJson.stderr, /input is not JSON/);
    const badNode = await run(['encode', '-f', 'tlv', '-p', '/3/0'], '{"nodes": [{"path": "/3/0/9", "value": "x"}]}');
    assert.equal(badNode.code, 1);
    assert.match(badNode.stderr, /\/nodes\/0\/value/);
  });

  it('fails on bad usage with exit code 2', async () => {
    assert.equal((await run(['decode', '-f', 'nope'], '')).code, 2);
    const noPath = await run(['decode', '-f', 'tlv'], 'c10964');
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /--path is required for tlv/);
    assert.equal((await run(['encode'], '[]')).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['decode', '-f', 'tlv', '-p', '/3/x'], '')).code, 2);
  });

  it('lists models and shows one object', async () => {
    const list = await run(['models']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+VERSION\s+NAME/);
    assert.match(list.stdout, /\n3\s+1\.\d\s+Device\s+single/);
    const one = await run(['models', '--json', '3/1.0']);
    assert.equal(one.code, 0, one.stderr);
    const doc = JSON.parse(one.stdout);
    assert.equal(doc.objects.length, 1);
    const dev = doc.objects[0];
    assert.deepEqual(Object.keys(dev), ['id', 'version', 'name', 'multiple', 'mandatory', 'resources']);
    assert.deepEqual([dev.id, dev.version, dev.name], [3, '1.0', 'Device']);
    assert.deepEqual(dev.resources[13], { id: 13, name: 'Current Time', operations: 'RW', type: 'Time', multiple: false, mandatory: false, units: '' });
    assert.equal((await run(['models', '65000'])).code, 1);
    assert.equal((await run(['models', 'x/y'])).code, 2);
  });

  it('loads --models directories and reports their problems as file:line', async () => {
    const r = await run(['models', '--models', join(dir, 'models'), '--json', '32769']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).objects[0].resources[0], { id: 0, name: 'Reading', operations: 'R', type: 'Unsigned Integer', multiple: false, mandatory: true, units: 'Cel' });
    assert.match(r.stderr, /broken\.xml:2(:\d+)?: /);
    const d = await run(['decode', '-f', 'tlv', '-p', '/32769/0', '--hex', '-m', join(dir, 'models')], 'c1 00 c8');
    assert.deepEqual(JSON.parse(d.stdout).nodes, [{ path: '/32769/0/0', name: 'Reading', type: 'unsigned integer', value: 200 }]);
  });
});
