// The payload inspector in code-server (packaged .vsix) driven in Chromium as a person would:
// open a TLV file, select a node and see its bytes highlighted, select a byte and see its node,
// edit a value, save, close and re-open. The webview lives in nested iframes.
import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { codecRegistry } from '../../src/core/codec/registry';
import { temperatureTlv } from '../fixtures/largeTlv';
import { createModelRegistry } from '../../src/core/model/bundled';
import { Lwm2mPath } from '../../src/core/path';
import { openWorkbench, root, screenshot, type Workbench } from './helpers';

const FIXTURES = join(root, 'test', 'fixtures', 'payloads');

/** The inspector's document inside the webview's nested iframes. */
function inspector(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** Opens a workspace file with Quick Open (Ctrl+P), as a person would. */
async function quickOpen(page: Page, name: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Control+P');
    if (await input.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) break;
  }
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await input.press('Enter');
}

/** Runs a command from the palette without clicking into the editor area (the webview). */
async function palette(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input');
  // a palette that is still closing would swallow the next F1
  await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('F1');
    if (await input.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) break;
  }
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
  await input.press('Enter');
}

function decodeDevice(file: string): Map<string, unknown> {
  const records = codecRegistry.decode(11542, new Uint8Array(readFileSync(file)), { path: Lwm2mPath.parse('/3/0'), models: createModelRegistry() }).records;
  return new Map(records.map((r) => [r.path.toString(), r.value]));
}

