#!/usr/bin/env node
// `npm start`: opens LwM2M Workbench in a real VS Code.
// - With desktop VS Code on PATH (`code`): builds and runs `code --extensionDevelopmentPath=.`.
// - Otherwise: installs code-server when missing (scripts/setup-vscode.mjs), packages the
//   extension, installs the .vsix and serves VS Code at a printed local URL until Ctrl-C.
// Options: --port N (code-server's port, default: chosen by the system), --folder DIR (the
// workspace to open, default: the current directory), --browser (code-server even when `code`
// exists).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { root, cacheDir } from './lib/env.mjs';
import { setup } from './setup-vscode.mjs';
import { startCodeServer, installVsix } from './lib/codeServer.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    folder: { type: 'string' },
    browser: { type: 'boolean', default: false },
  },
});
const folder = resolve(values.folder ?? process.env.INIT_CWD ?? process.cwd());

function hasDesktopCode() {
  const r = spawnSync('code', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

function mustRun(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!values.browser && hasDesktopCode()) {
  mustRun(process.execPath, ['scripts/build.mjs']);
  console.log(`Opening desktop VS Code with LwM2M Workbench from ${root}`);
  mustRun('code', [`--extensionDevelopmentPath=${root}`, folder]);
  process.exit(0);
}

setup();
const vsixDir = join(cacheDir, 'vsix');
mustRun(process.execPath, ['scripts/package.mjs'], { ...process.env, LWM2M_VSIX_DIR: vsixDir });
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const userDir = join(cacheDir, 'user');
const extensionsDir = join(userDir, 'extensions');
const userDataDir = join(userDir, 'data');
mkdirSync(extensionsDir, { recursive: true });
await installVsix(join(vsixDir, `${pkg.name}-${pkg.version}.vsix`), extensionsDir, userDataDir);

const server = await startCodeServer({
  extensionsDir,
  userDataDir,
  port: values.port ? Number(values.port) : 0,
});
const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
console.log('\nLwM2M Workbench is running in VS Code (code-server) at:\n');
console.log(`    ${url}\n`);
console.log('Open it in a browser; the LwM2M view is in the activity bar. Press Ctrl-C to stop.');

const browserCmd = process.env.BROWSER;
if (browserCmd) spawn(browserCmd, [url], { stdio: 'ignore', detached: true }).unref();

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.process.on('exit', (code) => process.exit(code ?? 0));
