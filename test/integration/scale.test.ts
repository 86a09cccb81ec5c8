// Raw CoAP clients on one UDP socket: an object no model describes, and 1,000 registered clients.
import * as assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { generate, parse, type ParsedPacket } from 'coap-packet';
import * as vscode from 'vscode';
import { Lwm2mPath } from '../../src/core/path';
import type { Lwm2mWorkbenchApi } from '../../src/vscode/extension';
import { activate, item, label, runningServer, waitFor } from './lwm2mHelpers';

/** A bare-bones LwM2M client side: sends Registers, answers GETs with a fixed TLV. */
class RawClients {
  private mid = 1;
  private readonly waiting = new Map<number, (p: ParsedPacket) => void>();
  private constructor(
    readonly socket: Socket,
    readonly serverPort: number,
  ) {
    socket.on('message', (msg) => {
      const p = parse(msg);
      if (p.ack || p.reset) {
        this.waiting.get(p.messageId)?.(p);
        this.waiting.delete(p.messageId);
        return;
      }
      if (p.confirmable && p.code === '0.01') {
        // GET: answer with one integer resource (TLV C1 00 05 = resource 0 = 5).
        socket.send(
          generate({ ack: true, code: '2.05', messageId: p.messageId, token: p.token, options: [{ name: 'Content-Format', value: Buffer.from([0x2d, 0x16]) }], payload: Buffer.from([0xc1, 0x00, 0x05]) }),
          this.serverPort,
          '127.0.0.1',
        );
      }
    });
  }

  static async open(serverPort: number): Promise<RawClients> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new RawClients(socket, serverPort);
  }

  register(endpoint: string, links: string): Promise<ParsedPacket> {
    const messageId = this.mid++ & 0xffff;
    const packet = generate({
      confirmable: true,
      code: '0.02',
      messageId,
      token: Buffer.from([messageId >> 8, messageId & 0xff]),
      options: [
        { name: 'Uri-Path', value: Buffer.from('rd') },
        { name: 'Content-Format', value: Buffer.from([40]) },
        { name: 'Uri-Query', value: Buffer.from(`ep=${endpoint}`) },
        { name: 'Uri-Query', value: Buffer.from('lt=120') },
        { name: 'Uri-Query', value: Buffer.from('lwm2m=1.1') },
      ],
      payload: Buffer.from(links),
    });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to the Register of ${endpoint}`)), 10_000);
      this.waiting.set(messageId, (p) => {
        clearTimeout(t);
        resolve(p);
      });
      this.socket.send(packet, this.serverPort, '127.0.0.1');
    });
  }

  close(): void {
    this.socket.close();
  }
}

describe('Raw clients: unmodelled objects and 1,000 clients', function () {
  this.timeout(60_000);
  let api: Lwm2mWorkbenchApi;
  let raw: RawClients;

  before(async () => {
    api = await activate();
    await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, quiet: true });
    raw = await RawClients.open(await runningServer(api));
  });
  after(async () => {
    raw?.close();
    await vscode.commands.executeCommand('lwm2m.restartServer', { port: 0, quiet: true });
  });

  it('an announced object without a model appears by id and can be read', async () => {
    const r = await raw.register('raw-unmodelled', '</3/0>,</32769/0>');
    assert.equal(r.code, '2.01');
    await waitFor('registered', () => api.controller.store.get('raw-unmodelled'));
    const objects = api.tree.getChildren(api.tree.nodeFor('raw-unmodelled', '/')).map((n) => n.path);
    assert.deepEqual(objects, ['/3', '/32769']);
    const obj = item(api, 'raw-unmodelled', '/32769');
    assert.equal(label(obj), 'Object 32769');
    assert.match(String(obj.description), /no model/);
    const res = await vscode.commands.executeCommand<{ records: { value: unknown }[] }>('lwm2m.read', { endpoint: 'raw-unmodelled', path: '/32769/0' }, { format: 'tlv', throwErrors: true });
    assert.equal(res.records.length, 1);
    const kids = api.tree.getChildren(api.tree.nodeFor('raw-unmodelled', '/32769/0')).map((n) => n.path);
    assert.deepEqual(kids, ['/32769/0/0']);
    const res0 = item(api, 'raw-unmodelled', '/32769/0/0');
    assert.equal(label(res0), 'Resource 0');
    assert.match(String(res0.description), /no model/);
  });

  it('1,000 registered clients: batched refreshes and a fast tree', async () => {
    const fullBefore = api.tree.stats.fullRefreshes;
    const started = Date.now();
    const batch = 50;
    for (let i = 0; i < 1000; i += batch) {
      const answers = await Promise.all(Array.from({ length: batch }, (_, j) => raw.register(`scale-${String(i + j).padStart(4, '0')}`, '</1/0>,</3/0>,</3303/0>')));
      for (const a of answers) assert.equal(a.code, '2.01');
    }
    const registerMs = Date.now() - started;
    await waitFor('1,000 clients in the store', () => api.controller.store.size >= 1001);
    await waitFor('badge count', () => (api.treeView.badge?.value ?? 0) >= 1001, 5000);
    const refreshes = api.tree.stats.fullRefreshes - fullBefore;
    assert.ok(refreshes < 200, `registrations were batched into ${refreshes} refreshes (not 1,000)`);
    const t0 = performance.now();
    const roots = api.tree.getChildren();
    for (const n of roots) api.tree.getTreeItem(n);
    const ms = performance.now() - t0;
    console.log(`      1,000 Registers in ${registerMs} ms; ${refreshes} full refreshes; root list + 1,000 tree items in ${ms.toFixed(1)} ms`);
    assert.ok(roots.length >= 1001);
    assert.ok(ms < 500, `root children and items of 1,000 clients took ${ms.toFixed(1)} ms`);
    // A value change of one client refreshes only its own nodes.
    const firedBefore = api.tree.stats.firedNodes;
    const fullBefore2 = api.tree.stats.fullRefreshes;
    api.tree.getChildren(api.tree.nodeFor('scale-0001', '/'));
    api.controller.store.setValues('scale-0001', [{ path: Lwm2mPath.parse('/3303/0/5700'), type: 'float', value: 20 }], 'read');
    await waitFor('a refresh', () => api.tree.stats.firedNodes > firedBefore);
    assert.equal(api.tree.stats.fullRefreshes, fullBefore2, 'no full refresh for a value');
    assert.ok(api.tree.stats.firedNodes - firedBefore <= 2);
    assert.match(api.status.text, /100[0-9] clients/);
  });
});
