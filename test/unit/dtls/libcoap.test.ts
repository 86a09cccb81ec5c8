/**
 * Interoperability with real DTLS stacks: Debian's libcoap 4.3 tools built on OpenSSL 3 and on
 * GnuTLS 3.7 (package libcoap3-bin). Skipped when the tools are missing.
 *
 * Cipher suites are forced from our side: our server accepts, or our client offers, exactly one.
 * The libcoap tools cannot be told which suite to offer (libcoap sets the OpenSSL cipher list
 * "PSK:!NULL" after OPENSSL_CONF is read, and a fixed GnuTLS priority string), and
 * coap-server-openssl cannot do TLS_PSK_WITH_AES_128_CBC_SHA256 at all: on the server side libcoap
 * sets "TLSv1.3:TLSv1.2:!NULL", and OpenSSL files PSK-AES128-CBC-SHA256 under TLSv1, so the
 * server answers "no shared cipher".
 */

import { strict as assert } from 'node:assert';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import * as coap from 'coap-packet';
import { DtlsAlertError, DtlsClient, DtlsServer, DtlsTimeoutError, type DtlsServerOptions } from '../../../src/core/dtls';
import { AlertDescription } from '../../../src/core/dtls/constants';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites';
import { Relay, describe as contents } from './helpers';

const IDENTITY = 'urn:dev:ops:workbench-1';
const KEY = 'secretPSK-0123';
const FLAVOURS = ['openssl', 'gnutls'] as const;
type Flavour = (typeof FLAVOURS)[number];

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Request {
  code: string;
  path: string;
  query: string[];
  identity: string;
  suite: string;
}

/** A CoAP responder over our DtlsServer: Register (POST /rd) → 2.01, anything else → 2.05. */
async function coapsResponder(
  suite: number,
  options: Partial<DtlsServerOptions> = {},
): Promise<{ server: DtlsServer; port: number; requests: Request[]; failures: Error[] }> {
  const server = new DtlsServer({ psk: (id) => (id === IDENTITY ? Buffer.from(KEY) : undefined), cipherSuites: [suite], ...options });
  const requests: Request[] = [];
  const failures: Error[] = [];
  server.on('handshakeFailed', (_peer, reason) => failures.push(reason));
  server.on('message', (data, peer, session) => {
    const req = coap.parse(data);
    const opt = (name: string): string[] => req.options.filter((o) => o.name === name).map((o) => o.value.toString());
    const request = { code: req.code, path: opt('Uri-Path').join('/'), query: opt('Uri-Query'), identity: session.identity, suite: session.cipherSuite };
    requests.push(request);
    const register = req.code === '0.02' && request.path === 'rd';
    server.send(
      peer,
      coap.generate({
        messageId: req.messageId,
        token: req.token,
        ack: true,
        code: register ? '2.01' : '2.05',
        options: register ? [{ name: 'Location-Path', value: Buffer.from('rd') }, { name: 'Location-Path', value: Buffer.from('5a3f') }] : [],
        payload: Buffer.from(`${register ? 'registered' : 'hello'} ${session.identity} with ${session.cipherSuite}`),
      }),
    );
  });
  const { port } = await server.bind(0, '127.0.0.1');
  cleanup.push(() => server.close());
  return { server, port, requests, failures };
}

/** Runs a libcoap client; resolves with stdout + stderr (its exit code says nothing about DTLS). */
function coapClient(flavour: Flavour, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(`coap-client-${flavour}`, ['-B', '5', ...args], { timeout: 15_000 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
  });
}

