#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts in its own process (one at a time, so they do not
// compete for the 2 cores), prints one table per file, and with --json prints all rows as JSON.
// Every figure is a ratio to a baseline measured in the same run. `npm run bench -- codec` runs
// only the files whose name contains "codec".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './lib/env.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((a) => !a.startsWith('-'));
const files = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts') && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort();
const scratch = mkdtempSync(join(tmpdir(), 'lwm2m-bench-'));
const all = [];
let failed = 0;
for (const file of files) {
  const out = join(scratch, `${file}.json`);
  (json ? process.stderr : process.stdout).write(`\n== ${file}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join('bench', file)], {
    cwd: root,
    stdio: ['ignore', json ? 'pipe' : 'inherit', 'inherit'],
    env: { ...process.env, LWM2M_BENCH_JSON_OUT: out },
  });
  if (json && r.stdout?.length) process.stderr.write(r.stdout);
  if (r.status !== 0) {
    failed++;
    console.error(`${file} failed with exit code ${r.status}`);
  }
  if (existsSync(out)) all.push(...JSON.parse(readFileSync(out, 'utf8')).map((row) => ({ file, ...row })));
}
if (json) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows: all }, null, 2)}\n`);
process.exit(failed ? 1 : 0);
