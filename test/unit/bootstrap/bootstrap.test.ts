/**
 * Bootstrap end to end over UDP on 127.0.0.1: our bootstrap server provisions the simulated
 * client, which then registers with our LwM2M server.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code, Method } from '../../../src/core/coap/message';
import { CoapTransport } from '../../../src/core/coap/transport';
import { ContentFormat } from '../../../src/core/contentFormat';
import { BootstrapServer, type BootstrapEvent } from '../../../src/core/bootstrap/server';
import { bootstrapConfigFrom } from '../../../src/core/bootstrap/config';
import type { Lwm2mServer } from '../../../src/core/server/lwm2mServer';
import { Lwm2mPath } from '../../../src/core/path';
import { SimulatedClient } from '../../../src/core/sim/client';
import type { SimEvent } from '../../../src/core/sim/events';
import { until } from '../coap/helpers';
import { nextServerEvent, startServer } from '../sim/helpers';

const P = (t: string) => Lwm2mPath.parse(t);

describe('bootstrap server with the simulated client', () => {
  let server: Lwm2mServer;
  let dmUri: string;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    ({ server, uri: dmUri } = await startServer());
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function bootstrapServer(config: unknown, resolveKey?: (ref: string, ep: string) => Uint8Array | undefined): Promise<{ bs: BootstrapServer; uri: string; events: BootstrapEvent[] }> {
    const bs = new BootstrapServer({ config: bootstrapConfigFrom(config), resolveKey, requestTimeoutMs: 3000, transport: { ackTimeoutMs: 300 } });
    const events: BootstrapEvent[] = [];
    bs.on('event', (e) => events.push(e));
    await bs.start({ port: 0, address: '127.0.0.1' });
    stops.push(() => bs.stop());
    return { bs, uri: `coap://127.0.0.1:${bs.address()!.port}`, events };
  }

  function simulated(bsUri: string, endpoint: string): { client: SimulatedClient; events: SimEvent[] } {
    const client = new SimulatedClient({ server: bsUri, endpoint, bootstrap: true, tickMs: 0, bootstrapTimeoutMs: 5000, requestTimeoutMs: 3000, transport: { ackTimeoutMs: 300 } });
    const events: SimEvent[] = [];
    client.on('event', (e) => events.push(e));
    stops.push(() => client.stop());
    return { client, events };
  }

  const summary = (events: BootstrapEvent[]) =>
    events.map((e) => {
      switch (e.type) {
        case 'delete':
        case 'write':
        case 'read':
        case 'discover':
          return `${e.type} ${e.path} ${e.code}`;
        case 'finish':
          return `finish ${e.code}`;
        case 'failed':
          return `failed ${e.step}`;
        default:
          return e.type;
      }
    });

  it('runs Delete, Discover, Write /0 and /1, Read, Finish; the client then registers with the provisioned server', async () => {
    const { uri, events } = await bootstrapServer({
      endpoints: {
        'bs-dev1': {
          delete: ['/0', '/1'],
          discover: true,
          read: ['/1'],
          servers: [{ shortServerId: 123, uri: dmUri, lifetime: 45, defaultMaxPeriod: 30, security: { mode: 'NoSec' } }],
        },
      },
    });
    const { client, events: simEvents } = simulated(uri, 'bs-dev1');
    const registered = nextServerEvent(server, 'registered', (r) => r.endpoint === 'bs-dev1');
    await client.start();
    const [reg] = await registered;
    assert.equal(reg.lifetime, 45);
    assert.equal(client.serverUri, dmUri);
    assert.deepEqual(summary(events), ['request', 'delete /0 2.02', 'delete /1 2.02', 'discover / 2.05', 'write /0/1 2.04', 'write /1/0 2.04', 'read /1 2.05', 'finish 2.04', 'done']);
    const request = events[0] as Extract<BootstrapEvent, { type: 'request' }>;
    assert.equal(request.endpoint, 'bs-dev1');
    assert.equal(request.preferredFormat, ContentFormat.SenmlCbor);
    assert.equal(request.format, ContentFormat.SenmlCbor, "the client's pct decides the format");
    assert.equal(request.peer, `127.0.0.1:${client.port}`);
    const discover = events.find((e) => e.type === 'discover') as Extract<BootstrapEvent, { type: 'discover' }>;
    assert.deepEqual(discover.links[0], { path: '/', attributes: { lwm2m: '1.1' } });
    assert.ok(discover.links.some((l) => l.path === '/0/0' && l.attributes.uri === uri), 'the bootstrap account survives Delete /0');
    const read = events.find((e) => e.type === 'read') as Extract<BootstrapEvent, { type: 'read' }>;
    assert.deepEqual(read.records, [
      { path: '/1/0/0', value: 123 },
      { path: '/1/0/1', value: 45 },
      { path: '/1/0/3', value: 30 },
      { path: '/1/0/6', value: true },
      { path: '/1/0/7', value: 'U' },
      { path: '/1/0/23', value: false },
    ]);
    const done = events.at(-1) as Extract<BootstrapEvent, { type: 'done' }>;
    assert.deepEqual(done.servers, [dmUri]);
    // What the client now holds.
    assert.equal(client.getValue('/0/1/0'), dmUri);
    assert.equal(client.getValue('/0/1/1'), false);
    assert.equal(client.getValue('/0/1/2'), 3);
    assert.equal(client.getValue('/0/1/10'), 123);
    assert.equal(client.getValue('/0/0/1'), true, 'bootstrap account kept');
    assert.equal(client.getValue('/1/0/3'), 30);
    assert.deepEqual(
      simEvents.map((e) => e.type).filter((t) => t.startsWith('bootstrap') || t === 'registered'),
      ['bootstrapRequested', 'bootstrapDelete', 'bootstrapDelete', 'bootstrapDiscover', 'bootstrapWrite', 'bootstrapWrite', 'bootstrapRead', 'bootstrapFinished', 'registered'],
    );
    // The provisioned Server defaults apply: pmax from /1/0/3.
    assert.deepEqual(client.effectiveAttributes('/3/0/9'), { pmax: 30 });
    const res = await server.read('bs-dev1', '/1/0/0', { format: ContentFormat.Text });
    assert.equal(res.records[0]!.value, 123);
  });

  it('writes TLV when configured; the default entry serves endpoints without their own', async () => {
    const { uri, events } = await bootstrapServer({ default: { format: 'tlv', servers: [{ shortServerId: 7, uri: dmUri, security: { mode: 'NoSec' } }] } });
    const { client } = simulated(uri, 'bs-anyone');
    await client.start();
    const writes = events.filter((e) => e.type === 'write') as Extract<BootstrapEvent, { type: 'write' }>[];
    assert.deepEqual(
      writes.map((w) => [w.path, w.format]),
      [
        ['/0/1', ContentFormat.Tlv],
        ['/1/0', ContentFormat.Tlv],
      ],
    );
    assert.deepEqual(summary(events).slice(0, 2), ['request', 'delete / 2.02']);
    assert.ok(server.registration('bs-anyone'));
  });

  it('provisions PSK credentials through the key resolver; the simulator then registers over CoAPS with them', async () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const { server: secureServer } = await startServer({ dtls: { port: 0, credentials: [{ identity: 'bs-psk', key }] } });
    stops.push(() => secureServer.stop());
    const coapsUri = `coaps://127.0.0.1:${secureServer.secureAddress()!.port}`;
    const asked: string[] = [];
    const { uri, events } = await bootstrapServer(
      { default: { servers: [{ shortServerId: 9, uri: coapsUri, security: { mode: 'PSK', identity: 'bs-psk', keyRef: 'psk/bs-psk' } }] } },
      (ref, ep) => {
        asked.push(`${ref} ${ep}`);
        return new Uint8Array(key);
      },
    );
    const { client, events: simEvents } = simulated(uri, 'bs-psk');
    const registered = nextServerEvent(secureServer, 'registered', (r) => r.endpoint === 'bs-psk');
    await client.start();
    assert.deepEqual(asked, ['psk/bs-psk bs-psk']);
    await until(() => events.at(-1)?.type === 'done');
    assert.equal(client.getValue('/0/1/2'), 0, 'Security Mode PSK');
    assert.equal(Buffer.from(client.getValue('/0/1/3') as Uint8Array).toString(), 'bs-psk');
    assert.ok(Buffer.from(client.getValue('/0/1/5') as Uint8Array).equals(key));
    assert.ok(!JSON.stringify(events).includes(key.toString('hex')), 'the key is in no event');
    assert.ok(!JSON.stringify(simEvents).includes(key.toString('hex')), 'nor in a simulator event');
    const [reg] = await registered;
    assert.deepEqual([reg.security, reg.pskIdentity], ['PSK', 'bs-psk']);
    assert.equal(client.serverUri, coapsUri);
    assert.equal(server.registration('bs-psk'), undefined, 'nothing over plain CoAP');
  });

  it('fails (event with step and reason) for an unknown endpoint and for a key that cannot be resolved', async () => {
    const { uri, events } = await bootstrapServer({
      endpoints: {
        known: { servers: [{ shortServerId: 1, uri: 'coaps://h', security: { mode: 'PSK', identity: 'i', keyRef: 'nowhere' } }] },
      },
    });
    const unknown = simulated(uri, 'stranger');
    await assert.rejects(unknown.client.start(), /Bootstrap-Request was refused with 4\.00/);
    const failed = events.find((e) => e.type === 'failed') as Extract<BootstrapEvent, { type: 'failed' }>;
    assert.equal(failed.endpoint, 'stranger');
    assert.equal(failed.step, 'request');

    const noKey = simulated(uri, 'known');
    const starting = noKey.client.start();
    await until(() => events.some((x) => x.endpoint === 'known' && (x.type === 'failed' || x.type === 'done')));
    const ended = events.find((x) => x.endpoint === 'known' && (x.type === 'failed' || x.type === 'done'))!;
    assert.equal(ended.type, 'failed');
    assert.equal((ended as Extract<BootstrapEvent, { type: 'failed' }>).step, 'write');
    assert.match((ended as Extract<BootstrapEvent, { type: 'failed' }>).reason, /no key resolver/);
    assert.ok(!events.some((e) => e.endpoint === 'known' && e.type === 'delete'), 'nothing was changed on the device');
    await noKey.client.stop();
    await assert.rejects(starting);
  });

  it('the client answers Bootstrap-Finish with 4.06 when no server account is consistent, and refuses BS-Read outside /1 and /2', async () => {
    // A hand-made bootstrap server on our transport.
    const holder: { client?: SimulatedClient } = {};
    const answers: string[] = [];
    const fake = new CoapTransport({
      ackTimeoutMs: 300,
      onRequest: (req) => {
        if (req.path[0] !== 'bs') return { code: Code.NotFound };
        setTimeout(() => {
          void (async () => {
            const peer = req.peer;
            const ask = async (method: number, path: string[], extra = {}) => {
              const res = await fake.request(peer, { method, path, ...extra });
              answers.push(`${path.join('/') || '/'} ${(res.code >> 5)}.${String(res.code & 31).padStart(2, '0')}`);
            };
            await ask(Method.DELETE, []);
            await ask(Method.GET, ['3', '0']);
            await ask(Method.GET, ['0'], { accept: ContentFormat.SenmlJson });
            await ask(Method.PUT, ['1', '0'], { contentFormat: ContentFormat.SenmlJson, payload: Buffer.from('[{"bn":"/1/0/","n":"0","v":55},{"n":"1","v":60},{"n":"7","vs":"U"}]') });
            await ask(Method.POST, ['bs']);
            await holder.client?.stop({ deregister: false });
          })();
        }, 0);
        return { code: Code.Changed };
      },
    });
    await fake.bind({ port: 0, address: '127.0.0.1' });
    stops.push(() => fake.close());
    const { client } = simulated(`coap://127.0.0.1:${fake.address()!.port}`, 'bs-inconsistent');
    holder.client = client;
    await assert.rejects(client.start());
    assert.deepEqual(answers, ['/ 2.02', '3/0 4.05', '0 4.05', '1/0 2.04', 'bs 4.06']);
    assert.equal(client.getValue(P('/1/0/0')), 55);
  });
});
