// Starts code-server (a real VS Code served to a browser) and Debian's Chromium through
// playwright-core. Used by the extension-host test launcher, the UI tests and `npm start`.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerEntry, node24Bin, chromiumPath } from './env.mjs';

/** Removes a scratch folder; a process still writing into it must not turn into an error. */
export function removeQuietly(dir) {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch {
    // left for the system's temp cleaning
  }
}

/**
 * Runs code-server on 127.0.0.1 with a port chosen by the system. Resolves once it listens.
 * @param {{ userDataDir?: string, extensionsDir?: string, args?: string[], settings?: object, workspaceTrust?: boolean, log?: (line: string) => void }} options
 */
export async function startCodeServer(options = {}) {
  const home = mkdtempSync(join(tmpdir(), 'lwm2m-cs-home-'));
  const userDataDir = options.userDataDir ?? join(home, 'user-data');
  const extensionsDir = options.extensionsDir ?? join(home, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        ...options.settings,
      },
      null,
      2,
    ),
  );
  const args = [
    codeServerEntry,
    '--bind-addr', `127.0.0.1:${options.port ?? 0}`,
    '--auth', 'none',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    // Workspace Trust is off unless a test is about it (then the folder opens untrusted and asks).
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    ...(options.args ?? []),
  ];
  const child = spawn(node24Bin, args, {
    env: { ...process.env, HOME: home, TMPDIR: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = options.log ?? (() => {});
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) log(line);
      buffered += text;
      const m = /HTTP server listening on (http:\/\/[^\s]+)/.exec(buffered);
      if (m) resolve(m[1].replace(/\/$/, ''));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`code-server exited with code ${code} before listening:\n${buffered}`)));
    setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${buffered}`)), 60_000).unref();
  });
  return {
    url,
    home,
    userDataDir,
    extensionsDir,
    process: child,
    async stop() {
      const removeHome = () => removeQuietly(home);
      if (child.exitCode !== null) return removeHome();
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
      removeHome();
    },
  };
}

/** Installs a .vsix into an extensions dir with code-server's own CLI. */
export async function installVsix(vsixPath, extensionsDir, userDataDir) {
  await new Promise((resolve, reject) => {
    const child = spawn(node24Bin, [codeServerEntry, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsixPath, '--force'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`installing ${vsixPath} failed (${code}):\n${out}`))));
  });
}

/** Launches Debian's Chromium headless with a fresh profile. */
export async function launchChromium({ headless = true, viewport = { width: 1400, height: 900 } } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'lwm2m-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  // The profile is thrown away with the browser.
  context.once('close', () => removeQuietly(profile));
  return context;
}
