import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openWorkbench, runCommand, screenshot, type Workbench } from './helpers';

describe('LwM2M Workbench in code-server (packaged .vsix, Chromium)', { timeout: 240_000 }, () => {
  let wb: Workbench;

  before(async () => {
    wb = await openWorkbench();
  });
  after(async () => {
    await wb?.close();
  });

  it('shows the LwM2M container with the Clients view and its welcome content', async () => {
    const { page } = wb;
    const activity = page.locator('.activitybar [role="tab"][aria-label^="LwM2M"], .activitybar a[aria-label^="LwM2M"]').first();
    await activity.waitFor({ state: 'visible', timeout: 60_000 });
    await activity.click();
    const welcome = page.locator('.welcome-view-content', { hasText: 'No LwM2M client has registered yet' });
    await welcome.waitFor({ state: 'visible', timeout: 60_000 });
    const title = (await page.locator('.part.sidebar .composite.title').first().textContent()) ?? '';
    assert.match(title, /LwM2M/i, 'side bar shows the LwM2M container');
    assert.match(title, /Clients/i, 'side bar shows the Clients view');
    assert.ok(await welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Start Server' }).first().isVisible(), 'Start Server button');
    assert.ok(
      await welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Start Simulated Device' }).first().isVisible(),
      'Start Simulated Device button',
    );
    const status = page.locator('.statusbar-item', { hasText: 'LwM2M' }).first();
    await status.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await status.textContent()) ?? '', /LwM2M/);
    await screenshot(page, 'lwm2m-view');
  });

  it('runs "LwM2M: Start Server" from the command palette and shows the outcome', async () => {
    const { page } = wb;
    await runCommand(page, 'LwM2M: Start Server');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /LwM2M server/ }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    const status = page.locator('.statusbar-item', { hasText: 'LwM2M' }).first();
    assert.match((await status.textContent()) ?? '', /LwM2M/);
    await screenshot(page, 'command-start-server');
  });
});
