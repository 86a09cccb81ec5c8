#!/usr/bin/env node
// `npm run package`: production bundles, then a .vsix with @vscode/vsce holding only what ships
// (see .vscodeignore); prints its path, size and contents.
import { spawnSync } from 'node:child_process';
import { statSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/env.mjs';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outDir = process.env.LWM2M_VSIX_DIR || root;
mkdirSync(outDir, { recursive: true });
const out = join(outDir, `${pkg.name}-${pkg.version}.vsix`);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, ['scripts/build.mjs', '--production']);
run(process.execPath, [
  join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--no-rewrite-relative-links',
  '--out',
  out,
]);
const size = statSync(out).size;
console.log(`[package] ${out} — ${(size / 1024).toFixed(1)} KiB`);
