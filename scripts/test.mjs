#!/usr/bin/env node
// `npm test`: every check and all three test layers, in order:
//   static       tsc --noEmit (strict) and ESLint
//   unit         plain Node (node:test) for src/core and src/cli      test/unit/**/*.test.ts
//   integration  extension host (@vscode/test-electron contract, code-server)  test/integration
//   ui           packaged .vsix in code-server, driven in Chromium    test/ui/**/*.ui.test.ts
// `npm test -- unit` (or static / integration / ui, several allowed) runs only those.
// Heavy installs (Node 24, code-server) are made by scripts/setup-vscode.mjs when missing.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './lib/env.mjs';
import { setup, ensureDebianPackages } from './setup-vscode.mjs';

const LAYERS = ['static', 'unit', 'integration', 'ui'];
const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const p of picked) {
  if (!LAYERS.includes(p)) {
    console.error(`unknown test layer "${p}" (choose from ${LAYERS.join(', ')})`);
    process.exit(2);
  }
}
const want = (l) => picked.length === 0 || picked.includes(l);

function findFiles(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (name.endsWith(suffix)) out.push(relative(root, p));
  }
  return out.sort();
}

/** Runs one stage, streaming its output, and reads the test counts its runner printed. */
async function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}: ${cmd === process.execPath ? 'node' : relative(root, cmd)} ${args.join(' ')}`);
  const started = Date.now();
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    text += d;
  });
  child.stderr.on('data', (d) => process.stderr.write(d));
  const code = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  const count = (re) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  // node:test prints "ℹ pass N" / "ℹ fail N"; the extension-host suite prints "N passed, N failed".
  const passed = count(/^\S* ?pass (\d+)$/gm) + count(/^(\d+) passed, \d+ failed$/gm);
  const failed = count(/^\S* ?fail (\d+)$/gm) + count(/^\d+ passed, (\d+) failed$/gm);
  results.push({ label, code, seconds: (Date.now() - started) / 1000, passed, failed });
  return code;
}

const results = [];
const node = process.execPath;
const bin = (name) => join(root, 'node_modules', '.bin', name);

if (want('static')) {
  await run('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  await run('lint', bin('eslint'), ['.']);
}
if (want('unit')) {
  ensureDebianPackages(['libcoap3-bin']); // coap-client-notls is a real peer in the unit tests
  await run('unit', node, ['--import', 'tsx', '--test', '--test-reporter=spec', ...findFiles(join(root, 'test', 'unit'), '.test.ts')]);
}
if (want('integration') || want('ui')) setup({ needChromium: true });
if (want('integration')) {
  if ((await run('build', node, ['scripts/build.mjs', '--tests'])) === 0) {
    await run('integration', node, ['--import', 'tsx', 'test/integration/runTest.ts']);
  }
}
if (want('ui')) {
  await run('ui', node, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...findFiles(join(root, 'test', 'ui'), '.ui.test.ts')]);
}

console.log('\n=== summary');
for (const r of results) {
  const counts = r.passed || r.failed ? `  ${r.passed} passed, ${r.failed} failed` : '';
  console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.label.padEnd(12)} ${r.seconds.toFixed(1).padStart(6)} s${counts}`);
}
const failedStages = results.filter((r) => r.code !== 0).length;
const passed = results.reduce((n, r) => n + r.passed, 0);
// A failed stage without counted failures (a crash, a type error) still counts as one failure.
const failed = results.reduce((n, r) => n + (r.failed || (r.code !== 0 ? 1 : 0)), 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failedStages ? 1 : 0);
