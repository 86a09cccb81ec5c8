/** N simulated clients from one process against our server over UDP. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContentFormat } from '../../../src/core/contentFormat';
import type { Lwm2mServer } from '../../../src/core/server/lwm2mServer';
import { parseServerUri } from '../../../src/core/sim/client';
import { Simulation, simulationEndpoints, startSimulation } from '../../../src/core/sim/simulation';
import type { SimEvent } from '../../../src/core/sim/events';
import { sleep, startServer, udpHandles, valuesOf } from './helpers';

describe('Simulation', () => {
  let server: Lwm2mServer;
  let uri: string;

  before(async () => {
    ({ server, uri } = await startServer());
  });
  after(async () => {
    await server.stop();
  });

  it('names endpoints NAME for one client and NAME-1 … NAME-N for several', () => {
    assert.deepEqual(simulationEndpoints(1, 'dev'), ['dev']);
    assert.deepEqual(simulationEndpoints(3, 'dev'), ['dev-1', 'dev-2', 'dev-3']);
    assert.throws(() => new Simulation({ server: uri, count: 0 }), RangeError);
  });

  it('parses server URIs', () => {
    assert.deepEqual(parseServerUri('coap://127.0.0.1:5699'), { uri: 'coap://127.0.0.1:5699', host: '127.0.0.1', port: 5699, secure: false });
    assert.deepEqual(parseServerUri('coap://[::1]'), { uri: 'coap://[::1]', host: '::1', port: 5683, secure: false });
    assert.deepEqual(parseServerUri('coaps://example.com'), { uri: 'coaps://example.com', host: 'example.com', port: 5684, secure: true });
    assert.throws(() => parseServerUri('http://example.com'), /only coap:\/\/ \(NoSec\) and coaps:\/\//);
    assert.throws(() => parseServerUri('not a uri'), /not a URI/);
  });

  it('runs 20 clients from one process with distinct endpoints and source ports, and stops them all cleanly', async () => {
    const handlesBefore = udpHandles();
    const events: SimEvent[] = [];
    const sim = new Simulation({ server: uri, endpoint: 'fleet', count: 20, lifetime: 60, tickMs: 200 });
    sim.on('event', (e) => events.push(e));
    const failed = await sim.start();
    assert.deepEqual(failed, []);
    const regs = server.registrations().filter((r) => r.endpoint.startsWith('fleet-'));
    assert.equal(regs.length, 20);
    assert.equal(new Set(regs.map((r) => r.endpoint)).size, 20);
    const ports = new Set(regs.map((r) => r.address.port));
    assert.equal(ports.size, 20, 'each client has its own source port');
    assert.deepEqual([...ports].sort(), sim.clients.map((c) => c.port!).sort());
    assert.equal(events.filter((e) => e.type === 'registered').length, 20);
    // Every one answers, with its own serial number.
    const serials = await Promise.all(sim.clients.map((c) => server.read(c.endpoint, '/3/0/2', { format: ContentFormat.Text })));
    assert.deepEqual(
      serials.map((r) => valuesOf(r.records)[0]),
      sim.clients.map((c) => `/3/0/2=SIM-${c.endpoint}`),
    );
    await sim.stop();
    assert.equal(server.registrations().filter((r) => r.endpoint.startsWith('fleet-')).length, 0);
    assert.equal(events.filter((e) => e.type === 'deregistered').length, 20);
    await sleep(10);
    assert.equal(udpHandles(), handlesBefore);
  });

  it('startSimulation rejects when no client can register', async () => {
    const dead = await startServer();
    const deadUri = dead.uri;
    await dead.server.stop();
    await assert.rejects(startSimulation({ server: deadUri, count: 2, requestTimeoutMs: 300, transport: { ackTimeoutMs: 100, maxRetransmit: 1 } }), /no response|no ACK|RST|Timeout/i);
  });
});
