/**
 * Bad DTLS records at the LwM2M server's CoAPS port (issue 7): a simulated client registered
 * over CoAPS through a UDP relay; replayed, truncated and garbled copies of its records, wrong
 * epochs and garbage are dropped and counted by the DTLS layer, never reach CoAP (no duplicate
 * Update, no traffic entry, no error), and the client keeps working. (DtlsServer alone:
 * test/unit/dtls/session.test.ts.)
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFormat } from '../../../src/core/contentFormat';
import type { Registration } from '../../../src/core/server/registration';
import { SimulatedClient } from '../../../src/core/sim/client';
import { Relay, until } from '../dtls/helpers';
import { nextEvent, startServer } from '../sim/helpers';

const KEY = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');

describe('Lwm2mServer CoAPS port under bad records', { timeout: 60_000 }, () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('drops replayed, truncated and garbled records and counts them; the registered client keeps working', async () => {
    const { server } = await startServer({ dtls: { port: 0, credentials: [{ identity: 'rec-dev', key: KEY }] } });
    cleanup.push(() => server.stop());
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const relay = await new Relay(server.secureAddress()!.port).start();
    cleanup.push(() => relay.close());
    const client = new SimulatedClient({ server: `coaps://127.0.0.1:${relay.port}`, psk: { identity: 'rec-dev', key: KEY }, endpoint: 'rec-dev', tickMs: 0, lifetime: 60, requestTimeoutMs: 5000, transport: { ackTimeoutMs: 300 } });
    cleanup.push(() => client.stop());
    await client.start();
    const reg = server.registration('rec-dev')!;
    assert.equal(reg.security, 'PSK');

    // An Update: its record is the one to replay and tamper with.
    const updates: Registration[] = [];
    server.on('updated', (r) => updates.push(r));
    await client.update();
    assert.equal(updates.length, 1);
    const update = relay.seen.filter((d) => d.direction === 'toServer').at(-1)!.datagram;
    assert.equal(update[0], 23, 'application data');
    const drops = server.dtls!.stats.dropped;
    const before = { ...drops };
    const coapIn = server.secureStats!.received;
    const traffic = server.traffic.size;

    relay.toServer(update); // replayed
    await until(() => drops.replayed === before.replayed + 1, 2000, 'the replay counted');

    relay.toServer(update.subarray(0, update.length - 4)); // truncated: the header's length runs past the end
    await until(() => drops.malformed === before.malformed + 1, 2000, 'the truncation counted');

    const garbled = Buffer.from(update);
    garbled.writeUIntBE(5000, 5, 6); // a fresh sequence number, so only the tag can reject it
    garbled[garbled.length - 5]! ^= 0x10;
    relay.toServer(garbled);
    await until(() => drops.authFailed === before.authFailed + 1, 2000, 'the garbled record counted');

    const wrongEpoch = Buffer.from(update);
    wrongEpoch.writeUInt16BE(3, 3);
    relay.toServer(wrongEpoch);
    await until(() => drops.badEpoch === before.badEpoch + 1, 2000, 'the wrong epoch counted');

    relay.toServer(Buffer.from('definitely not DTLS'));
    await until(() => drops.malformed === before.malformed + 2, 2000, 'the garbage counted');

    // Nothing reached CoAP: no second Update, no traffic entry, no error; the session and the registration stand.
    assert.equal(updates.length, 1);
    assert.equal(server.secureStats!.received, coapIn);
    assert.equal(server.traffic.size, traffic);
    assert.deepEqual(errors, []);
    assert.equal(server.dtls!.sessions().length, 1);
    assert.equal(server.registration('rec-dev')?.id, reg.id);

    // The client keeps working both ways.
    const read = await server.read('rec-dev', '/3/0/0', { format: ContentFormat.Text });
    assert.equal(read.records[0]?.value, 'LwM2M Workbench');
    const updated = nextEvent(client, 'updated');
    await client.update();
    await updated;
    assert.equal(updates.length, 2);
    assert.equal(drops.replayed, before.replayed + 1, 'fresh records are not taken for replays');
  });
});
