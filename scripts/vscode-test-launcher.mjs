#!/usr/bin/env node
// Stands in for the VS Code executable that @vscode/test-electron's runTests() would download
// (desktop VS Code cannot be downloaded on these machines). It accepts the same Electron-style
// arguments, runs the extension tests in code-server (a real VS Code 1.139) inside headless
// Chromium, prints the tests' output and exits with their exit code.
//
// Mechanism (the one VS Code's own browser integration tests use): code-server runs with the
// smoke-test driver enabled; the workbench URL carries extensionDevelopmentPath and
// extensionTestsPath in its `payload`; the page exposes codeAutomationLog/codeAutomationExit.
import { mkdtempSync, mkdirSync } from 'node:fs';
import { format } from 'node:util';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setup } from './setup-vscode.mjs';
import { startCodeServer, launchChromium, removeQuietly } from './lib/codeServer.mjs';

const argv = process.argv.slice(2);
const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const extensionDevelopmentPath = option('extensionDevelopmentPath');
const extensionTestsPath = option('extensionTestsPath');
const folder = argv.find((a) => !a.startsWith('-'));
const timeoutMs = Number(process.env.LWM2M_TEST_TIMEOUT_MS || 300_000);
const verbose = !!process.env.LWM2M_TEST_VERBOSE;

/** Printed by test/integration/suite/index.ts when mocha starts; what comes before is the workbench's. */
const TESTS_START_MARKER = '[lwm2m-extension-tests] start';
let started = false;

/** Messages of the workbench itself, not of the tests: harmless offline noise. */
function isWorkbenchNoise(text) {
  return (
    /^\[(AgentHost|AgentHost:remote|ChatModelSelection|AccountPolicyGate|Service Worker)[\]:]/.test(text) ||
    /^Creating a socket|^\[reconnection-grace-time\]/.test(text) ||
    /workbench\.js:\d+/.test(text) ||
    /(gallery|marketplace|vsda|Failed to fetch|net::ERR_)/i.test(text)
  );
}

if (!extensionDevelopmentPath || !extensionTestsPath) {
  console.error('usage: vscode-test-launcher --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [FOLDER]');
  process.exit(2);
}

setup({ needChromium: true });

const scratch = mkdtempSync(join(tmpdir(), 'lwm2m-exthost-'));
const workspace = resolve(folder ?? join(scratch, 'workspace'));
mkdirSync(workspace, { recursive: true });

const server = await startCodeServer({
  userDataDir: option('user-data-dir') ?? join(scratch, 'user-data'),
  extensionsDir: option('extensions-dir') ?? join(scratch, 'extensions'),
  args: ['--vscode-option', 'enable-smoke-test-driver'],
  // The extension starts its servers on activation: on ports the system chooses, never fixed ones.
  settings: { 'lwm2m.server.port': 0, 'lwm2m.server.securePort': 0, 'lwm2m.bootstrap.port': 0, 'lwm2m.bootstrap.securePort': 0 },
  log: verbose ? (l) => console.log(`[code-server] ${l}`) : undefined,
});

let exitCode = 1;
const browser = await launchChromium();
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  if (verbose) page.on('console', (m) => console.log(`[browser] ${m.type()}: ${m.text()}`));
  const done = new Promise((resolveDone) => {
    void page.exposeFunction('codeAutomationLog', (type, args) => {
      const list = Array.isArray(args) ? args : [args];
      const text = format(...list);
      // The workbench logs to the same channel (gallery look-ups that fail offline, agent host
      // notices); keep the tests' own output unless LWM2M_TEST_VERBOSE is set.
      if (text.includes(TESTS_START_MARKER)) {
        started = true;
        return;
      }
      if (!verbose && (!started || isWorkbenchNoise(text))) return;
      if (type === 'error') console.error(text);
      else console.log(text);
    });
    void page.exposeFunction('codeAutomationExit', (code) => resolveDone(Number(code)));
  });

  // code-server names its remote authority literally `remote`; read it from the page to be sure.
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  const authority = await page
    .evaluate(() => {
      const el = document.getElementById('vscode-workbench-web-configuration');
      const raw = el?.getAttribute('data-settings');
      return raw ? JSON.parse(raw).remoteAuthority : undefined;
    })
    .catch(() => undefined);
  const remote = authority || 'remote';
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${remote}${resolve(extensionDevelopmentPath)}`],
    ['extensionTestsPath', `vscode-remote://${remote}${resolve(extensionTestsPath)}`],
    ['skipWelcome', 'true'],
  ];
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const result = await Promise.race([done, timeout]);
  if (result === 'timeout') {
    console.error(`extension tests did not finish within ${timeoutMs / 1000} s`);
    await page.screenshot({ path: join(scratch, 'timeout.png') }).catch(() => {});
    console.error(`screenshot: ${join(scratch, 'timeout.png')}`);
  } else exitCode = result;
} catch (err) {
  console.error(err);
} finally {
  await browser.close().catch(() => {});
  await server.stop();
  if (exitCode === 0) removeQuietly(scratch); // kept on failure, for the screenshot
}
process.exit(exitCode);
