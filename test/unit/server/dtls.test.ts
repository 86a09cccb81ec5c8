/**
 * CoAPS on the LwM2M server (issue 7): libcoap clients and our DtlsClient register over DTLS
 * with a PSK; the identity must be bound to the endpoint; the server reads a client through
 * the DTLS session it registered over.
 */

import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import * as coap from 'coap-packet';
import { CIPHER_SUITES, DtlsClient } from '../../../src/core/dtls';
import { ContentFormat } from '../../../src/core/contentFormat';
import { Lwm2mPath } from '../../../src/core/path';
import { Lwm2mServer, type NotificationEvent, type PskCredential } from '../../../src/core/server/lwm2mServer';
import { FakeDevice } from './device';

const CREDENTIALS: PskCredential[] = [
  { identity: 'dev-1', key: Buffer.from('key-of-dev-1') },
  { identity: 'dev-2', key: Buffer.from('key-of-dev-2') },
  { identity: 'id-3', key: Buffer.from('key-of-id-3'), endpoint: 'urn:dev:3' },
];

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function startServer(cipherSuites?: number[]): Promise<{ server: Lwm2mServer; port: number; plainPort: number }> {
  const server = new Lwm2mServer({ dtls: { port: 0, credentials: CREDENTIALS, cipherSuites } });
  await server.start({ port: 0, address: '127.0.0.1' });
  cleanup.push(() => server.stop());
  return { server, port: server.secureAddress()!.port, plainPort: server.address()!.port };
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function coapClient(flavour: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(`coap-client-${flavour}`, ['-B', '5', ...args], { timeout: 15_000 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
  });
}

interface Served {
  method: string;
  path: string;
  payload: string;
}

/**
 * Our DtlsClient as a minimal LwM2M client: registers, answers GET with a text value (with
 * Observe=0: accepts, and `notify` sends a notification), PUT with 2.04.
 */
async function dtlsDevice(
  port: number,
  identity: string,
  key: Buffer,
  ep: string,
): Promise<{ client: DtlsClient; reply: coap.ParsedPacket; served: Served[]; notify: (value: string) => void }> {
  const client = new DtlsClient();
  cleanup.push(() => client.close());
  await client.connect('127.0.0.1', port, identity, key);
  const served: Served[] = [];
  let observeToken: Buffer | undefined;
  let seq = 1;
  let mid = 100;
  const textFormat = { name: 'Content-Format', value: Buffer.from([]) };
  const answer = new Promise<coap.ParsedPacket>((resolve) => {
    client.on('message', (data: Buffer) => {
      const msg = coap.parse(data);
      if (msg.code === '0.01' || msg.code === '0.03') {
        const path = msg.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString());
        served.push({ method: msg.code, path: path.join('/'), payload: msg.payload.toString() });
        const observe = msg.code === '0.01' && msg.options.some((o) => o.name === 'Observe');
        if (observe) observeToken = msg.token;
        client.send(
          coap.generate({
            messageId: msg.messageId,
            token: msg.token,
            ack: true,
            code: msg.code === '0.01' ? '2.05' : '2.04',
            options: msg.code === '0.01' ? [...(observe ? [{ name: 'Observe', value: Buffer.from([seq++]) }] : []), textFormat] : [],
            payload: Buffer.from(msg.code === '0.01' ? 'Workbench' : ''),
          }),
        );
      } else if (msg.ack && msg.code !== '0.00') resolve(msg);
    });
  });
  client.send(
    coap.generate({
      messageId: 7,
      token: Buffer.from([1]),
      code: 'POST',
      confirmable: true,
      options: [
        { name: 'Uri-Path', value: Buffer.from('rd') },
        { name: 'Content-Format', value: Buffer.from([40]) },
        { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
      ],
      payload: Buffer.from('</1/0>,</3/0>'),
    }),
  );
  const reply = await Promise.race([answer, once(client, 'close').then(() => assert.fail('closed'))]);
  const notify = (value: string): void => {
    assert.ok(observeToken, 'nothing observed');
    client.send(
      coap.generate({
        messageId: mid++,
        token: observeToken,
        confirmable: false,
        code: '2.05',
        options: [{ name: 'Observe', value: Buffer.from([seq++]) }, textFormat],
        payload: Buffer.from(value),
      }),
    );
  };
  return { client, reply, served, notify };
}

describe('Lwm2mServer over CoAPS', { timeout: 90_000 }, () => {
  it('registers a DtlsClient with its security mode and identity, and reads it over the session', async () => {
    const { server, port } = await startServer();
    const { reply, served } = await dtlsDevice(port, 'dev-1', Buffer.from('key-of-dev-1'), 'dev-1');
    assert.equal(reply.code, '2.01');
    const reg = server.registration('dev-1');
    assert.ok(reg);
    assert.equal(reg.security, 'PSK');
    assert.equal(reg.pskIdentity, 'dev-1');
    const read = await server.read('dev-1', '/3/0/0', { timeoutMs: 5000 });
    assert.equal(read.code, '2.05');
    assert.deepEqual(served, [{ method: '0.01', path: '3/0/0', payload: '' }]);
    assert.equal(Buffer.from(read.payload).toString(), 'Workbench');
    assert.equal(read.records[0]?.value, 'Workbench');
  });

  it('writes and observes a client over its DTLS session', async () => {
    const { server, port } = await startServer();
    const { reply, served, notify } = await dtlsDevice(port, 'dev-2', Buffer.from('key-of-dev-2'), 'dev-2');
    assert.equal(reply.code, '2.01');
    const path = Lwm2mPath.parse('/3/0/14');
    const written = await server.write('dev-2', path, [{ path, type: 'string', value: '+01:00' }], { format: ContentFormat.Text, timeoutMs: 5000 });
    assert.equal(written.code, '2.04');
    const observed = await server.observe('dev-2', '/3/0/0', { timeoutMs: 5000 });
    assert.equal(observed.code, '2.05');
    assert.ok(observed.observation);
    const notified = new Promise<NotificationEvent>((resolve) => server.on('notification', resolve));
    notify('Workbench 2');
    const event = await Promise.race([notified, new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('no notification')), 5000).unref())]);
    assert.equal(event.endpoint, 'dev-2');
    assert.equal(event.records[0]?.value, 'Workbench 2');
    assert.deepEqual(
      served.map((s) => [s.method, s.path, s.payload]),
      [
        ['0.03', '3/0/14', '+01:00'],
        ['0.01', '3/0/0', ''],
      ],
    );
  });

  it('refuses an Update or De-register of a PSK client over plain CoAP with 4.03', async () => {
    const { server, port, plainPort } = await startServer();
    assert.equal((await dtlsDevice(port, 'dev-1', Buffer.from('key-of-dev-1'), 'dev-1')).reply.code, '2.01');
    const id = server.registration('dev-1')!.id;
    const device = await FakeDevice.open(plainPort);
    cleanup.push(() => device.close());
    assert.equal((await device.call('0.02', ['rd', id], ['lt=60'])).packet.code, '4.03');
    assert.equal((await device.call('0.04', ['rd', id])).packet.code, '4.03');
    assert.equal((await device.call('0.02', ['rd'], ['ep=dev-1'], '</3/0>')).packet.code, '4.03');
    assert.equal(server.registration('dev-1')?.id, id);
    assert.equal(server.registration('dev-1')?.security, 'PSK');
  });

  it('fails to start when the CoAPS port is taken, releasing the CoAP port', async () => {
    const { port } = await startServer();
    const second = new Lwm2mServer({ dtls: { port, credentials: CREDENTIALS } });
    await assert.rejects(second.start({ port: 0, address: '127.0.0.1' }));
    assert.equal(second.address(), undefined);
    assert.equal(second.secureAddress(), undefined);
  });

  it('binds an identity to its endpoint: 4.03 for another endpoint, 2.01 for the bound one', async () => {
    const { server, port } = await startServer();
    const refused = await dtlsDevice(port, 'dev-2', Buffer.from('key-of-dev-2'), 'dev-1');
    assert.equal(refused.reply.code, '4.03');
    assert.match(refused.reply.payload.toString(), /PSK identity "dev-2" may not register as "dev-1"/);
    const bound = await dtlsDevice(port, 'id-3', Buffer.from('key-of-id-3'), 'urn:dev:3');
    assert.equal(bound.reply.code, '2.01');
    assert.deepEqual(server.registrations().map((r) => [r.endpoint, r.security, r.pskIdentity]), [['urn:dev:3', 'PSK', 'id-3']]);
  });

  it('keeps plain CoAP registrations NoSec', async () => {
    const { server, plainPort } = await startServer();
    if (!has('coap-client-notls') && !has('coap-client-openssl')) return;
    const out = await coapClient(has('coap-client-notls') ? 'notls' : 'openssl', ['-v', '7', '-m', 'post', '-e', '</3/0>', `coap://127.0.0.1:${plainPort}/rd?ep=plain-1`]);
    assert.match(out, /c:2\.01/, out);
    assert.equal(server.registration('plain-1')?.security, 'NoSec');
    assert.equal(server.registration('plain-1')?.pskIdentity, undefined);
  });

  for (const flavour of ['openssl', 'gnutls']) {
    const skip = has(`coap-client-${flavour}`) ? false : `coap-client-${flavour} not installed`;
    it(`coap-client-${flavour} registers over CoAPS`, { skip }, async () => {
      const { server, port } = await startServer();
      const out = await coapClient(flavour, ['-v', '7', '-m', 'post', '-e', '</1/0>,</3/0>', '-u', 'dev-2', '-k', 'key-of-dev-2', `coaps://127.0.0.1:${port}/rd?ep=dev-2&lt=300`]);
      assert.match(out, /c:2\.01/, out);
      const reg = server.registration('dev-2');
      assert.ok(reg, out);
      assert.match(out, new RegExp(`Location-Path:${reg.id}`), out);
      assert.equal(reg.security, 'PSK');
      assert.equal(reg.pskIdentity, 'dev-2');
    });

    for (const suite of CIPHER_SUITES) {
      it(`coap-client-${flavour} registers with ${suite.name}`, { skip }, async () => {
        const { server, port } = await startServer([suite.id]);
        const suites: string[] = [];
        server.dtls?.on('session', (session) => suites.push(session.cipherSuite));
        const out = await coapClient(flavour, ['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'dev-1', '-k', 'key-of-dev-1', `coaps://127.0.0.1:${port}/rd?ep=dev-1`]);
        assert.match(out, /c:2\.01/, out);
        const reg = server.registration('dev-1');
        assert.equal(reg?.security, 'PSK', out);
        assert.deepEqual(suites, [suite.name]);
      });
    }

    it(`coap-client-${flavour} with a wrong key fails the handshake and registers nothing`, { skip }, async () => {
      const { server, port } = await startServer();
      const out = await coapClient(flavour, ['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'dev-2', '-k', 'not-the-key', `coaps://127.0.0.1:${port}/rd?ep=dev-2`]);
      assert.match(out, /bad record mac|decrypt|alert/i, out);
      assert.doesNotMatch(out, /c:2\.01/);
      assert.deepEqual(server.registrations(), []);
      assert.equal(server.dtls?.sessions().length, 0);
    });

    it(`coap-client-${flavour} with an identity bound to another endpoint gets 4.03`, { skip }, async () => {
      const { server, port } = await startServer();
      const out = await coapClient(flavour, ['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'id-3', '-k', 'key-of-id-3', `coaps://127.0.0.1:${port}/rd?ep=id-3`]);
      assert.match(out, /4\.03/, out);
      assert.doesNotMatch(out, /c:2\.01/);
      assert.deepEqual(server.registrations(), []);
    });
  }
});