describe('libcoap clients against our DtlsServer', { timeout: 60_000 }, () => {
  for (const flavour of FLAVOURS) {
    const skip = has(`coap-client-${flavour}`) ? false : `coap-client-${flavour} not installed`;
    for (const suite of CIPHER_SUITES) {
      it(`coap-client-${flavour} registers over ${suite.name}`, { skip }, async () => {
        const { port, requests } = await coapsResponder(suite.id);
        const out = await coapClient(flavour, ['-v', '7', '-m', 'post', '-e', '</1/0>,</3/0>', '-u', IDENTITY, '-k', KEY, `coaps://127.0.0.1:${port}/rd?ep=${IDENTITY}&lt=300`]);
        assert.match(out, new RegExp(`registered ${IDENTITY} with ${suite.name}`), out);
        assert.match(out, /c:2\.01/);
        assert.match(out, /Location-Path:5a3f/);
        assert.deepEqual(requests, [{ code: '0.02', path: 'rd', query: [`ep=${IDENTITY}`, 'lt=300'], identity: IDENTITY, suite: suite.name }]);
      });
    }

    it(`coap-client-${flavour} reassembles our fragmented flight (MTU 100, 120-byte hint)`, { skip }, async () => {
      // OpenSSL refuses hints over 128 bytes ("data length too long"), RFC 4279's minimum.
      const hint = 'h'.repeat(120);
      const { server, port, requests } = await coapsResponder(0xc0a8, { mtu: 100, identityHint: hint });
      const out = await coapClient(flavour, ['-v', '7', '-u', IDENTITY, '-k', KEY, `coaps://127.0.0.1:${port}/hello`]);
      assert.match(out, new RegExp(`hello ${IDENTITY}`), out);
      assert.match(out, new RegExp(hint));
      assert.equal(requests.length, 1);
      assert.equal(server.stats.handshakesCompleted, 1);
    });

    it(`coap-client-${flavour} completes the handshake when our flights are lost once`, { skip }, async () => {
      const { server, port, requests } = await coapsResponder(0xc0a8, { retransmitInitialMs: 400 });
      const lost = new Set<string>();
      const relay = await new Relay(port, (direction, datagram) => {
        const what = contents(datagram);
        const marker = what.includes('hs:ServerHello') ? 'flight 4' : what.includes('ccs') ? 'flight 6' : undefined;
        if (direction !== 'toClient' || !marker || lost.has(marker)) return false;
        lost.add(marker);
        return true;
      }).start();
      cleanup.push(() => relay.close());
      const out = await coapClient(flavour, ['-u', IDENTITY, '-k', KEY, `coaps://127.0.0.1:${relay.port}/hello`]);
      assert.match(out, new RegExp(`hello ${IDENTITY}`), out);
      assert.deepEqual([...lost].sort(), ['flight 4', 'flight 6']);
      assert.equal(requests.length, 1);
      assert.ok(server.stats.retransmissions >= 2);
    });

    it(`coap-client-${flavour} with a wrong key: bad_record_mac, nothing delivered`, { skip }, async () => {
      const { server, port, requests, failures } = await coapsResponder(0xc0a8);
      const out = await coapClient(flavour, ['-u', IDENTITY, '-k', 'not-the-key', `coaps://127.0.0.1:${port}/rd`]);
      assert.match(out, /bad record mac/i, out);
      assert.doesNotMatch(out, /registered|hello/);
      assert.deepEqual(requests, []);
      assert.equal(server.sessions().length, 0);
      assert.ok(failures.some((f) => f instanceof DtlsAlertError && f.description === AlertDescription.BadRecordMac));
    });

    it(`coap-client-${flavour} with an unknown identity: unknown_psk_identity`, { skip }, async () => {
      const { port, requests } = await coapsResponder(0xc0a8);
      const out = await coapClient(flavour, ['-u', 'stranger', '-k', KEY, `coaps://127.0.0.1:${port}/rd`]);
      assert.match(out, /unknown psk identity|'115'/i, out);
      assert.deepEqual(requests, []);
    });
  }
});

/**
 * Starts coap-server-<flavour> with DTLS on an ephemeral port: coap-server takes a base port and
 * puts CoAPS on base + 1, so we take a free port from the system (port 0) and retry if the
 * neighbouring one is taken meanwhile.
 */
async function libcoapServer(flavour: Flavour, hint: string): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = probe.address().port;
    probe.close();
    const child = spawn(`coap-server-${flavour}`, ['-A', '127.0.0.1', '-p', String(port - 1), '-k', KEY, '-h', hint, '-v', '7'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const ready = await new Promise<boolean>((resolve) => {
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (log.includes(`created DTLS endpoint 127.0.0.1:${port}`)) resolve(true);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(false), 3000).unref();
    });
    // Keep draining its output so that it never blocks on a full pipe.
    if (ready) {
      cleanup.push(() => {
        child.kill();
        return once(child, 'exit');
      });
      return { port, child };
    }
    child.kill();
  }
  throw new Error(`coap-server-${flavour} did not start`);
}

describe('our DtlsClient against libcoap servers', { timeout: 60_000 }, () => {
  for (const flavour of FLAVOURS) {
    const skip = has(`coap-server-${flavour}`) ? false : `coap-server-${flavour} not installed`;
    for (const suite of CIPHER_SUITES) {
      const refused = flavour === 'openssl' && suite.id === 0x00ae;
      it(`coap-server-${flavour} ${refused ? 'refuses' : 'serves a GET over'} ${suite.name}`, { skip }, async () => {
        const { port } = await libcoapServer(flavour, 'workbench-hint');
        const client = new DtlsClient({ cipherSuites: [suite.id], handshakeTimeoutMs: 5000 });
        cleanup.push(() => client.close());
        const connecting = client.connect('127.0.0.1', port, IDENTITY, Buffer.from(KEY));
        if (refused) {
          await assert.rejects(connecting, (err: unknown) => err instanceof DtlsAlertError && err.description === AlertDescription.HandshakeFailure && err.sentBy === 'peer');
          return;
        }
        const session = await connecting;
        assert.equal(session.cipherSuite, suite.name);
        assert.equal(client.identityHint?.toString(), 'workbench-hint');
        const answer = once(client, 'message', { signal: AbortSignal.timeout(3000) });
        client.send(coap.generate({ messageId: 0x1234, token: Buffer.from([1, 2]), code: 'GET', confirmable: true }));
        const res = coap.parse((await answer)[0] as Buffer);
        assert.equal(res.code, '2.05');
        assert.equal(res.messageId, 0x1234);
        assert.match(res.payload.toString(), /test server made with libcoap/);
      });
    }

    it(`coap-server-${flavour} with a wrong key: the handshake never completes`, { skip }, async () => {
      const { port } = await libcoapServer(flavour, 'workbench-hint');
      const client = new DtlsClient({ handshakeTimeoutMs: 2000, retransmitInitialMs: 300 });
      cleanup.push(() => client.close());
      // libcoap's servers drop the undecryptable Finished silently (as RFC 6347 §4.1.2.7 allows).
      await assert.rejects(client.connect('127.0.0.1', port, IDENTITY, Buffer.from('not-the-key')), DtlsTimeoutError);
    });
  }
});
