/**
 * The simulated client against our Lwm2mServer over real UDP on 127.0.0.1 (ephemeral ports):
 * registration, every DM operation, observe with attributes, Send, queue mode.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFormat } from '../../../src/core/contentFormat';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { ResponseCodeError } from '../../../src/core/server/errors';
import type { Lwm2mServer, NotificationEvent, SendEvent } from '../../../src/core/server/lwm2mServer';
import { SimulatedClient, type SimulatedClientOptions } from '../../../src/core/sim/client';
import { until } from '../coap/helpers';
import { nextEvent, nextServerEvent, recordEvents, sleep, startServer, udpHandles, valuesOf } from './helpers';

const P = (t: string) => Lwm2mPath.parse(t);

describe('SimulatedClient against Lwm2mServer over UDP', () => {
  let server: Lwm2mServer;
  let uri: string;
  const clients: SimulatedClient[] = [];
  let n = 0;

  before(async () => {
    ({ server, uri } = await startServer());
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });

  async function client(options: Partial<SimulatedClientOptions> = {}): Promise<SimulatedClient> {
    const c = new SimulatedClient({ server: uri, endpoint: `dev${++n}`, lifetime: 60, tickMs: 0, transport: { ackTimeoutMs: 300 }, ...options });
    clients.push(c);
    await c.start();
    return c;
  }

  /** Asserts that `promise` rejects with a ResponseCodeError of `code`. */
  async function rejectsWith(promise: Promise<unknown>, code: string): Promise<ResponseCodeError> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof ResponseCodeError, `expected a ResponseCodeError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      return err;
    }
    assert.fail(`expected ${code}`);
  }

  describe('registration', () => {
    it('registers with ep, lt, lwm2m=1.1, b=U, object versions and ct; updates before the lifetime expires; de-registers on stop', async () => {
      const handlesBefore = udpHandles();
      const registered = nextServerEvent(server, 'registered', (r) => r.endpoint === 'reg1');
      const c = new SimulatedClient({ server: uri, endpoint: 'reg1', lifetime: 1, tickMs: 50 });
      clients.push(c);
      await c.start();
      const [reg] = await registered;
      assert.equal(reg.lifetime, 1);
      assert.equal(reg.lwm2mVersion, '1.1');
      assert.equal(reg.binding, 'U');
      assert.equal(reg.queueMode, false);
      assert.deepEqual(reg.address, { address: '127.0.0.1', port: c.port });
      assert.deepEqual(reg.contentFormats, [60, 110, 112, 11542, 11544]);
      assert.deepEqual(
        reg.objects.map((o) => `${o.id}@${o.version ?? '1.0'}:${o.instances.join(' ')}`),
        ['1@1.1:0', '3@1.1:0', '3303@1.1:0', '3311@1.0:0'],
      );
      assert.ok(!reg.linkText.includes('</0'), 'the Security object is never listed');
      assert.equal(c.registrationLocation, `/rd/${reg.id}`);

      // lt=1 s: the Update goes out at 75 % of it.
      const [updated] = await nextServerEvent(server, 'updated', (r) => r.endpoint === 'reg1', 3000);
      assert.equal(updated.id, reg.id);

      const deregistered = nextServerEvent(server, 'deregistered', (r) => r.endpoint === 'reg1');
      await c.stop();
      await deregistered;
      assert.equal(c.state, 'stopped');
      assert.equal(c.port, undefined);
      await sleep(10);
      assert.equal(udpHandles(), handlesBefore, 'the socket is closed');
      assert.equal(server.registration('reg1'), undefined);
    });

    it('registers again when an Update is answered 4.04 (its registration was replaced)', async () => {
      const c = await client();
      const first = server.registration(c.endpoint)!;
      // A second device with the same endpoint name replaces the registration.
      const twin = await client({ endpoint: c.endpoint });
      assert.notEqual(server.registration(c.endpoint)!.id, first.id);
      await twin.stop({ deregister: false });
      const again = nextServerEvent(server, 'registered', (r) => r.endpoint === c.endpoint && r.address.port === c.port);
      const errored = nextEvent(c, 'error', (e) => e.operation === 'update');
      const registered = nextEvent(c, 'registered');
      await c.update();
      assert.match((await errored).message, /4\.04/);
      const [reg] = await again;
      await registered;
      assert.notEqual(reg.id, first.id);
      assert.equal(c.registrationLocation, `/rd/${reg.id}`);
    });
  });

  describe('Read', () => {
    it('answers Read of /3/0 in TLV, SenML JSON, SenML CBOR and LwM2M CBOR with the same decoded values', async () => {
      const c = await client({ device: { manufacturer: 'ACME', serialNumber: 'SN-42' } });
      const expected = valuesOf(c.tree.read(P('/3/0')));
      assert.ok(expected.includes('/3/0/0=ACME'));
      assert.ok(expected.includes('/3/0/2=SN-42'));
      assert.ok(expected.includes('/3/0/6/1=5'));
      for (const format of [ContentFormat.Tlv, ContentFormat.SenmlJson, ContentFormat.SenmlCbor, ContentFormat.Lwm2mCbor]) {
        const events = recordEvents(c);
        const res = await server.read(c.endpoint, '/3/0', { format });
        assert.equal(res.code, '2.05');
        assert.equal(res.format, format);
        assert.deepEqual(valuesOf(res.records), expected, `format ${format}`);
        assert.deepEqual(res.notes, []);
        const types = new Map(res.records.map((r) => [r.path.toString(), r.type]));
        assert.equal(types.get('/3/0/0'), 'string');
        assert.equal(types.get('/3/0/9'), 'integer');
        assert.equal(types.get('/3/0/13'), 'time');
        assert.deepEqual(
          events.filter((e) => e.type === 'read').map((e) => e.type === 'read' && `${e.path} ${e.format} ${e.code}`),
          [`/3/0 ${format} 2.05`],
        );
      }
    });

    it('reads an object, a resource instance, text and CBOR single values, and picks a default without Accept', async () => {
      const c = await client();
      const temp = await server.read(c.endpoint, '/3303', { format: ContentFormat.SenmlCbor });
      assert.ok(valuesOf(temp.records).includes('/3303/0/5701=Cel'));
      const text = await server.read(c.endpoint, '/3/0/9', { format: ContentFormat.Text });
      assert.equal(text.format, ContentFormat.Text);
      assert.deepEqual(valuesOf(text.records), ['/3/0/9=100']);
      const cbor = await server.read(c.endpoint, '/3303/0/5701', { format: ContentFormat.Cbor });
      assert.deepEqual(valuesOf(cbor.records), ['/3303/0/5701=Cel']);
      const ri = await server.read(c.endpoint, '/3/0/7/1', { format: ContentFormat.Text });
      assert.deepEqual(valuesOf(ri.records), ['/3/0/7/1=5000']);
      // No Accept: text for a single value, SenML CBOR for several.
      const single = await server.request(c.endpoint, { method: 'GET', path: '/3/0/1' });
      assert.equal(single.format, ContentFormat.Text);
      assert.equal(Buffer.from(single.payload).toString(), 'Simulated Device');
      const several = await server.request(c.endpoint, { method: 'GET', path: '/3/0/6' });
      assert.equal(several.format, ContentFormat.SenmlCbor);
    });

    it('refuses what it cannot answer: 4.06 for unsupported or single-value formats on several values, 4.04, 4.05, 4.01 for /0', async () => {
      const c = await client();
      await rejectsWith(server.read(c.endpoint, '/3/0', { format: ContentFormat.Lwm2mJson }), '4.06');
      await rejectsWith(server.read(c.endpoint, '/3/0', { format: ContentFormat.Text }), '4.06');
      await rejectsWith(server.read(c.endpoint, '/3/0/6', { format: ContentFormat.Text }), '4.06');
      await rejectsWith(server.read(c.endpoint, '/3/0/0', { format: ContentFormat.Opaque }), '4.06');
      await rejectsWith(server.read(c.endpoint, '/3303/7'), '4.04');
      await rejectsWith(server.read(c.endpoint, '/3/0/4'), '4.05');
      await rejectsWith(server.read(c.endpoint, '/0/0'), '4.01');
      const res = await server.request(c.endpoint, { method: 'GET', path: '/3/0', accept: 65000 });
      assert.equal(res.code, '4.06');
    });
  });

  describe('Discover and Write-Attributes', () => {
    it('lists instances and resources with dim, ver and attributes; Write-Attributes is stored per path and inherited', async () => {
      const c = await client();
      const d = await server.discover(c.endpoint, '/3');
      const byPath = new Map(d.links.map((l) => [l.path.toString(), l]));
      assert.equal(byPath.get('/3')!.attributes.ver, '1.1');
      assert.equal(byPath.get('/3/0/6')!.attributes.dim, 2);
      assert.ok(byPath.has('/3/0/4'), 'executable resources are listed');
      assert.ok(!byPath.has('/3/0/6/0'), 'no resource instances on an object discover');

      await server.writeAttributes(c.endpoint, '/3/0', 'pmin=10&pmax=60');
      await server.writeAttributes(c.endpoint, '/3/0/9', { gt: 50, lt: 20.5, st: 2 });
      const inst = await server.discover(c.endpoint, '/3/0');
      const attrs = new Map(inst.links.map((l) => [l.path.toString(), l.attributes]));
      assert.deepEqual(attrs.get('/3/0'), { pmin: 10, pmax: 60 });
      assert.deepEqual(attrs.get('/3/0/9'), { gt: 50, lt: 20.5, st: 2 });
      // On a resource: the effective attributes (inherited pmin/pmax) and its instances.
      const res = await server.discover(c.endpoint, '/3/0/9');
      assert.deepEqual(res.links[0]!.attributes, { pmin: 10, pmax: 60, gt: 50, lt: 20.5, st: 2 });
      const multi = await server.discover(c.endpoint, '/3/0/7');
      assert.deepEqual(multi.links.map((l) => l.path.toString()), ['/3/0/7', '/3/0/7/0', '/3/0/7/1']);
      // Unset pmin at the instance level.
      await server.writeAttributes(c.endpoint, '/3/0', 'pmin');
      assert.deepEqual(c.effectiveAttributes('/3/0/9'), { pmax: 60, gt: 50, lt: 20.5, st: 2 });
      assert.deepEqual(c.attributes.at(P('/3/0')), { pmax: 60 });
    });

    it('refuses bad attributes with 4.00: gt on a string, pmin > pmax at one level, lt >= gt, unknown names', async () => {
      const c = await client();
      await rejectsWith(server.writeAttributes(c.endpoint, '/3/0/0', 'gt=5'), '4.00');
      await rejectsWith(server.writeAttributes(c.endpoint, '/3/0', 'gt=5'), '4.00');
      const order = await server.request(c.endpoint, { method: 'PUT', path: '/3/0/9', query: ['pmin=10', 'pmax=5'] });
      assert.equal(order.code, '4.00');
      const bad = await server.request(c.endpoint, { method: 'PUT', path: '/3/0/9', query: ['dim=3'] });
      assert.equal(bad.code, '4.00');
      const lt = await server.request(c.endpoint, { method: 'PUT', path: '/3/0/9', query: ['lt=50', 'gt=40'] });
      assert.equal(lt.code, '4.00');
      const missing = await server.request(c.endpoint, { method: 'PUT', path: '/3303/9', query: ['pmin=1'] });
      assert.equal(missing.code, '4.04');
      // pmin alone above an inherited pmax is fine (§19.39).
      await server.writeAttributes(c.endpoint, '/3/0', 'pmax=5');
      await server.writeAttributes(c.endpoint, '/3/0/9', 'pmin=10');
    });
  });

  describe('Write and Execute on /3311/0', () => {
    const rec = (path: string, type: Lwm2mRecord['type'], value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: P(path), type, value });

    it('writes On/Off and Dimmer in text, TLV and SenML; partial update and replace of the instance', async () => {
      const c = await client();
      const write = nextEvent(c, 'write');
      await server.write(c.endpoint, '/3311/0/5850', [rec('/3311/0/5850', 'boolean', true)], { format: ContentFormat.Text });
      assert.deepEqual(
        (({ path, mode, format, paths, code }) => ({ path, mode, format, paths, code }))(await write),
        { path: '/3311/0/5850', mode: 'replace', format: 0, paths: ['/3311/0/5850'], code: '2.04' },
      );
      assert.equal(c.getValue('/3311/0/5850'), true);
      await server.write(c.endpoint, '/3311/0/5851', [rec('/3311/0/5851', 'integer', 80)], { format: ContentFormat.Tlv });
      assert.equal(c.getValue('/3311/0/5851'), 80);
      await server.write(c.endpoint, '/3311/0', [rec('/3311/0/5851', 'integer', 10), rec('/3311/0/5706', 'string', 'red')], { mode: 'update', format: ContentFormat.SenmlJson });
      assert.equal(c.getValue('/3311/0/5851'), 10);
      assert.equal(c.getValue('/3311/0/5706'), 'red');
      assert.equal(c.getValue('/3311/0/5850'), true, 'partial update keeps what is not given');
      const read = await server.read(c.endpoint, '/3311/0/5851', { format: ContentFormat.Text });
      assert.deepEqual(valuesOf(read.records), ['/3311/0/5851=10']);
      // Replace: optional writable resources not in the payload are removed.
      await server.write(c.endpoint, '/3311/0', [rec('/3311/0/5850', 'boolean', false), rec('/3311/0/5851', 'integer', 33)], { format: ContentFormat.SenmlCbor });
      assert.equal(c.getValue('/3311/0/5706'), undefined);
      assert.equal(c.getValue('/3311/0/5851'), 33);
    });

    it('type and range checks: 4.00; read-only resources: 4.05; unsupported format: 4.15', async () => {
      const c = await client();
      const range = await server.request(c.endpoint, { method: 'PUT', path: '/3311/0/5851', contentFormat: ContentFormat.Text, payload: Buffer.from('150') });
      assert.equal(range.code, '4.00');
      assert.match(Buffer.from(range.payload).toString(), /maximum 100/);
      const type = await server.request(c.endpoint, { method: 'PUT', path: '/3311/0/5851', contentFormat: ContentFormat.Text, payload: Buffer.from('bright') });
      assert.equal(type.code, '4.00');
      const senml = await server.request(c.endpoint, { method: 'PUT', path: '/3311/0/5850', contentFormat: ContentFormat.SenmlJson, payload: Buffer.from('[{"n":"/3311/0/5850","vs":"on"}]') });
      assert.equal(senml.code, '4.00');
      await rejectsWith(server.write(c.endpoint, '/3311/0/5805', [rec('/3311/0/5805', 'float', 1.5)], { format: ContentFormat.Text }), '4.05');
      await rejectsWith(server.write(c.endpoint, '/3/0/0', [rec('/3/0/0', 'string', 'x')], { format: ContentFormat.Text }), '4.05');
      await rejectsWith(server.write(c.endpoint, '/3303/0', [rec('/3303/0/5700', 'float', 1)], { format: ContentFormat.Tlv }), '4.05');
      const fmt = await server.request(c.endpoint, { method: 'PUT', path: '/3311/0/5850', contentFormat: 50, payload: Buffer.from('true') });
      assert.equal(fmt.code, '4.15');
      assert.equal(c.getValue('/3311/0/5851'), 50, 'nothing changed');
    });

    it('executes with arguments; 4.05 on non-executable resources, 4.00 on malformed arguments', async () => {
      const c = await client();
      c.setValue('/3303/0/5700', 30);
      c.setValue('/3303/0/5601', 10);
      c.setValue('/3303/0/5602', 35);
      const executed = nextEvent(c, 'execute');
      await server.execute(c.endpoint, '/3303/0/5605', "0,1='now'");
      assert.equal((await executed).arguments, "0,1='now'");
      await until(() => c.getValue('/3303/0/5601') === 30);
      assert.equal(c.getValue('/3303/0/5602'), 30);
      await rejectsWith(server.execute(c.endpoint, '/3311/0/5850'), '4.05');
      await rejectsWith(server.execute(c.endpoint, '/3/0/0'), '4.05');
      await rejectsWith(server.execute(c.endpoint, '/3303/0/5605', 'x=1'), '4.00');
      await rejectsWith(server.execute(c.endpoint, '/3303/5/5605'), '4.04');
      // Registration Update Trigger.
      const updated = nextServerEvent(server, 'updated', (r) => r.endpoint === c.endpoint);
      await server.execute(c.endpoint, '/1/0/8');
      await updated;
    });

    it('Reboot (/3/0/4) makes the device register again', async () => {
      const c = await client();
      const first = server.registration(c.endpoint)!.id;
      const again = nextServerEvent(server, 'registered', (r) => r.endpoint === c.endpoint);
      await server.execute(c.endpoint, '/3/0/4');
      const [reg] = await again;
      assert.notEqual(reg.id, first);
    });
  });

  describe('Create and Delete', () => {
    const rec = (path: string, type: Lwm2mRecord['type'], value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: P(path), type, value });

    it('creates Temperature instances (SenML with an id, TLV with the id left to the client), updates the registration, deletes them', async () => {
      const c = await client();
      const updated = nextServerEvent(server, 'updated', (r) => r.endpoint === c.endpoint && r.objects.some((o) => o.id === 3303 && o.instances.includes(1)));
      const created = await server.create(c.endpoint, '/3303', [rec('/3303/1/5750', 'string', 'Outdoor')], { format: ContentFormat.SenmlCbor });
      assert.equal(created.code, '2.01');
      assert.equal(created.instanceId, 1);
      assert.equal(created.location, '/3303/1');
      assert.equal(c.getValue('/3303/1/5750'), 'Outdoor');
      assert.equal(c.getValue('/3303/1/5701'), 'Cel', 'defaults fill what the server did not give');
      await updated;

      const tlv = await server.create(c.endpoint, '/3303', [rec('/3303/0/5750', 'string', 'Cellar')], { format: ContentFormat.Tlv, clientAssignsId: true });
      assert.equal(tlv.instanceId, 2);
      assert.equal(c.getValue('/3303/2/5750'), 'Cellar');
      const read = await server.read(c.endpoint, '/3303/2/5750', { format: ContentFormat.Text });
      assert.deepEqual(valuesOf(read.records), ['/3303/2/5750=Cellar']);

      await rejectsWith(server.create(c.endpoint, '/3303', [rec('/3303/1/5750', 'string', 'again')], { format: ContentFormat.SenmlJson }), '4.00');
      await rejectsWith(server.create(c.endpoint, '/3', [rec('/3/1/0', 'string', 'x')], { format: ContentFormat.SenmlJson }), '4.05');
      await rejectsWith(server.create(c.endpoint, '/3303', [rec('/3303/3/5700', 'string', 'hot')], { format: ContentFormat.SenmlJson }), '4.00');

      const gone = nextServerEvent(server, 'updated', (r) => r.endpoint === c.endpoint && !r.objects.some((o) => o.id === 3303 && o.instances.includes(1)));
      const deleted = await server.delete(c.endpoint, '/3303/1');
      assert.equal(deleted.code, '2.02');
      assert.equal(c.tree.hasInstance(3303, 1), false);
      await gone;
      await rejectsWith(server.delete(c.endpoint, '/3303/1'), '4.04');
      await rejectsWith(server.delete(c.endpoint, '/3/0'), '4.05');
      await rejectsWith(server.delete(c.endpoint, '/3303/0/5700'), '4.05');
    });
  });

  describe('Composite operations', () => {
    it('Read-Composite returns every requested path; Write-Composite writes across objects', async () => {
      const c = await client();
      const res = await server.readComposite(c.endpoint, ['/3/0/0', '/3303/0/5701', '/3311/0', '/3303/9'], { format: ContentFormat.SenmlJson });
      const values = valuesOf(res.records);
      assert.ok(values.includes('/3/0/0=LwM2M Workbench'));
      assert.ok(values.includes('/3303/0/5701=Cel'));
      assert.ok(values.includes('/3311/0/5851=50'));
      assert.ok(!values.some((v) => v.startsWith('/3303/9')), 'missing paths are left out');
      await server.writeComposite(c.endpoint, [
        { path: P('/3311/0/5850'), type: 'boolean', value: true },
        { path: P('/3/0/14'), type: 'string', value: '+02:00' },
      ]);
      assert.equal(c.getValue('/3311/0/5850'), true);
      assert.equal(c.getValue('/3/0/14'), '+02:00');
      await rejectsWith(server.writeComposite(c.endpoint, [{ path: P('/3/0/0'), type: 'string', value: 'no' }]), '4.05');
    });
  });

  describe('Observe', () => {
    it('Write-Attributes then Observe /3303/0/5700: notifications follow the changing value with increasing sequence numbers, at most every pmin', async () => {
      const c = await client({ tickMs: 100 });
      await server.writeAttributes(c.endpoint, '/3303/0/5700', 'pmin=1&pmax=3');
      const notes: NotificationEvent[] = [];
      server.on('notification', (e) => {
        if (e.endpoint === c.endpoint) notes.push(e);
      });
      const observed = nextEvent(c, 'observe');
      const res = await server.observe(c.endpoint, '/3303/0/5700', { format: ContentFormat.SenmlCbor });
      assert.ok(res.observation, 'the observation was accepted');
      const ev = await observed;
      assert.equal(ev.path, '/3303/0/5700');
      assert.equal(ev.token, res.observation.id);
      const t0 = Date.now();
      while (notes.length < 2 && Date.now() - t0 < 4000) await sleep(20);
      assert.ok(notes.length >= 2, `got ${notes.length} notifications`);
      const [a, b] = notes as [NotificationEvent, NotificationEvent];
      assert.ok(b.time - a.time >= 900, `pmin=1: ${b.time - a.time} ms apart`);
      assert.ok(b.sequence! > a.sequence!);
      assert.equal(a.records[0]!.path.toString(), '/3303/0/5700');
      assert.notEqual(a.records[0]!.value, b.records[0]!.value, 'the temperature moves');
      assert.equal(typeof a.records[0]!.value, 'number');
    });

    it('pmax sends without a change; st and gt/lt decide which changes are notified', async () => {
      const c = await client({ tickMs: 0 });
      await server.writeAttributes(c.endpoint, '/3303/0/5700', 'pmax=1&st=5&gt=40');
      const values: number[] = [];
      server.on('notification', (e) => {
        if (e.endpoint === c.endpoint) values.push(e.records[0]!.value as number);
      });
      c.setValue('/3303/0/5700', 20);
      await server.observe(c.endpoint, '/3303/0/5700', { format: ContentFormat.SenmlJson });
      c.setValue('/3303/0/5700', 21); // below st: not notified
      await sleep(100);
      assert.deepEqual(values, []);
      c.setValue('/3303/0/5700', 26); // |26 - 20| >= st
      await until(() => values.length === 1);
      assert.deepEqual(values, [26]);
      c.setValue('/3303/0/5700', 30.5); // st not reached (4.5), gt not crossed
      await sleep(100);
      assert.deepEqual(values, [26]);
      c.setValue('/3303/0/5700', 41); // crosses gt=40
      await until(() => values.length === 2);
      assert.deepEqual(values, [26, 41]);
      // pmax=1: a notification without a change.
      await until(() => values.length === 3, 3000);
      assert.deepEqual(values, [26, 41, 41]);
    });

    for (const confirmable of [false, true]) {
      it(`a passive cancel is answered by RST to the next ${confirmable ? 'CON' : 'NON'} notification, and the client drops the observation`, async () => {
        const c = await client({ tickMs: 0, confirmableNotifications: confirmable });
        const res = await server.observe(c.endpoint, '/3311/0/5851', { format: ContentFormat.Text });
        const note = nextServerEvent(server, 'notification', (e) => e.endpoint === c.endpoint);
        c.setValue('/3311/0/5851', 70);
        const [e] = await note;
        assert.deepEqual(valuesOf(e.records), ['/3311/0/5851=70']);
        const sent = nextEvent(c, 'notification');
        c.setValue('/3311/0/5851', 71);
        assert.equal((await sent).confirmable, confirmable);
        assert.equal(await server.cancelObservation(c.endpoint, res.observation!.id), 1);
        const cancelled = nextEvent(c, 'observeCancelled');
        c.setValue('/3311/0/5851', 72);
        const ended = await cancelled;
        assert.equal(ended.reason, 'rst');
        assert.equal(ended.token, res.observation!.id);
        assert.deepEqual(c.observations(), []);
      });
    }

    it('an active cancel (GET Observe=1) ends it at once; deleting the observed instance sends 4.04 and ends it', async () => {
      const c = await client({ tickMs: 0 });
      const res = await server.observe(c.endpoint, '/3303/0/5700', { format: ContentFormat.Tlv });
      assert.equal(c.observations().length, 1);
      const cancelled = nextEvent(c, 'observeCancelled');
      await server.cancelObservation(c.endpoint, res.observation!.id, { active: true });
      assert.equal((await cancelled).reason, 'cancelled');
      assert.deepEqual(c.observations(), []);

      await server.create(c.endpoint, '/3303', [{ path: P('/3303/4/5750'), type: 'string', value: 'temporary' }], { format: ContentFormat.SenmlCbor });
      await server.observe(c.endpoint, '/3303/4', { format: ContentFormat.SenmlCbor });
      const ended = nextServerEvent(server, 'observationEnded');
      const gone = nextEvent(c, 'observeCancelled');
      await server.delete(c.endpoint, '/3303/4');
      c.setValue('/3303/0/5700', 25); // unrelated path: no effect
      assert.equal((await gone).reason, 'deleted');
      await ended;
    });

    it('observations end when the client de-registers', async () => {
      const c = await client({ tickMs: 0 });
      await server.observe(c.endpoint, '/3/0/9', { format: ContentFormat.Text });
      await server.observe(c.endpoint, '/3311/0', { format: ContentFormat.SenmlJson });
      const reasons: string[] = [];
      c.on('observeCancelled', (e) => reasons.push(e.reason));
      await c.stop();
      assert.deepEqual(reasons, ['stopped', 'stopped']);
    });

    it('Observe-Composite notifies when any of its paths changes', async () => {
      const c = await client({ tickMs: 0 });
      await server.observeComposite(c.endpoint, ['/3311/0/5850', '/3/0/9'], { format: ContentFormat.SenmlCbor });
      const note = nextServerEvent(server, 'notification', (e) => e.endpoint === c.endpoint);
      c.setValue('/3/0/9', 42);
      const [e] = await note;
      assert.deepEqual(valuesOf(e.records).sort(), ['/3/0/9=42', '/3311/0/5850=false']);
    });
  });

  describe('Send', () => {
    it('POSTs /dp with timestamped SenML CBOR values that the server receives', async () => {
      const c = await client({ tickMs: 0 });
      c.setValue('/3303/0/5700', 23.25);
      const received = nextServerEvent(server, 'send', (e) => e.endpoint === c.endpoint);
      const before = Date.now() / 1000;
      const code = await c.send(['/3303/0/5700', '/3/0/9']);
      assert.equal(code, '2.04');
      const [e] = (await received) as [SendEvent];
      assert.equal(e.format, ContentFormat.SenmlCbor);
      assert.deepEqual(valuesOf(e.records), ['/3303/0/5700=23.25', '/3/0/9=100']);
      for (const r of e.records) assert.ok(r.time !== undefined && Math.abs(r.time - before) < 5, `timestamp ${r.time}`);
      c.setValue('/1/0/23', true);
      await assert.rejects(c.send(['/3/0/9']), /muted/);
    });
  });

  describe('queue mode', () => {
    it('registers with Q, sleeps after the awake window, wakes with an Update that lets the queued request through', async () => {
      // The server deems the client asleep a little before it actually sleeps.
      const q = await startServer({ awakeWindowMs: 200 });
      try {
        const c = new SimulatedClient({ server: q.uri, endpoint: 'queued', lifetime: 60, tickMs: 0, queueMode: true, awakeMs: 300, sleepMs: 700 });
        clients.push(c);
        const events = recordEvents(c);
        await c.start();
        assert.equal(q.server.registration('queued')!.queueMode, true);
        await nextEvent(c, 'sleeping', undefined, 2000);
        assert.equal(c.awake, false);
        const t0 = Date.now();
        const read = await q.server.read('queued', '/3/0/9', { format: ContentFormat.Text });
        assert.deepEqual(valuesOf(read.records), ['/3/0/9=100']);
        assert.ok(Date.now() - t0 >= 200, 'the read waited for the wake-up');
        const order = events.map((e) => (e.type === 'updated' ? `updated:${e.reason}` : e.type)).filter((t) => t !== 'notification');
        const i = order.indexOf('sleeping');
        assert.deepEqual(order.slice(i, i + 4), ['sleeping', 'awake', 'updated:wake', 'read']);
        await c.stop();
      } finally {
        await q.server.stop();
      }
    });

    it('drops datagrams while asleep: a request sent to a sleeping client gets through only after it wakes (retransmission)', async () => {
      const c = await client({ tickMs: 0, queueMode: true, awakeMs: 60_000 });
      c.sleep();
      assert.equal(c.awake, false);
      const reading = server.read(c.endpoint, '/3/0/9', { format: ContentFormat.Text });
      await until(() => c.droppedWhileAsleep >= 1);
      await c.wake();
      const res = await reading;
      assert.equal(res.code, '2.05');
    });
  });
});
