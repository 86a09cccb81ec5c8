// Workspace Trust in code-server (packaged .vsix, Chromium): a person opens a folder they do not
// trust. The LwM2M view still works, but nothing starts by itself — not the LwM2M server (autoStart
// is on), not the bootstrap server (enabled, with a configuration file in the folder) — and the
// folder's bootstrap configuration is not read. Starting the server by hand still works; trusting
// the folder then loads its bootstrap configuration.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { openWorkbench, runCommand, screenshot, type Workbench } from './helpers';

async function text(l: Locator): Promise<string> {
  return ((await l.textContent()) ?? '').replace(/\s+/g, ' ');
}

async function eventually(page: Page, fn: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await fn().catch(() => false))) {
    if (Date.now() - started > timeoutMs) {
      await screenshot(page, `failed-${what.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('an untrusted workspace (Restricted Mode)', { timeout: 300_000 }, () => {
  let wb: Workbench;

  before(async () => {
    wb = await openWorkbench({
      workspaceTrust: true,
      settings: {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'always',
        'lwm2m.server.autoStart': true,
        'lwm2m.bootstrap.enabled': true,
        'lwm2m.server.bindAddress': '127.0.0.1',
      },
      beforeOpen: (workspace) => {
        mkdirSync(join(workspace, '.lwm2m'), { recursive: true });
        writeFileSync(join(workspace, '.lwm2m', 'bootstrap.json'), JSON.stringify({ default: { servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5683', security: { mode: 'NoSec' } }] } }));
      },
    });
  });
  after(async () => {
    await wb?.close();
  });

  it('asks for trust; when refused, the LwM2M view opens but no server starts by itself', async () => {
    const { page } = wb;
    // The Workspace Trust prompt: "No, I don't trust the authors" opens the folder in Restricted Mode.
    const refuse = page.locator('.monaco-dialog-box .monaco-button', { hasText: /No, I don.t trust/i }).first();
    await refuse.waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(page, 'untrusted-prompt');
    await refuse.click();
    await page.locator('.statusbar-item', { hasText: /Restricted Mode/i }).first().waitFor({ state: 'visible', timeout: 30_000 });

    const activity = page.locator('.activitybar [role="tab"][aria-label^="LwM2M"], .activitybar a[aria-label^="LwM2M"]').first();
    await activity.waitFor({ state: 'visible', timeout: 60_000 });
    await activity.click();
    await page.locator('.welcome-view-content', { hasText: 'No LwM2M client has registered yet' }).waitFor({ state: 'visible', timeout: 60_000 });
    const status = page.locator('.statusbar-item', { hasText: /LwM2M/ }).filter({ hasNotText: /Restricted/ }).first();
    await status.waitFor({ state: 'visible', timeout: 30_000 });
    // Activation is done when the view shows; an auto-start would show a port within a moment.
    await new Promise((r) => setTimeout(r, 3000));
    assert.match(await text(status), /LwM2M: stopped/, 'the server did not start in an untrusted workspace');
    await screenshot(page, 'untrusted-stopped');
  });

  it('starts the server when asked, without the workspace bootstrap configuration', async () => {
    const { page } = wb;
    await runCommand(page, 'LwM2M: Start Server');
    const status = page.locator('.statusbar-item', { hasText: /LwM2M :\d+/ }).first();
    await eventually(page, async () => /LwM2M :\d+/.test(await text(status)), 'the server started by hand');
    // The bootstrap server runs (enabled in the user settings), but with no configuration read from the untrusted folder.
    await status.hover();
    const hover = page.locator('.monaco-hover', { hasText: /Bootstrap server/ }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await text(hover), /0 configured endpoints \(workspace not trusted\)/);
    await screenshot(page, 'untrusted-started');
  });

  it('once the folder is trusted, its bootstrap configuration is read', async () => {
    const { page } = wb;
    await page.keyboard.press('Escape');
    await runCommand(page, 'Workspaces: Manage Workspace Trust');
    const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
    await trust.waitFor({ state: 'visible', timeout: 30_000 });
    await trust.click();
    await page.locator('.statusbar-item', { hasText: /Restricted Mode/i }).first().waitFor({ state: 'hidden', timeout: 30_000 });
    // Close the Workspace Trust editor (a modal one in this VS Code): Escape, else its close action.
    const trustEditor = page.locator('.workspace-trust-editor').first();
    await page.keyboard.press('Escape');
    if (!(await trustEditor.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false))) {
      await page.locator('.action-label.codicon-close, .action-label.codicon-modal-close, a[aria-label^="Close"]').filter({ visible: true }).first().click();
      await trustEditor.waitFor({ state: 'hidden', timeout: 15_000 });
    }
    const status = page.locator('.statusbar-item', { hasText: /LwM2M :\d+/ }).first();
    await eventually(
      page,
      async () => {
        await page.mouse.move(10, 10);
        await status.hover();
        const hover = page.locator('.monaco-hover', { hasText: /Bootstrap server/ }).first();
        return /a default \(from \.lwm2m\/bootstrap\.json\)/.test(await text(hover));
      },
      'the bootstrap configuration loaded after trust was granted',
    );
    await screenshot(page, 'trusted-bootstrap');
  });
});
