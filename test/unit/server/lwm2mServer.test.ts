import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodeResult } from '../../../src/core/codec/types';
import { decodeUint, encodeUint } from '../../../src/core/coap/options';
import { ClientNotFoundError, PortInUseError, TimeoutError, TransportClosedError } from '../../../src/core/server/errors';
import { Lwm2mServer, type Lwm2mServerOptions, type NotificationEvent, type ServerObservation } from '../../../src/core/server/lwm2mServer';
import type { Registration } from '../../../src/core/server/registration';
import type { TrafficEntry } from '../../../src/core/server/traffic';
import { Lwm2mPath, PathError } from '../../../src/core/path';
import { FakeClock, RawPeer, coapClient, optionValues, until, type Received } from '../coap/helpers';

describe('Lwm2mServer', () => {
  let server: Lwm2mServer;
  let port: number;
  const peers: RawPeer[] = [];
  let nextMid = 100;

  async function start(options: Lwm2mServerOptions = {}): Promise<void> {
    let n = 0;
    server = new Lwm2mServer({ newRegistrationId: () => `id${++n}`, ...options });
    await server.start({ port: 0, address: '127.0.0.1' });
    port = server.address()!.port;
  }

  async function device(): Promise<RawPeer> {
    const p = await RawPeer.open();
    peers.push(p);
    return p;
  }

  /** Sends a CON to the server and returns the reply. */
  async function call(d: RawPeer, code: string, path: string[], query: string[] = [], payload = '', mid = nextMid++): Promise<Received> {
    d.send(port, {
      confirmable: true,
      code,
      messageId: mid,
      token: Buffer.from([mid & 0xff]),
      options: [
        ...path.map((p) => ({ name: 'Uri-Path' as const, value: Buffer.from(p) })),
        ...(payload ? [{ name: 'Content-Format' as const, value: encodeUint(40) }] : []),
        ...query.map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) })),
      ],
      payload: Buffer.from(payload),
    });
    return d.next();
  }

  function locationOf(r: Received): string[] {
    return optionValues(r.packet, 'Location-Path').map(String);
  }

  function events(): string[] {
    const log: string[] = [];
    server.on('registered', (r) => log.push(`registered ${r.endpoint}`));
    server.on('updated', (r) => log.push(`updated ${r.endpoint}`));
    server.on('deregistered', (r) => log.push(`deregistered ${r.endpoint}`));
    server.on('expired', (r) => log.push(`expired ${r.endpoint}`));
    server.on('replaced', (p, r) => log.push(`replaced ${p.id} by ${r.id}`));
    return log;
  }

  afterEach(async () => {
    await server?.stop();
    for (const p of peers.splice(0)) await p.close();
  });

  describe('registration interface', () => {
    it('registers, updates and de-registers with raw datagrams', async () => {
      await start();
      const log = events();
      const d = await device();
      const created = await call(d, 'POST', ['rd'], ['ep=dev1', 'lt=60', 'lwm2m=1.1', 'b=U'], '</>;rt="oma.lwm2m";ct=112,</1/0>,</3/0>');
      assert.equal(created.packet.code, '2.01');
      assert.equal(created.packet.ack, true);
      assert.deepEqual(locationOf(created), ['rd', 'id1']);
      const reg = server.registration('dev1')!;
      assert.deepEqual(reg.address, { address: '127.0.0.1', port: d.port });
      assert.equal(reg.lifetime, 60);
      assert.deepEqual(reg.contentFormats, [112]);

      const updated = await call(d, 'POST', ['rd', 'id1'], ['lt=120'], '</1/0>,</3/0>,</5/0>');
      assert.equal(updated.packet.code, '2.04');
      assert.equal(server.registration('dev1')!.lifetime, 120);
      assert.deepEqual(
        server.registration('dev1')!.objects.map((o) => o.id),
        [1, 3, 5],
      );

      const moved = await device();
      assert.equal((await call(moved, 'POST', ['rd', 'id1'])).packet.code, '2.04', 'an empty Update from a new port');
      assert.equal(server.registration('dev1')!.address.port, moved.port, 'the new address is used from now on');

      assert.equal((await call(moved, 'DELETE', ['rd', 'id1'])).packet.code, '2.02');
      assert.equal(server.registration('dev1'), undefined);
      assert.equal((await call(moved, 'POST', ['rd', 'id1'])).packet.code, '4.04', 'Update of an unknown registration');
      assert.equal((await call(moved, 'DELETE', ['rd', 'id1'])).packet.code, '4.04');
      assert.deepEqual(log, ['registered dev1', 'updated dev1', 'updated dev1', 'deregistered dev1']);
    });

    it('registers libcoap coap-client-notls, a real peer, and answers its errors', async () => {
      await start();
      const ok = await coapClient(['-v', '6', '-m', 'post', '-t', '40', '-e', '</1/0>,</3/0>', `coap://127.0.0.1:${port}/rd?ep=x&lt=60`]);
      assert.match(ok.stdout, /t:ACK c:2\.01 .*Location-Path:rd, Location-Path:id1/);
      const reg = server.registration('x')!;
      assert.equal(reg.lifetime, 60);
      assert.deepEqual(reg.objects, [
        { id: 1, instances: [0] },
        { id: 3, instances: [0] },
      ]);
      const noEp = await coapClient(['-m', 'post', '-t', '40', '-e', '</3/0>', `coap://127.0.0.1:${port}/rd?lt=60`]);
      assert.match(noEp.stderr, /^4\.00 /);
      const badVersion = await coapClient(['-m', 'post', `coap://127.0.0.1:${port}/rd?ep=y&lwm2m=9.9`]);
      assert.match(badVersion.stderr, /^4\.12 /);
      assert.equal(server.registrations().length, 1);
    });

    it('takes Update and De-register from coap-client-notls, and answers its malformed requests', async () => {
      await start();
      const log = events();
      await coapClient(['-m', 'post', '-t', '40', '-e', '</3/0>', `coap://127.0.0.1:${port}/rd?ep=lc&lt=60&lwm2m=1.1`]);
      const update = await coapClient(['-v', '6', '-m', 'post', `coap://127.0.0.1:${port}/rd/id1?lt=99&b=U`]);
      assert.match(update.stdout, /c:2\.04/);
      assert.equal(server.registration('lc')!.lifetime, 99);
      const badOption = await coapClient(['-m', 'post', '-O', '65001,x', `coap://127.0.0.1:${port}/rd/id1`]);
      assert.match(badOption.stderr, /^4\.02\b/, 'an unknown critical option');
      const badMethod = await coapClient(['-m', 'put', `coap://127.0.0.1:${port}/rd/id1`]);
      assert.match(badMethod.stderr, /^4\.05\b/);
      const badLifetime = await coapClient(['-m', 'post', `coap://127.0.0.1:${port}/rd/id1?lt=abc`]);
      assert.match(badLifetime.stderr, /^4\.00 /);
      const gone = await coapClient(['-v', '6', '-m', 'delete', `coap://127.0.0.1:${port}/rd/id1`]);
      assert.match(gone.stdout, /c:2\.02/);
      const again = await coapClient(['-m', 'delete', `coap://127.0.0.1:${port}/rd/id1`]);
      assert.match(again.stderr, /^4\.04\b/);
      assert.deepEqual(log, ['registered lc', 'updated lc', 'deregistered lc']);
    });

    it('answers 4.00 for a missing endpoint, 4.12 for a bad version, 4.05 / 4.04 for other requests', async () => {
      await start();
      const d = await device();
      const noEp = await call(d, 'POST', ['rd'], ['lt=60']);
      assert.equal(noEp.packet.code, '4.00');
      assert.match(noEp.packet.payload.toString(), /endpoint/);
      assert.equal((await call(d, 'POST', ['rd'], ['ep=a', 'lwm2m=3.0'])).packet.code, '4.12');
      assert.equal((await call(d, 'GET', ['rd'])).packet.code, '4.05');
      assert.equal((await call(d, 'PUT', ['rd', 'x'])).packet.code, '4.05');
      assert.equal((await call(d, 'POST', ['bs'], ['ep=a'])).packet.code, '4.04');
      assert.equal(server.registrations().length, 0);
    });

    it('answers a retransmitted Register from the dedup cache without registering twice', async () => {
      await start();
      const log = events();
      const d = await device();
      const first = await call(d, 'POST', ['rd'], ['ep=dup'], '</3/0>', 500);
      const again = await call(d, 'POST', ['rd'], ['ep=dup'], '</3/0>', 500);
      assert.deepEqual(again.raw, first.raw);
      assert.deepEqual(log, ['registered dup']);
      assert.equal(server.stats!.duplicates, 1);
    });

    it('replaces the registration of an endpoint that registers again', async () => {
      await start();
      const log = events();
      const d = await device();
      await call(d, 'POST', ['rd'], ['ep=re'], '</3/0>');
      await call(d, 'POST', ['rd'], ['ep=re'], '</3/0>');
      assert.deepEqual(log, ['registered re', 'replaced id1 by id2', 'registered re']);
      assert.equal(server.registration('re')!.id, 'id2');
    });

    it('refuses with 4.03 what authorize() rejects', async () => {
      await start({ authorize: (p) => p.endpoint !== 'evil' });
      const d = await device();
      assert.equal((await call(d, 'POST', ['rd'], ['ep=evil'])).packet.code, '4.03');
      assert.equal((await call(d, 'POST', ['rd'], ['ep=good'])).packet.code, '2.01');
    });

    it('counts malformed datagrams, logs them, and keeps working', async () => {
      await start();
      const d = await device();
      d.send(port, Buffer.from('hello'));
      d.send(port, Buffer.from([0x40]));
      d.send(port, Buffer.from('4f01000102', 'hex'));
      assert.equal((await d.next()).packet.reset, true, 'the readable CON with TKL 15 gets RST');
      assert.equal((await call(d, 'POST', ['rd'], ['ep=after'])).packet.code, '2.01');
      assert.equal(server.stats!.malformed, 3);
      assert.equal(server.traffic.entries().filter((e) => e.kind === 'malformed').length, 3);
    });

    it('expires a registration after its lifetime plus grace (fake clock)', async () => {
      const clock = new FakeClock();
      await start({ clock, expiryGraceMs: 5000 });
      const log = events();
      const d = await device();
      await call(d, 'POST', ['rd'], ['ep=sleepy', 'lt=60']);
      clock.advance(64_000);
      assert.ok(server.registration('sleepy'));
      clock.advance(1000);
      assert.equal(server.registration('sleepy'), undefined);
      assert.deepEqual(log, ['registered sleepy', 'expired sleepy']);
      assert.equal((await call(d, 'POST', ['rd', 'id1'])).packet.code, '4.04');
    });
  });

  describe('lifecycle', () => {
    it('reports a port in use', async () => {
      await start();
      const other = new Lwm2mServer();
      await assert.rejects(other.start({ port, address: '127.0.0.1' }), PortInUseError);
      assert.equal(other.address(), undefined);
    });

    it('rejects requests while stopped, and for unknown clients', async () => {
      const stopped = new Lwm2mServer();
      await assert.rejects(stopped.request('x', { method: 'GET', path: '/3/0' }), TransportClosedError);
      await start();
      await assert.rejects(server.request('nobody', { method: 'GET', path: '/3/0' }), ClientNotFoundError);
      const d = await device();
      await call(d, 'POST', ['rd'], ['ep=dev']);
      await assert.rejects(server.request('dev', { method: 'GET', path: '/3/x' }), PathError);
    });
  });

  describe('downlink requests', () => {
    async function registered(query: string[] = ['ep=dev'], links = '</3/0>'): Promise<RawPeer> {
      const d = await device();
      assert.equal((await call(d, 'POST', ['rd'], query, links)).packet.code, '2.01');
      return d;
    }

    function reply(d: RawPeer, req: Received, code: string, payload: string, options: { name: string; value: Buffer }[] = []): void {
      d.send(req.rinfo.port, { ack: true, code, messageId: req.packet.messageId, token: req.packet.token, options, payload: Buffer.from(payload) });
    }

    it('sends a GET from the registration socket and resolves with a piggybacked response', async () => {
      await start();
      const d = await registered();
      const pending = server.request('dev', { method: 'GET', path: '/3/0/0', accept: 0 });
      const req = await d.next();
      assert.equal(req.rinfo.port, port, 'from the port the client registered with');
      assert.deepEqual(optionValues(req.packet, 'Uri-Path').map(String), ['3', '0', '0']);
      assert.deepEqual(optionValues(req.packet, 'Accept'), [Buffer.alloc(0)]);
      reply(d, req, '2.05', 'Open Mobile Alliance', [{ name: 'Content-Format', value: Buffer.alloc(0) }]);
      const res = await pending;
      assert.equal(res.code, '2.05');
      assert.equal(res.format, 0);
      assert.equal(Buffer.from(res.payload).toString(), 'Open Mobile Alliance');
      assert.ok(res.rtt >= 0);
      assert.deepEqual(
        res.decoded?.records.map((r) => [r.path.toString(), r.type, r.value]),
        [['/3/0/0', 'string', 'Open Mobile Alliance']],
        'decoded with the codec registry and the bundled models',
      );
    });

    it('accepts a separate response', async () => {
      await start();
      const d = await registered();
      const pending = server.request('dev', { method: 'GET', path: '/3/0' });
      const req = await d.next();
      d.send(req.rinfo.port, { ack: true, code: '0.00', messageId: req.packet.messageId });
      d.send(req.rinfo.port, { confirmable: true, code: '2.05', messageId: 9000, token: req.packet.token, payload: Buffer.from('separate') });
      assert.equal((await d.next()).packet.messageId, 9000, 'the CON response is ACKed');
      assert.equal(Buffer.from((await pending).payload).toString(), 'separate');
    });

    it('prefixes the alternate path', async () => {
      await start();
      const d = await registered(['ep=alt'], '</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>');
      const pending = server.request('alt', { method: 'PUT', path: Lwm2mPath.parse('/3/0/14'), contentFormat: 0, payload: Buffer.from('+02:00') });
      const req = await d.next();
      assert.deepEqual(optionValues(req.packet, 'Uri-Path').map(String), ['lwm2m', '3', '0', '14']);
      assert.equal(req.packet.payload.toString(), '+02:00');
      reply(d, req, '2.04', '');
      assert.equal((await pending).code, '2.04');
    });

    it('keeps one outstanding request per client', async () => {
      await start();
      const d = await registered();
      const a = server.request('dev', { method: 'GET', path: '/3/0/0' });
      const b = server.request('dev', { method: 'GET', path: '/3/0/1' });
      const first = await d.next();
      assert.equal(await d.silentFor(50), true, 'the second waits for the first');
      reply(d, first, '2.05', 'a');
      const second = await d.next();
      assert.deepEqual(optionValues(second.packet, 'Uri-Path').map(String), ['3', '0', '1']);
      reply(d, second, '2.05', 'b');
      assert.deepEqual(
        (await Promise.all([a, b])).map((r) => Buffer.from(r.payload).toString()),
        ['a', 'b'],
      );
    });

    it('retransmits on loss and rejects with TimeoutError when the client stays silent (fake clock)', async () => {
      const clock = new FakeClock();
      await start({ clock, transport: { random: () => 0 } });
      const d = await registered();
      const lost = server.request('dev', { method: 'GET', path: '/3/0' });
      const first = await d.next();
      clock.advance(2000);
      const again = await d.next();
      assert.equal(again.packet.messageId, first.packet.messageId);
      reply(d, again, '2.05', 'ok');
      assert.equal((await lost).code, '2.05');
      assert.equal(server.stats!.retransmissions, 1);

      const silent = server.request('dev', { method: 'GET', path: '/3/0' });
      await d.next();
      for (const step of [2000, 4000, 8000, 16000]) {
        clock.advance(step);
        await d.next();
      }
      clock.advance(32_000);
      await assert.rejects(silent, TimeoutError);
    });

    it('rejects with TimeoutError after the per-request timeout', async () => {
      await start();
      const d = await registered();
      const pending = server.request('dev', { method: 'GET', path: '/3/0', timeoutMs: 60 });
      await d.next();
      await assert.rejects(pending, TimeoutError);
    });

    it('hands payloads to the injected decoder with the path and object versions', async () => {
      const calls: { format: number; path: string; versions: [number, string][] }[] = [];
      const decode = (format: number, bytes: Uint8Array, ctx: { path: Lwm2mPath; objectVersions?: ReadonlyMap<number, string> }): DecodeResult => {
        calls.push({ format, path: ctx.path.toString(), versions: [...(ctx.objectVersions ?? [])] });
        if (bytes.length === 3) throw new Error('cannot decode');
        return { format, records: [], notes: [Buffer.from(bytes).toString()] };
      };
      await start({ decode });
      const d = await registered(['ep=dev'], '</3303>;ver=1.1,</3303/0>');
      const pending = server.request('dev', { method: 'GET', path: '/3303/0/5700' });
      reply(d, await d.next(), '2.05', '21.5', [{ name: 'Content-Format', value: Buffer.alloc(0) }]);
      const res = await pending;
      assert.deepEqual(res.decoded?.notes, ['21.5']);
      assert.deepEqual(calls, [{ format: 0, path: '/3303/0/5700', versions: [[3303, '1.1']] }]);
      const bad = server.request('dev', { method: 'GET', path: '/3303/0/5700' });
      reply(d, await d.next(), '2.05', 'xyz', [{ name: 'Content-Format', value: Buffer.alloc(0) }]);
      assert.match((await bad).decodeError!.message, /cannot decode/);
    });

    describe('observations', () => {
      async function observe(d: RawPeer): Promise<{ req: Received; observation: ServerObservation; notes: NotificationEvent[] }> {
        const notes: NotificationEvent[] = [];
        server.on('notification', (n) => notes.push(n));
        const pending = server.request('dev', { method: 'GET', path: '/3303/0/5700', observe: true });
        const req = await d.next();
        assert.deepEqual(optionValues(req.packet, 'Observe'), [Buffer.alloc(0)]);
        reply(d, req, '2.05', '20', [{ name: 'Observe', value: encodeUint(1) }]);
        const res = await pending;
        assert.ok(res.observation);
        return { req, observation: res.observation, notes };
      }

      function notify(d: RawPeer, req: Received, seq: number, value: string, confirmable = true): void {
        d.send(req.rinfo.port, { confirmable, code: '2.05', messageId: 5000 + seq, token: req.packet.token, options: [{ name: 'Observe', value: encodeUint(seq) }], payload: Buffer.from(value) });
      }

      it('emits notifications in order and drops out-of-order ones', async () => {
        await start();
        const d = await registered();
        const { req, observation, notes } = await observe(d);
        assert.deepEqual(server.observations('dev'), [observation]);
        assert.equal(observation.path.toString(), '/3303/0/5700');
        notify(d, req, 3, '23');
        await d.next();
        notify(d, req, 2, 'late');
        await d.next();
        notify(d, req, 4, '24', false);
        await until(() => notes.length === 2);
        assert.deepEqual(
          notes.map((n) => [n.sequence, Buffer.from(n.payload).toString()]),
          [
            [3, '23'],
            [4, '24'],
          ],
        );
        assert.equal(notes[0]!.observation, observation);
      });

      it('drops observations of a client that de-registers: its next notification gets RST', async () => {
        await start();
        const d = await registered();
        const ended: string[] = [];
        server.on('observationEnded', (o, reason) => ended.push(`${o.path} ${reason}`));
        const { req } = await observe(d);
        assert.equal((await call(d, 'DELETE', ['rd', 'id1'])).packet.code, '2.02');
        assert.deepEqual(ended, ['/3303/0/5700 cancelled']);
        notify(d, req, 5, 'orphan');
        const rst = await d.next();
        assert.equal(rst.packet.reset, true);
        assert.equal(rst.packet.messageId, 5005);
      });

      it('cancels actively with GET Observe=1', async () => {
        await start();
        const d = await registered();
        const { req, observation } = await observe(d);
        const cancelled = server.cancelObservation('dev', observation.id, { active: true });
        const cancel = await d.next();
        assert.deepEqual(cancel.packet.token, req.packet.token);
        assert.equal(decodeUint(optionValues(cancel.packet, 'Observe')[0]!), 1);
        reply(d, cancel, '2.05', '20');
        await cancelled;
        assert.deepEqual(server.observations('dev'), []);
      });
    });
  });

  describe('traffic log', () => {
    it('records every message in and out, bounded, and emits each entry', async () => {
      await start({ trafficLogSize: 3 });
      const seen: TrafficEntry[] = [];
      server.on('traffic', (e) => seen.push(e));
      const d = await device();
      await call(d, 'POST', ['rd'], ['ep=t1'], '</3/0>');
      await call(d, 'POST', ['rd'], ['ep=t2'], '</3/0>');
      assert.equal(seen.length, 4);
      const [reqIn, resOut] = seen;
      assert.ok(reqIn?.kind === 'message' && resOut?.kind === 'message');
      assert.equal(reqIn.direction, 'in');
      assert.equal(reqIn.type, 'CON');
      assert.equal(reqIn.code, 0x02);
      assert.deepEqual(reqIn.peer, { address: '127.0.0.1', port: d.port });
      assert.equal(reqIn.payload.toString(), '</3/0>');
      assert.equal(resOut.direction, 'out');
      assert.equal(resOut.type, 'ACK');
      assert.equal(resOut.mid, reqIn.mid);
      assert.deepEqual(
        server.traffic.entries().map((e) => e.seq),
        [2, 3, 4],
      );
    });
  });

  it('lists registrations', async () => {
    await start();
    const d = await device();
    await call(d, 'POST', ['rd'], ['ep=one']);
    await call(d, 'POST', ['rd'], ['ep=two']);
    assert.deepEqual(
      server.registrations().map((r: Registration) => r.endpoint),
      ['one', 'two'],
    );
  });
});
