// Shared plumbing for UI tests: package the extension, install the .vsix into a fresh
// code-server, open the workbench in Debian's Chromium, and save screenshots under test-results/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
// @ts-expect-error plain ESM helper without type declarations
import { startCodeServer, installVsix, launchChromium, removeQuietly } from '../../scripts/lib/codeServer.mjs';
// @ts-expect-error plain ESM helper without type declarations
import { setup } from '../../scripts/setup-vscode.mjs';

export const root = join(__dirname, '..', '..');
export const resultsDir = join(root, 'test-results');

interface CodeServer {
  url: string;
  stop(): Promise<void>;
}

export interface Workbench {
  page: Page;
  browser: BrowserContext;
  workspace: string;
  close(): Promise<void>;
}

let vsixPath: string | undefined;

/** Builds the .vsix once per process with `npm run package`'s script. */
export function packageVsix(): string {
  if (vsixPath) return vsixPath;
  const outDir = join(root, 'out', 'vsix');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs')], {
    cwd: root,
    env: { ...process.env, LWM2M_VSIX_DIR: outDir },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`packaging failed:\n${r.stdout}\n${r.stderr}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  vsixPath = join(outDir, `${pkg.name}-${pkg.version}.vsix`);
  return vsixPath;
}

/** Starts code-server with the packaged extension installed and opens it in Chromium. */
export async function openWorkbench(options: { settings?: Record<string, unknown>; beforeOpen?: (workspace: string) => void; workspaceTrust?: boolean } = {}): Promise<Workbench> {
  setup({ needChromium: true });
  const vsix = packageVsix();
  const scratch = mkdtempSync(join(tmpdir(), 'lwm2m-ui-'));
  const extensionsDir = join(scratch, 'extensions');
  const userDataDir = join(scratch, 'user-data');
  const workspace = join(scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  options.beforeOpen?.(workspace);
  await installVsix(vsix, extensionsDir, userDataDir);
  const server: CodeServer = await startCodeServer({ extensionsDir, userDataDir, workspaceTrust: options.workspaceTrust, settings: { 'lwm2m.server.port': 0, 'lwm2m.server.securePort': 0, 'lwm2m.bootstrap.port': 0, 'lwm2m.bootstrap.securePort': 0, ...options.settings } });
  const browser: BrowserContext = await launchChromium();
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    page,
    browser,
    workspace,
    async close() {
      await browser.close().catch(() => undefined);
      await server.stop();
      removeQuietly(scratch);
    },
  };
}

/** Saves a screenshot under test-results/ (and, with LWM2M_UPDATE_DOC_SCREENSHOTS=1, under docs/images/). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.LWM2M_UPDATE_DOC_SCREENSHOTS === '1') {
    mkdirSync(join(root, 'docs', 'images'), { recursive: true });
    copyFileSync(file, join(root, 'docs', 'images', `${name}.png`));
  }
  return file;
}

/** Runs a command through the command palette (F1), as a person would. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await input.press('Enter');
}