describe('Payload inspector in code-server (packaged .vsix, Chromium)', { timeout: 300_000 }, () => {
  let wb: Workbench;
  let file: string;
  const large = temperatureTlv();
  /** Console messages about the Content Security Policy, from any frame (the webview's too). */
  const cspViolations: string[] = [];

  before(async () => {
    wb = await openWorkbench();
    wb.page.on('console', (m) => {
      if (/Content Security Policy|Refused to (load|apply|execute)/i.test(m.text())) cspViolations.push(m.text());
    });
    file = join(wb.workspace, 'device.tlv');
    copyFileSync(join(FIXTURES, 'device.tlv'), file);
    copyFileSync(join(FIXTURES, 'truncated.tlv'), join(wb.workspace, 'truncated.tlv'));
    // written before the workbench lists the folder: Quick Open finds files present at start
    writeFileSync(join(wb.workspace, 'temperature-1mb.tlv'), large.bytes);
  });
  after(async () => {
    await wb?.close();
  });

  it('opens a TLV file in the inspector with names from the models', async () => {
    const { page } = wb;
    await quickOpen(page, 'device.tlv');
    const view = inspector(page);
    const row = view.locator('#tree .row', { hasText: '/3/0/0' }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match((await row.textContent()) ?? '', /Manufacturer.*string.*Open Mobile Alliance/);
    assert.match((await view.locator('#format').inputValue()) ?? '', /^11542$/);
    assert.match((await view.locator('#format-reason').textContent()) ?? '', /file name/);
    assert.equal(await view.locator('#base-path').inputValue(), '/3/0');
    assert.match((await view.locator('#base-reason').textContent()) ?? '', /object 3 Device/);
    assert.match((await view.locator('#tree .row', { hasText: '/3/0/9' }).first().textContent()) ?? '', /Battery Level.*integer.*100/);
  });

  it('selecting a node highlights its bytes; selecting a byte selects its node', async () => {
    const { page } = wb;
    await palette(page, 'View: Toggle Primary Side Bar Visibility');
    const view = inspector(page);
    await view.locator('#tree .row', { hasText: '/3/0/0' }).first().click();
    // /3/0/0 is bytes 0–22: header C8 00 14 and 20 value bytes
    const own = view.locator('#hex .bytes .b.own');
    await own.first().waitFor({ state: 'visible' });
    assert.equal(await own.count(), 23);
    assert.equal(await own.first().getAttribute('data-i'), '0');
    assert.equal(await own.last().getAttribute('data-i'), '22');
    assert.deepEqual(await view.locator('#hex .bytes .b.own.h').allTextContents(), ['c8', '00', '14'], 'the TLV header bytes');
    assert.match((await view.locator('#details-node').textContent()) ?? '', /\/3\/0\/0 Manufacturer · string · bytes 0–22 \(23 bytes\)/);
    await screenshot(page, 'inspector');

    await view.locator('#hex .bytes .b[data-i="30"]').click();
    const selected = view.locator('#tree .row[aria-selected="true"]');
    await selected.filter({ hasText: '/3/0/1' }).waitFor({ state: 'visible' });
    assert.match((await selected.textContent()) ?? '', /Model Number/);
    assert.match((await view.locator('#details-byte').textContent()) ?? '', /byte 30 .* value, 22 bytes/);
    await view.locator('#hex .bytes .b[data-i="23"]').click();
    assert.match((await view.locator('#details-byte').textContent()) ?? '', /Resource TLV: type byte 0xC8, id 1 \(8-bit\), length 22/);

    // keyboard: Down moves to the next node, and its bytes follow
    await view.locator('#tree').focus();
    await view.locator('#tree').press('ArrowDown');
    await view.locator('#tree .row[aria-selected="true"]', { hasText: '/3/0/2' }).waitFor({ state: 'visible' });
    assert.equal(await view.locator('#hex .bytes .b.own').first().getAttribute('data-i'), '48');
    await screenshot(page, 'inspector-keyboard');
  });

  it('edits a value (validated by type), saves, and re-opens with the new bytes', async () => {
    const { page } = wb;
    const view = inspector(page);
    // an invalid value is refused in place
    await view.locator('#tree .row', { hasText: '/3/0/9' }).first().click();
    await view.locator('#tree').press('Enter');
    const input = view.locator('#tree input.edit');
    await input.waitFor({ state: 'visible' });
    await input.fill('lots');
    assert.match((await view.locator('.edit-message').textContent()) ?? '', /expected an integer/);
    await input.press('Escape');

    await view.locator('#tree .row', { hasText: '/3/0/0' }).first().click();
    await view.locator('#tree').press('Enter');
    await input.waitFor({ state: 'visible' });
    await input.fill('ACME Devices');
    await input.press('Enter');
    const edited = view.locator('#tree .row', { hasText: '/3/0/0' }).first();
    await edited.filter({ hasText: 'ACME Devices' }).waitFor({ state: 'visible', timeout: 15_000 });
    // the bytes follow the edit: 12 value bytes now
    assert.equal(await view.locator('#hex .bytes .b.own').count(), 15);
    await page.locator('.tab.dirty').first().waitFor({ state: 'visible', timeout: 15_000 });
    await screenshot(page, 'inspector-edited');

    await palette(page, 'File: Save');
    const started = Date.now();
    let values = decodeDevice(file);
    while (values.get('/3/0/0') !== 'ACME Devices' && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 200));
      values = decodeDevice(file);
    }
    assert.equal(values.get('/3/0/0'), 'ACME Devices', 'the saved file decodes to the edit');
    assert.equal(values.get('/3/0/9'), 100);
    assert.equal(values.size, 16);

    await palette(page, 'View: Close All Editors');
    await page.locator('.tab', { hasText: 'device.tlv' }).waitFor({ state: 'detached', timeout: 15_000 });
    await quickOpen(page, 'device.tlv');
    const reopened = inspector(page).locator('#tree .row', { hasText: '/3/0/0' }).first();
    await reopened.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match((await reopened.textContent()) ?? '', /ACME Devices/);
    await screenshot(page, 'inspector-reopened');
  });

  it('shows where a payload fails to decode, with the bytes there and the values before', async () => {
    const { page } = wb;
    await quickOpen(page, 'truncated.tlv');
    const view = inspector(page);
    const banner = view.locator('#error-banner');
    await banner.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match((await banner.textContent()) ?? '', /at the end of the payload \(byte 100\).*expected an 8-bit identifier, found end of payload/);
    assert.equal(await view.locator('#hex .bytes .b.errctx').count(), 8, 'the 8 bytes before the failure are highlighted');
    assert.match((await view.locator('#tree .row', { hasText: '/3/0/10' }).first().textContent()) ?? '', /Memory Free.*15/);
    assert.equal(await view.locator('#add-resource').isDisabled(), true, 'read-only while it does not decode');
    await screenshot(page, 'inspector-error');
  });

  it('opens a 1 MB TLV: the first rows at once, then all of them; both lists stay virtualised', async () => {
    const { page } = wb;
    const { bytes, instances } = large;
    await palette(page, 'View: Close All Editors');
    await quickOpen(page, 'temperature-1mb.tlv');
    const started = Date.now();
    const view = inspector(page);
    await view.locator('#tree .row', { hasText: '/3303/0/5750' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const firstRows = Date.now() - started;
    // the last rows arrive with the rest: End selects the last one, and its bytes end the payload
    const last = `/3303/${instances - 1}/5750`;
    const lastRow = view.locator('#tree .row[aria-selected="true"]', { hasText: last });
    for (let attempt = 0; attempt < 50 && !(await lastRow.isVisible()); attempt++) {
      await view.locator('#tree').press('End');
      await new Promise((r) => setTimeout(r, 200));
    }
    await lastRow.waitFor({ state: 'visible', timeout: 10_000 });
    console.log(`  1 MB TLV in Chromium: first rows ${firstRows} ms after Quick Open's Enter, the last row selected after ${Date.now() - started} ms`);
    assert.match((await lastRow.textContent()) ?? '', new RegExp(`Application Type.*string.*room ${instances - 1}`));
    assert.equal(await view.locator('#hex .bytes .b.own').last().getAttribute('data-i'), String(bytes.length - 1), 'the last bytes are shown and belong to the last row');
    assert.doesNotMatch((await view.locator('#status').textContent()) ?? '', /Loading/);
    const rows = await view.locator('#tree .row').count();
    const lines = await view.locator('#hex .hex-line').count();
    assert.ok(rows > 10 && rows < 200, `${rows} tree rows in the DOM for ${instances * 8 + 1}`);
    assert.ok(lines > 10 && lines < 200, `${lines} hex lines in the DOM for ${Math.ceil(bytes.length / 16)}`);
    await screenshot(page, 'inspector-1mb');
  });

  it('loads nothing the strict CSP refuses', () => {
    assert.deepEqual(cspViolations, []);
  });
});
