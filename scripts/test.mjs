#!/usr/bin/env node
// Runs the test layers: unit (plain Node), integration (extension host in code-server), ui (Chromium).
// `npm test` runs all three; `npm test -- unit` (or integration / ui) runs one.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const layers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const want = (l) => layers.length === 0 || layers.includes(l);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

const results = [];
if (want('unit')) {
  const files = findTests(join(root, 'test', 'unit'));
  results.push(['unit', run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files])]);
}
for (const [name, code] of results) console.log(`${name}: ${code === 0 ? 'ok' : `failed (exit ${code})`}`);
process.exit(results.some(([, c]) => c !== 0) ? 1 : 0);
