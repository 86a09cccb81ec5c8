/**
 * The typed device-management and information-reporting API against a fake client on a raw
 * UDP socket (127.0.0.1, ephemeral ports): every operation, its wire form, its typed answer,
 * error codes and decode failures; Send; composite operations.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codecRegistry } from '../../../src/core/codec/registry';
import { encodeUint } from '../../../src/core/coap/options';
import { ContentFormat } from '../../../src/core/contentFormat';
import { DecodeError, EncodeError } from '../../../src/core/errors';
import { createModelRegistry } from '../../../src/core/model';
import type { Lwm2mRecord } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';
import { parseAttributes, attributeQuery } from '../../../src/core/server/attributes';
import { InvalidRequestError, ResponseCodeError, ResponseDecodeError, TimeoutError } from '../../../src/core/server/errors';
import { formatExecuteArguments, parseExecuteArguments } from '../../../src/core/server/execute';
import { preferredFormat } from '../../../src/core/server/formats';
import { Lwm2mServer, type NotificationEvent, type SendEvent } from '../../../src/core/server/lwm2mServer';
import { until } from '../coap/helpers';
import { FakeDevice, pathOf, queryOf, uintOf } from './device';

const models = createModelRegistry();
const rec = (path: string, type: Lwm2mRecord['type'], value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: Lwm2mPath.parse(path), type, value });
const enc = (format: number, records: Lwm2mRecord[], path = '/') => Buffer.from(codecRegistry.encode(format, records, { path: Lwm2mPath.parse(path), models }));
const dec = (format: number, bytes: Buffer, path = '/') => codecRegistry.decode(format, bytes, { path: Lwm2mPath.parse(path), models }).records;
const plain = (records: Lwm2mRecord[]) => records.map((r) => [r.path.toString(), r.type, r.value]);

describe('Lwm2mServer operations', () => {
  let server: Lwm2mServer;
  let port: number;
  const devices: FakeDevice[] = [];

  async function start(): Promise<void> {
    let n = 0;
    server = new Lwm2mServer({ newRegistrationId: () => `r${++n}` });
    await server.start({ port: 0, address: '127.0.0.1' });
    port = server.address()!.port;
  }

  async function device(query = ['ep=dev', 'lwm2m=1.1'], links = '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>'): Promise<FakeDevice> {
    const d = await FakeDevice.open(port);
    devices.push(d);
    await d.register(query, links);
    return d;
  }

  afterEach(async () => {
    await server?.stop();
    for (const d of devices.splice(0)) await d.close();
  });

  describe('content formats', () => {
    it('picks the default from the LwM2M version and the ct hint', () => {
      assert.equal(preferredFormat({ lwm2mVersion: '1.0', contentFormats: [110] }), ContentFormat.Tlv);
      assert.equal(preferredFormat({ lwm2mVersion: '1.1', contentFormats: [] }), ContentFormat.SenmlCbor);
      assert.equal(preferredFormat({ lwm2mVersion: '1.1', contentFormats: [110] }), ContentFormat.SenmlJson);
      assert.equal(preferredFormat({ lwm2mVersion: '1.1', contentFormats: [110, 112] }), ContentFormat.SenmlCbor);
      assert.equal(preferredFormat({ lwm2mVersion: '1.2', contentFormats: [11542] }), ContentFormat.Tlv);
      assert.equal(preferredFormat({ lwm2mVersion: '1.2', contentFormats: [11544] }), ContentFormat.Lwm2mCbor);
    });

    it('asks 1.0 clients for TLV, 1.1 clients for their ct, and honours per-client and per-request formats', async () => {
      await start();
      const old = await device(['ep=old', 'lwm2m=1.0'], '</1/0>,</3/0>');
      const pending = server.read('old', '/3/0/0');
      const req = await old.request();
      assert.equal(uintOf(req, 'Accept'), ContentFormat.Tlv);
      old.reply(req, '2.05', enc(ContentFormat.Tlv, [rec('/3/0/0', 'string', 'ACME')], '/3/0/0'), { format: ContentFormat.Tlv });
      const res = await pending;
      assert.deepEqual(plain(res.records), [['/3/0/0', 'string', 'ACME']]);
      assert.equal(res.format, ContentFormat.Tlv);

      const d = await device();
      assert.equal(server.defaultFormat('dev'), ContentFormat.SenmlJson);
      const p2 = server.read('dev', '/3/0/0');
      const r2 = await d.request();
      assert.equal(uintOf(r2, 'Accept'), ContentFormat.SenmlJson);
      d.reply(r2, '2.05', '[{"n":"/3/0/0","vs":"ACME"}]', { format: 110 });
      await p2;

      server.setDefaultFormat('dev', ContentFormat.SenmlCbor);
      const p3 = server.read('dev', '/3/0/0');
      const r3 = await d.request();
      assert.equal(uintOf(r3, 'Accept'), ContentFormat.SenmlCbor);
      d.reply(r3, '2.05', enc(112, [rec('/3/0/0', 'string', 'x')]), { format: 112 });
      await p3;

      const p4 = server.read('dev', '/3/0/0', { format: ContentFormat.Text });
      const r4 = await d.request();
      assert.equal(uintOf(r4, 'Accept'), ContentFormat.Text);
      d.reply(r4, '2.05', 'ACME', { format: 0 });
      assert.deepEqual(plain((await p4).records), [['/3/0/0', 'string', 'ACME']]);
    });
  });

  describe('read', () => {
    it('decodes with the models and the object version the client announced', async () => {
      await start();
      const d = await device();
      const pending = server.read('dev', '/3303/0');
      const req = await d.request();
      assert.equal(pathOf(req), '/3303/0');
      d.reply(req, '2.05', '[{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5701","vs":"Cel"}]', { format: 110 });
      const res = await pending;
      assert.equal(res.code, '2.05');
      assert.equal(res.coapCode, 0x45);
      assert.deepEqual(plain(res.records), [
        ['/3303/0/5700', 'float', 21.5],
        ['/3303/0/5701', 'string', 'Cel'],
      ]);
      assert.ok(res.rtt >= 0);
      assert.equal(Buffer.from(res.payload).toString(), '[{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5701","vs":"Cel"}]');
    });

    it('prefixes the alternate path and accepts a separate response', async () => {
      await start();
      const d = await device(['ep=alt', 'lwm2m=1.1'], '</lwm2m>;rt="oma.lwm2m";ct=110,</lwm2m/3/0>');
      const pending = server.read('alt', '/3/0/0');
      const req = await d.request();
      assert.equal(pathOf(req), '/lwm2m/3/0/0');
      d.reply(req, '2.05', '[{"n":"/3/0/0","vs":"late"}]', { format: 110, separate: true });
      assert.equal((await d.peer.next()).packet.ack, true, 'the separate response is ACKed');
      assert.deepEqual(plain((await pending).records), [['/3/0/0', 'string', 'late']]);
    });

    it('assumes the Accept format when the answer has no Content-Format', async () => {
      await start();
      const d = await device();
      const pending = server.read('dev', '/3/0/0');
      d.reply(await d.request(), '2.05', '[{"n":"/3/0/0","vs":"x"}]');
      const res = await pending;
      assert.equal(res.format, 110);
      assert.deepEqual(plain(res.records), [['/3/0/0', 'string', 'x']]);
    });

    it('rejects error codes with the code, its LwM2M meaning and the diagnostic payload', async () => {
      await start();
      const d = await device();
      for (const [code, meaning] of [
        ['4.04', /Not Found/],
        ['4.01', /Unauthorized/],
        ['4.05', /Method Not Allowed/],
        ['4.06', /Not Acceptable/],
        ['4.09', /unknown 4\.xx code, treated as Bad Request/],
        ['5.00', /Internal Server Error/],
      ] as const) {
        const pending = server.read('dev', '/0/0');
        d.reply(await d.request(), code, 'no such thing');
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof ResponseCodeError);
          assert.equal(err.code, code);
          assert.match(err.meaning, meaning);
          assert.equal(err.diagnostic, 'no such thing');
          assert.deepEqual(err.target, { endpoint: 'dev', operation: 'read', path: '/0/0' });
          assert.match(err.message, new RegExp(`read /0/0 on "dev" failed with ${code.replace('.', '\\.')}`));
          return true;
        });
      }
    });

    it('rejects an undecodable answer with the raw bytes and the DecodeError inside', async () => {
      await start();
      const d = await device();
      const pending = server.read('dev', '/3/0');
      d.reply(await d.request(), '2.05', '[{"n":"/3/0/0","vs":', { format: 110 });
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof ResponseDecodeError);
        assert.ok(err.cause instanceof DecodeError);
        assert.equal(err.format, 110);
        assert.equal(err.code, '2.05');
        assert.equal(Buffer.from(err.payload).toString(), '[{"n":"/3/0/0","vs":');
        return true;
      });
      const unsupported = server.read('dev', '/3/0');
      d.reply(await d.request(), '2.05', 'xx', { format: 9999 });
      await assert.rejects(unsupported, (err: unknown) => err instanceof ResponseDecodeError && err.cause.name === 'UnsupportedFormatError');
    });

    it('reassembles a Block2 answer (the client fetches nothing itself: the server asks for each block)', async () => {
      await start();
      const d = await device();
      const records = Array.from({ length: 40 }, (_, i) => rec(`/3303/${i}/5750`, 'string', `sensor number ${i} in the east wing`));
      const body = enc(ContentFormat.SenmlJson, records);
      assert.ok(body.length > 1024);
      const pending = server.read('dev', '/3303');
      const block = (num: number, more: boolean) => encodeUint(num * 16 + (more ? 8 : 0) + 6);
      const blocks = Math.ceil(body.length / 1024);
      for (let num = 0; num < blocks; num++) {
        const req = await d.request();
        if (num > 0) {
          assert.equal(uintOf(req, 'Block2'), num * 16 + 6, `asks for block ${num}`);
          assert.equal(uintOf(req, 'Observe'), undefined);
        }
        const more = num < blocks - 1;
        d.reply(req, '2.05', body.subarray(num * 1024, (num + 1) * 1024), { format: 110, options: [{ name: 'Block2', value: block(num, more) }, { name: 'ETag', value: Buffer.from('e1') }] });
      }
      const res = await pending;
      assert.equal(res.records.length, 40);
      assert.equal(Buffer.from(res.payload).length, body.length);
    });

    it('writes a large value with Block1', async () => {
      await start();
      const d = await device(['ep=fw', 'lwm2m=1.1'], '</5/0>');
      const image = Buffer.alloc(2500, 0x5a);
      const pending = server.write('fw', '/5/0/0', [rec('/5/0/0', 'opaque', image)], { format: ContentFormat.Opaque });
      const got: Buffer[] = [];
      for (;;) {
        const req = await d.request();
        const b1 = uintOf(req, 'Block1')!;
        got.push(req.packet.payload);
        const more = (b1 & 8) !== 0;
        d.reply(req, more ? '2.31' : '2.04', '', { options: [{ name: 'Block1', value: encodeUint(b1) }] });
        if (!more) break;
      }
      assert.equal(got.length, 3);
      assert.deepEqual(Buffer.concat(got), image);
      assert.equal((await pending).code, '2.04');
    });

    it('times out with TimeoutError', async () => {
      await start();
      const d = await device();
      const pending = server.read('dev', '/3/0', { timeoutMs: 80 });
      await d.request();
      await assert.rejects(pending, TimeoutError);
    });
  });

  it('discovers, with attributes parsed', async () => {
    await start();
    const d = await device();
    const pending = server.discover('dev', '/3/0/7', { depth: 1 });
    const req = await d.request();
    assert.equal(uintOf(req, 'Accept'), ContentFormat.Link);
    assert.deepEqual(queryOf(req), ['depth=1']);
    d.reply(req, '2.05', '</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=-42.2,</3/0/7/0>,</3/0/7/1>;lt=45', { format: 40 });
    const res = await pending;
    assert.deepEqual(
      res.links.map((l) => [l.path.toString(), l.attributes]),
      [
        ['/3/0/7', { pmin: 10, pmax: 60, dim: 2, gt: 50, lt: -42.2 }],
        ['/3/0/7/0', {}],
        ['/3/0/7/1', { lt: 45 }],
      ],
    );
    assert.deepEqual(res.problems, []);
    await assert.rejects(server.discover('dev', '/3', { depth: 7 }), InvalidRequestError);
  });

  describe('write', () => {
    it('replaces with PUT and updates with POST, encoded in the chosen format', async () => {
      await start();
      const d = await device(['ep=dev', 'lwm2m=1.0'], '</3/0>');
      const records = [rec('/3/0/14', 'string', '+02:00'), rec('/3/0/15', 'string', 'Europe/Paris')];
      const replaced = server.write('dev', '/3/0', records);
      const put = await d.request();
      assert.equal(put.packet.code, '0.03');
      assert.equal(uintOf(put, 'Content-Format'), ContentFormat.Tlv);
      assert.deepEqual(plain(dec(ContentFormat.Tlv, put.packet.payload, '/3/0')), plain(records));
      d.reply(put, '2.04');
      const res = await replaced;
      assert.equal(res.code, '2.04');
      assert.deepEqual(res.records, []);

      const updated = server.write('dev', '/3/0', [records[0]!], { mode: 'update', format: ContentFormat.SenmlJson });
      const post = await d.request();
      assert.equal(post.packet.code, '0.02');
      assert.equal(uintOf(post, 'Content-Format'), ContentFormat.SenmlJson);
      assert.deepEqual(plain(dec(ContentFormat.SenmlJson, post.packet.payload)), plain([records[0]!]));
      d.reply(post, '2.04');
      await updated;

      const text = server.write('dev', '/3/0/14', [records[0]!], { format: ContentFormat.Text });
      const t = await d.request();
      assert.equal(t.packet.payload.toString(), '+02:00');
      d.reply(t, '4.05', 'read-only');
      await assert.rejects(text, (e: unknown) => e instanceof ResponseCodeError && e.code === '4.05' && e.diagnostic === 'read-only');
    });

    it('refuses records outside the target and values the format cannot carry, before sending', async () => {
      await start();
      const d = await device();
      await assert.rejects(server.write('dev', '/3/0', [rec('/1/0/1', 'integer', 5)]), InvalidRequestError);
      await assert.rejects(server.write('dev', '/3/0', []), InvalidRequestError);
      await assert.rejects(server.write('dev', '/3/0', [rec('/3/0/14', 'string', 'a'), rec('/3/0/15', 'string', 'b')], { format: ContentFormat.Text }), EncodeError);
      assert.equal(await d.peer.silentFor(50), true);
    });
  });

  describe('write-attributes', () => {
    it('sets with name=value and unsets with a bare name, no payload', async () => {
      await start();
      const d = await device();
      const pending = server.writeAttributes('dev', '/3303/0/5700', 'pmin=1&pmax=5&gt=-3.5&st');
      const req = await d.request();
      assert.equal(req.packet.code, '0.03');
      assert.deepEqual(queryOf(req), ['pmin=1', 'pmax=5', 'gt=-3.5', 'st']);
      assert.equal(req.packet.payload.length, 0);
      assert.equal(uintOf(req, 'Content-Format'), undefined);
      d.reply(req, '2.04');
      assert.equal((await pending).code, '2.04');

      const unset = server.writeAttributes('dev', '/3303/0', { pmin: null, pmax: 60 });
      const r2 = await d.request();
      assert.deepEqual(queryOf(r2), ['pmin', 'pmax=60']);
      d.reply(r2, '4.00', 'pmax below pmin');
      await assert.rejects(unset, ResponseCodeError);
    });

    it('validates names and values', () => {
      assert.deepEqual(parseAttributes('?pmin=10&stp=0.5'), { pmin: 10, st: 0.5 });
      assert.deepEqual(attributeQuery(parseAttributes('epmax=9&edge=1&con=0&hqmax=3')), ['epmax=9', 'hqmax=3', 'edge=1', 'con=0']);
      for (const bad of ['pmin=-1', 'pmin=x', 'dim=2', 'pmin=5&pmax=1', 'lt=5&gt=5', 'edge=2', 'pmin=1&pmin=2', '', 'st=-1']) {
        assert.throws(() => parseAttributes(bad), InvalidRequestError, bad);
      }
    });
  });

  describe('execute', () => {
    it('sends arguments as text/plain, and nothing without arguments', async () => {
      await start();
      const d = await device();
      const withArgs = server.execute('dev', '/3/0/4', [{ id: 0 }, { id: 1, value: 'https://x' }]);
      const req = await d.request();
      assert.equal(req.packet.code, '0.02');
      assert.equal(req.packet.payload.toString(), "0,1='https://x'");
      assert.equal(uintOf(req, 'Content-Format'), ContentFormat.Text);
      d.reply(req, '2.04');
      assert.equal((await withArgs).code, '2.04');

      const bare = server.execute('dev', '/3/0/4');
      const r2 = await d.request();
      assert.equal(r2.packet.payload.length, 0);
      assert.equal(uintOf(r2, 'Content-Format'), undefined);
      d.reply(r2, '4.05');
      await assert.rejects(bare, (e: unknown) => e instanceof ResponseCodeError && /Execute on a non-executable/.test(e.meaning));
    });

    it('parses and formats the argument grammar', () => {
      assert.deepEqual(parseExecuteArguments("0,1='https://x',5='a b'"), [{ id: 0 }, { id: 1, value: 'https://x' }, { id: 5, value: 'a b' }]);
      assert.deepEqual(parseExecuteArguments(''), []);
      assert.throws(() => parseExecuteArguments('12'), InvalidRequestError);
      assert.throws(() => parseExecuteArguments("1='x"), InvalidRequestError);
      assert.throws(() => formatExecuteArguments([{ id: 1, value: "it's" }]), InvalidRequestError);
    });
  });

  describe('create and delete', () => {
    it('creates with an instance id (SenML) and reads the id from the Location-Path', async () => {
      await start();
      const d = await device();
      const pending = server.create('dev', '/3303', [rec('/3303/7/5750', 'string', 'kitchen')]);
      const req = await d.request();
      assert.equal(req.packet.code, '0.02');
      assert.equal(pathOf(req), '/3303');
      assert.deepEqual(plain(dec(ContentFormat.SenmlJson, req.packet.payload)), [['/3303/7/5750', 'string', 'kitchen']]);
      d.reply(req, '2.01', '', { options: [{ name: 'Location-Path', value: Buffer.from('3303') }, { name: 'Location-Path', value: Buffer.from('7') }] });
      const res = await pending;
      assert.equal(res.instanceId, 7);
      assert.equal(res.location, '/3303/7');
    });

    it('creates without an instance id in TLV: bare resources, id from Location-Path', async () => {
      await start();
      const d = await device(['ep=dev', 'lwm2m=1.0'], '</3303>');
      const pending = server.create('dev', 3303, [rec('/3303/0/5750', 'string', 'hall')], { clientAssignsId: true });
      const req = await d.request();
      assert.equal(uintOf(req, 'Content-Format'), ContentFormat.Tlv);
      assert.equal(req.packet.payload[0]! & 0xc0, 0xc0, 'a resource TLV, not an instance wrapper');
      d.reply(req, '2.01', '', { options: [{ name: 'Location-Path', value: Buffer.from('3303') }, { name: 'Location-Path', value: Buffer.from('4') }] });
      assert.equal((await pending).instanceId, 4);

      const withId = server.create('dev', '/3303', [rec('/3303/9/5750', 'string', 'x')]);
      const r2 = await d.request();
      assert.equal(r2.packet.payload[0]! & 0xc0, 0x00, 'an object instance TLV carrying the id');
      assert.equal(r2.packet.payload[1], 9);
      d.reply(r2, '2.01');
      const created = await withId;
      assert.equal(created.instanceId, 9);
      assert.equal(created.location, undefined);
    });

    it('refuses a SenML Create without an id, several instances, and non-object targets', async () => {
      await start();
      await device();
      await assert.rejects(server.create('dev', '/3303', [rec('/3303/0/5750', 'string', 'x')], { clientAssignsId: true }), /only TLV/);
      await assert.rejects(server.create('dev', '/3303', [rec('/3303/0/5750', 'string', 'x'), rec('/3303/1/5750', 'string', 'y')]), InvalidRequestError);
      await assert.rejects(server.create('dev', '/3303/0', [rec('/3303/0/5750', 'string', 'x')]), InvalidRequestError);
    });

    it('deletes an instance', async () => {
      await start();
      const d = await device();
      const pending = server.delete('dev', '/3303/0');
      const req = await d.request();
      assert.equal(req.packet.code, '0.04');
      assert.equal(pathOf(req), '/3303/0');
      d.reply(req, '2.02');
      assert.equal((await pending).code, '2.02');
      const missing = server.delete('dev', '/3303/9');
      d.reply(await d.request(), '4.04');
      await assert.rejects(missing, (e: unknown) => e instanceof ResponseCodeError && e.target.operation === 'delete');
    });
  });

  describe('composite', () => {
    it('reads with FETCH / and a SenML path list', async () => {
      await start();
      const d = await device(['ep=dev', 'lwm2m=1.1'], '</>;rt="oma.lwm2m";ct=112,</3/0>,</3303/0>');
      const pending = server.readComposite('dev', ['/3/0/0', '/3303/0/5700']);
      const req = await d.request();
      assert.equal(req.packet.code, '0.05');
      assert.equal(pathOf(req), '/');
      assert.equal(uintOf(req, 'Content-Format'), ContentFormat.SenmlCbor);
      assert.equal(uintOf(req, 'Accept'), ContentFormat.SenmlCbor);
      assert.equal(req.packet.payload.toString('hex'), '82a100662f332f302f30a1006c2f333330332f302f35373030');
      d.reply(req, '2.05', enc(112, [rec('/3/0/0', 'string', 'ACME'), rec('/3303/0/5700', 'float', 22.5)]), { format: 112 });
      assert.deepEqual(plain((await pending).records), [
        ['/3/0/0', 'string', 'ACME'],
        ['/3303/0/5700', 'float', 22.5],
      ]);

      const json = server.readComposite('dev', ['/1/0'], { format: ContentFormat.SenmlJson });
      const r2 = await d.request();
      assert.equal(uintOf(r2, 'Content-Format'), ContentFormat.SenmlJson);
      assert.deepEqual(plain(dec(ContentFormat.SenmlJson, r2.packet.payload)), [['/1/0', 'none', null]]);
      d.reply(r2, '4.04');
      await assert.rejects(json, ResponseCodeError);
      await assert.rejects(server.readComposite('dev', []), InvalidRequestError);
      await assert.rejects(server.readComposite('dev', ['/3/0'], { format: ContentFormat.Tlv, requestFormat: ContentFormat.Tlv }), InvalidRequestError);
    });

    it('writes with iPATCH /', async () => {
      await start();
      const d = await device();
      const records = [rec('/3/0/14', 'string', '+02:00'), rec('/1/0/1', 'integer', 3600)];
      const pending = server.writeComposite('dev', records);
      const req = await d.request();
      assert.equal(req.packet.code, '0.07');
      assert.equal(pathOf(req), '/');
      assert.equal(uintOf(req, 'Content-Format'), ContentFormat.SenmlJson);
      assert.deepEqual(plain(dec(110, req.packet.payload)), plain(records));
      d.reply(req, '2.04');
      assert.equal((await pending).code, '2.04');
    });
  });

  describe('observe', () => {
    it('observes, emits decoded notifications, and cancels passively (RST on the next one)', async () => {
      await start();
      const d = await device();
      const notes: NotificationEvent[] = [];
      server.on('notification', (n) => notes.push(n));
      const pending = server.observe('dev', '/3303/0/5700');
      const req = await d.request();
      assert.equal(uintOf(req, 'Observe'), 0);
      assert.equal(uintOf(req, 'Accept'), ContentFormat.SenmlJson);
      d.reply(req, '2.05', '[{"n":"/3303/0/5700","v":20}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
      const res = await pending;
      assert.ok(res.observation);
      assert.deepEqual(plain(res.records), [['/3303/0/5700', 'float', 20]]);
      assert.equal(res.observation.path.toString(), '/3303/0/5700');
      assert.equal(res.observation.composite, false);

      d.notify(req, 2, '[{"n":"/3303/0/5700","v":21}]', 110);
      await d.peer.next();
      d.notify(req, 3, '[{"n":"/3303/0/5700","v":', 110, false);
      await until(() => notes.length === 2);
      assert.deepEqual(plain(notes[0]!.records), [['/3303/0/5700', 'float', 21]]);
      assert.equal(notes[0]!.sequence, 2);
      assert.equal(notes[0]!.endpoint, 'dev');
      assert.ok(notes[1]!.decodeError instanceof ResponseDecodeError, 'an undecodable notification carries the error');

      assert.equal(await server.cancelObservation('dev', '/3303/0/5700'), 1);
      assert.deepEqual(server.observations('dev'), []);
      const mid = d.notify(req, 4, '[{"n":"/3303/0/5700","v":22}]', 110);
      const rst = await d.peer.next();
      assert.equal(rst.packet.reset, true);
      assert.equal(rst.packet.messageId, mid);
      assert.equal(notes.length, 2);
    });

    it('cancels actively by id, and a plain 2.05 gives no observation', async () => {
      await start();
      const d = await device();
      const pending = server.observe('dev', '/3/0/9', { format: ContentFormat.Text, attributes: 'pmin=1' });
      const req = await d.request();
      assert.deepEqual(queryOf(req), ['pmin=1']);
      d.reply(req, '2.05', '90', { format: 0, options: [{ name: 'Observe', value: encodeUint(7) }] });
      const { observation } = await pending;
      const cancelling = server.cancelObservation('dev', observation!.id, { active: true });
      const cancel = await d.request();
      assert.deepEqual(cancel.packet.token, req.packet.token);
      assert.equal(uintOf(cancel, 'Observe'), 1);
      d.reply(cancel, '2.05', '91', { format: 0 });
      assert.equal(await cancelling, 1);

      const refused = server.observe('dev', '/3/0/9');
      d.reply(await d.request(), '2.05', '[{"n":"/3/0/9","v":90}]', { format: 110 });
      assert.equal((await refused).observation, undefined);
      assert.deepEqual(server.observations('dev'), []);
    });

    it('observes composite with FETCH Observe=0, notifies all paths, cancels with FETCH Observe=1 and the same payload', async () => {
      await start();
      const d = await device();
      const notes: NotificationEvent[] = [];
      server.on('notification', (n) => notes.push(n));
      const pending = server.observeComposite('dev', ['/3303/0/5700', '/3/0/9']);
      const req = await d.request();
      assert.equal(req.packet.code, '0.05');
      assert.equal(uintOf(req, 'Observe'), 0);
      assert.deepEqual(
        dec(ContentFormat.SenmlJson, req.packet.payload).map((r) => [r.path.toString(), r.value]),
        [
          ['/3303/0/5700', null],
          ['/3/0/9', null],
        ],
      );
      const body = '[{"n":"/3303/0/5700","v":20},{"n":"/3/0/9","v":80}]';
      d.reply(req, '2.05', body, { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
      const res = await pending;
      assert.equal(res.observation!.composite, true);
      assert.deepEqual(res.observation!.paths.map(String), ['/3303/0/5700', '/3/0/9']);
      d.notify(req, 2, '[{"n":"/3303/0/5700","v":21},{"n":"/3/0/9","v":79}]', 110, false);
      await until(() => notes.length === 1);
      assert.deepEqual(plain(notes[0]!.records), [
        ['/3303/0/5700', 'float', 21],
        ['/3/0/9', 'integer', 79],
      ]);
      const cancelling = server.cancelObservation('dev', '/', { active: true });
      const cancel = await d.request();
      assert.equal(cancel.packet.code, '0.05');
      assert.equal(uintOf(cancel, 'Observe'), 1);
      assert.deepEqual(cancel.packet.token, req.packet.token);
      assert.equal(cancel.packet.payload.toString(), req.packet.payload.toString());
      d.reply(cancel, '2.05', body, { format: 110 });
      assert.equal(await cancelling, 1);
    });

    it('follows an observed client to a new address (NAT rebinding): its notifications still count, and the cancel goes there', async () => {
      await start();
      const d = await device();
      const notes: NotificationEvent[] = [];
      server.on('notification', (n) => notes.push(n));
      const pending = server.observe('dev', '/3303/0/5700');
      const req = await d.request();
      d.reply(req, '2.05', '[{"n":"/3303/0/5700","v":20}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
      const { observation } = await pending;
      const moved = await FakeDevice.open(port);
      devices.push(moved);
      const mid = moved.notify(req, 2, '[{"n":"/3303/0/5700","v":25}]', 110);
      const ack = await moved.peer.next();
      assert.equal(ack.packet.ack, true, 'ACKed, not RST');
      assert.equal(ack.packet.messageId, mid);
      await until(() => notes.length === 1);
      assert.deepEqual(plain(notes[0]!.records), [['/3303/0/5700', 'float', 25]]);
      const cancelling = server.cancelObservation('dev', observation!.id, { active: true });
      const cancel = await moved.request();
      assert.equal(uintOf(cancel, 'Observe'), 1);
      moved.reply(cancel, '2.05', '[{"n":"/3303/0/5700","v":25}]', { format: 110 });
      assert.equal(await cancelling, 1);
      assert.equal(await d.peer.silentFor(30), true, 'nothing goes to the old address');
    });

    it('replaces an earlier observation of the same path', async () => {
      await start();
      const d = await device();
      const first = server.observe('dev', '/3/0/9');
      const r1 = await d.request();
      d.reply(r1, '2.05', '[{"n":"/3/0/9","v":1}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
      await first;
      const second = server.observe('dev', '/3/0/9');
      const r2 = await d.request();
      d.reply(r2, '2.05', '[{"n":"/3/0/9","v":1}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
      const { observation } = await second;
      assert.deepEqual(server.observations('dev'), [observation]);
      d.notify(r1, 2, '[{"n":"/3/0/9","v":2}]', 110);
      assert.equal((await d.peer.next()).packet.reset, true, 'the old token is forgotten');
    });
  });

  describe('send', () => {
    it('decodes a Send on /dp from a registered client, emits it and answers 2.04', async () => {
      await start();
      const d = await device();
      const sent: SendEvent[] = [];
      server.on('send', (e) => sent.push(e));
      const ok = await d.call('POST', ['dp'], [], '[{"bn":"/3303/0/","n":"5700","v":22.5,"t":1700000000},{"n":"5700","v":23,"t":1700000060}]', 110);
      assert.equal(ok.packet.code, '2.04');
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.endpoint, 'dev');
      assert.deepEqual(
        sent[0]!.records.map((r) => [r.path.toString(), r.value, r.time]),
        [
          ['/3303/0/5700', 22.5, 1700000000],
          ['/3303/0/5700', 23, 1700000060],
        ],
      );
      const cbor = await d.call('POST', ['dp'], [], enc(112, [rec('/3/0/9', 'integer', 77)]), 112);
      assert.equal(cbor.packet.code, '2.04');
      assert.deepEqual(plain(sent[1]!.records), [['/3/0/9', 'integer', 77]]);

      const broken = await d.call('POST', ['dp'], [], '[{"n":', 110);
      assert.equal(broken.packet.code, '4.00');
      assert.ok(sent[2]!.decodeError?.cause instanceof DecodeError);
      assert.equal((await d.call('POST', ['dp'], [], 'x', 4242)).packet.code, '4.15');
      assert.equal((await d.call('GET', ['dp'])).packet.code, '4.05');

      const stranger = await FakeDevice.open(port);
      devices.push(stranger);
      assert.equal((await stranger.call('POST', ['dp'], [], '[{"n":"/3/0/9","v":1}]', 110)).packet.code, '4.04');
      assert.equal(sent.length, 4);
    });
  });

  it('rejects every operation for an unknown client', async () => {
    await start();
    for (const op of [
      () => server.read('nobody', '/3/0'),
      () => server.discover('nobody', '/3'),
      () => server.write('nobody', '/3/0/14', [rec('/3/0/14', 'string', 'x')]),
      () => server.execute('nobody', '/3/0/4'),
      () => server.delete('nobody', '/3/0'),
      () => server.readComposite('nobody', ['/3/0']),
      () => server.observe('nobody', '/3/0'),
    ]) {
      await assert.rejects(op(), { name: 'ClientNotFoundError' });
    }
  });
});
