// The VS Code experience in code-server (packaged .vsix) driven in Chromium as a person would:
// open the LwM2M view (the server auto-starts), start a simulated device, expand the tree to
// /3/0/0 and read it, write and execute on /3311/0, observe /3303/0/5700 and see it change, open
// the traffic log and a message's detail, cancel a Read a device never answers. Screenshots go to
// test-results/.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import * as coap from 'coap-packet';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { openWorkbench, screenshot, type Workbench } from './helpers';

/** Runs a command from the palette (F1) without clicking into the editor area. */
async function palette(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('F1');
    if (await input.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) break;
  }
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await input.press('Enter');
}

/** The Clients view's pane. */
function clientsPane(page: Page): Locator {
  return page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /Clients/i }) }).first();
}

/** A row of the Clients tree holding `text`. */
function row(page: Page, text: string | RegExp): Locator {
  return clientsPane(page).locator('.monaco-list-row', { hasText: text }).first();
}

async function expand(page: Page, text: string | RegExp): Promise<Locator> {
  const r = row(page, text);
  await r.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
  await assertEventually(async () => (await r.getAttribute('aria-expanded')) === 'true', `${String(text)} expanded`);
  return r;
}

/** Right-clicks a tree row and picks a context-menu entry. */
async function contextMenu(page: Page, r: Locator, entry: string): Promise<void> {
  await r.click({ button: 'right' });
  const menu = page.locator('.context-view .monaco-menu');
  await menu.waitFor({ state: 'visible', timeout: 10_000 });
  const action = menu.locator('.action-label', { hasText: new RegExp(`^${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).first();
  await action.hover();
  await action.click();
  // A click that lands while the menu is still opening is ignored: then Enter runs the hovered entry.
  if (!(await menu.waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false))) {
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: 5_000 });
  }
}

let currentPage: Page | undefined;

async function assertEventually(fn: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await fn().catch(() => false))) {
    if (Date.now() - started > timeoutMs) {
      if (currentPage) await screenshot(currentPage, `failed-${what.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function text(l: Locator): Promise<string> {
  return ((await l.textContent()) ?? '').replace(/\s+/g, ' ');
}

/** The traffic log's document inside the webview's nested iframes. */
function trafficFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

describe('LwM2M Workbench in code-server (packaged .vsix, Chromium)', { timeout: 300_000 }, () => {
  let wb: Workbench;

  before(async () => {
    wb = await openWorkbench({ settings: { 'lwm2m.server.port': 0, 'lwm2m.server.securePort': 0, 'lwm2m.server.bindAddress': '127.0.0.1' } });
    currentPage = wb.page;
  });
  after(async () => {
    await wb?.close();
  });

  it('shows the LwM2M container with the Clients view, its welcome content, and the status bar (server auto-started)', async () => {
    const { page } = wb;
    const activity = page.locator('.activitybar [role="tab"][aria-label^="LwM2M"], .activitybar a[aria-label^="LwM2M"]').first();
    await activity.waitFor({ state: 'visible', timeout: 60_000 });
    await activity.click();
    const welcome = page.locator('.welcome-view-content', { hasText: 'No LwM2M client has registered yet' });
    await welcome.waitFor({ state: 'visible', timeout: 60_000 });
    const title = (await page.locator('.part.sidebar .composite.title').first().textContent()) ?? '';
    assert.match(title, /LwM2M/i, 'side bar shows the LwM2M container');
    assert.ok(await welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Start Simulated Device' }).first().isVisible(), 'Start Simulated Device button');
    // The server starts on activation (lwm2m.server.autoStart): the status bar shows its port.
    const status = page.locator('.statusbar-item', { hasText: /LwM2M :\d+/ }).first();
    await status.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await text(status), /LwM2M :\d+ :\d+ \(DTLS\) · 0 clients/);
    // A wider side bar, for readable screenshots.
    const box = await page.locator('.part.sidebar').boundingBox();
    if (box) {
      await page.mouse.move(box.x + box.width + 1, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width + 260, box.y + box.height / 2, { steps: 8 });
      await page.mouse.up();
    }
    await screenshot(page, 'lwm2m-view');
  });

  it('starts a simulated device: it appears in the tree and the status bar counts it', async () => {
    const { page } = wb;
    await palette(page, 'LwM2M: Start Simulated Device');
    const client = row(page, 'sim-1');
    await client.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await text(client), /LwM2M 1\.1/);
    await assertEventually(async () => /1 client\b/.test(await text(page.locator('.statusbar-item', { hasText: /LwM2M :\d+/ }).first())), 'status bar shows 1 client');
  });

  it('expands the tree to /3/0/0 and reads it', async () => {
    const { page } = wb;
    await expand(page, 'sim-1');
    await expand(page, /^Device/);
    await expand(page, '/3/0');
    const manufacturer = row(page, 'Manufacturer');
    await manufacturer.waitFor({ state: 'visible', timeout: 30_000 });
    await contextMenu(page, manufacturer, 'Read');
    await assertEventually(async () => (await text(manufacturer)).includes('LwM2M Workbench'), 'Manufacturer shows its value');
    // Read the whole instance too: resource instances appear below multiple resources.
    await contextMenu(page, row(page, '/3/0'), 'Read');
    await assertEventually(async () => (await text(row(page, 'Battery Level'))).match(/\d+ %/) !== null, 'Battery Level value with units');
    await screenshot(page, 'clients-tree');
    // Make room for the next objects.
    await row(page, /^Device/).click();
  });

  it('writes and executes on /3311/0', async () => {
    const { page } = wb;
    await expand(page, /^Light Control/);
    await expand(page, '/3311/0');
    const onOff = row(page, 'On/Off');
    await onOff.waitFor({ state: 'visible' });
    await contextMenu(page, onOff, 'Write…');
    // A boolean is offered as a pick.
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: /^true/ }).first();
    await pick.waitFor({ state: 'visible', timeout: 10_000 });
    await pick.click();
    await assertEventually(async () => /^\s*On\/Off\s*true/.test(await text(onOff)), 'On/Off shows true');
    // Execute from the palette, typing the path: Light Control has no executable resource, so
    // the device refuses and the failure says the code, its LwM2M meaning and the device's reason.
    await palette(page, 'LwM2M: Execute…');
    const input = page.locator('.quick-input-widget input');
    await input.fill('/3311/0/5850');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'typed path' }).first().waitFor({ state: 'visible' });
    await input.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'Arguments' }).waitFor({ state: 'visible', timeout: 10_000 });
    await input.press('Enter'); // no arguments
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: '4.05' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await text(toast), /4\.05 Method Not Allowed/);
    await screenshot(page, 'execute-failure');
    await toast.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => undefined);
    await row(page, /^Light Control/).click();
  });

  it('observes /3303/0/5700 and sees the value change', async () => {
    const { page } = wb;
    await expand(page, /^Temperature/);
    await expand(page, '/3303/0');
    const sensor = row(page, 'Sensor Value');
    await sensor.waitFor({ state: 'visible' });
    await contextMenu(page, sensor, 'Observe');
    const first = await (async () => {
      await assertEventually(async () => /\d+(\.\d+)?/.test(await text(sensor)), 'a first value');
      return text(sensor);
    })();
    await assertEventually(async () => (await text(sensor)) !== first, 'the observed value changes', 30_000);
    await assertEventually(async () => /[▁▂▃▄▅▆▇█]{2,}/.test(await text(sensor)), 'a sparkline', 30_000);
    // The Observations view lists it with its notification count.
    const obsPane = page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: /Observations/i }) }).first();
    const obsHeader = obsPane.locator('.pane-header').first();
    if ((await obsHeader.getAttribute('aria-expanded')) !== 'true') await obsHeader.click();
    const obsRow = obsPane.locator('.monaco-list-row', { hasText: '/3303/0/5700' }).first();
    await assertEventually(() => obsRow.isVisible(), 'the observation listed in the Observations view');
    await assertEventually(async () => /\d+ notif\./.test(await text(obsRow)), 'notifications counted');
    await screenshot(page, 'observe');
  });

  it('opens the traffic log and a message detail', async () => {
    const { page } = wb;
    await palette(page, 'LwM2M: Show Traffic Log');
    const frame = trafficFrame(page);
    const rows = frame.locator('tr.row');
    await rows.first().waitFor({ state: 'visible', timeout: 30_000 });
    const content = frame.locator('tr.row', { hasText: '2.05 Content' }).filter({ hasText: '/3/0' }).first();
    await content.waitFor({ state: 'visible', timeout: 30_000 });
    await content.click();
    const decoded = frame.locator('#decoded');
    await decoded.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await decoded.textContent()) ?? '', /Manufacturer/);
    await screenshot(page, 'traffic-log');
  });

  it('a Read a device never answers shows progress; Cancel ends it', async () => {
    const { page } = wb;
    await palette(page, 'View: Close All Editors');
    // A device that registers and then stays silent: a bare UDP socket of this test process.
    const status = await text(page.locator('.statusbar-item', { hasText: /LwM2M :\d+/ }).first());
    const port = Number(/LwM2M :(\d+)/.exec(status)![1]);
    const device = dgram.createSocket('udp4');
    await new Promise<void>((r) => device.bind(0, '127.0.0.1', () => r()));
    try {
      const registered = new Promise<string>((resolve) => device.once('message', (m) => resolve(coap.parse(m).code)));
      device.send(
        coap.generate({
          messageId: 1,
          token: Buffer.from([1, 2]),
          code: 'POST',
          confirmable: true,
          options: [
            { name: 'Uri-Path', value: Buffer.from('rd') },
            { name: 'Uri-Query', value: Buffer.from('ep=silent-device') },
            { name: 'Uri-Query', value: Buffer.from('lt=300') },
          ],
          payload: Buffer.from('</3/0>'),
        }),
        port,
        '127.0.0.1',
      );
      assert.equal(await registered, '2.01');
      await expand(page, 'silent-device');
      await expand(page, /^Device/);
      const instance = row(page, '/3/0');
      await instance.waitFor({ state: 'visible', timeout: 30_000 });
      await contextMenu(page, instance, 'Read');
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Read /3/0 on silent-device' }).first();
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      await page.mouse.move(1000, 300); // no hover over the tree in the screenshot
      await new Promise((r) => setTimeout(r, 500)); // the toast's slide-in
      await screenshot(page, 'read-progress');
      await toast.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      await toast.waitFor({ state: 'hidden', timeout: 10_000 });
      const message = page.locator('.statusbar-item', { hasText: /Read \/3\/0 on silent-device cancelled after \d+ ms/ }).first();
      await message.waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await page.locator('.notifications-toasts .notification-toast', { hasText: /failed|No answer/ }).count(), 0, 'a cancel is not reported as an error');
    } finally {
      device.close();
    }
  });
});
