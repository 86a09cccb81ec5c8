/**
 * DTLS 1.2 PSK against plain UDP, loopback only, measured in one run.
 *
 *   node --import tsx bench/dtls.bench.ts [--round-ms 150] [--rounds 9]
 *
 * The servers run in a child process on 127.0.0.1 (ephemeral ports): a bare dgram echo and our
 * DtlsServer echoing application data. This process is the load generator. Every figure is a
 * ratio to plain UDP round trips measured interleaved with it (subject round, baseline round,
 * …; median of the rounds), so the machine's noise largely cancels out.
 *
 *   handshake            sequential full handshakes (cookie exchange included: 3 round trips)
 *                        by a new DtlsClient each, then close_notify; vs. one UDP round trip
 *   echo <suite>         one 100-byte record in flight: send, wait for the echo
 *   echo 32 in flight    CCM_8, 32 records in flight; vs. UDP with 32 datagrams in flight
 *   LwM2M Read           the product path: Lwm2mServer.read('/3/0/0') of a simulated device (in a
 *                        second child process) registered over CoAPS (CCM_8), one request in
 *                        flight; vs. the same Read of a twin device registered over plain CoAP
 *
 * Bounded: ((rounds + 1) × 2 × round-ms) per row, 7 rows: about 20 s with the defaults. Short,
 * many rounds: the machine is shared, and the median of many short rounds is the steadier figure.
 */

import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DtlsClient, DtlsServer } from '../src/core/dtls';
import { CIPHER_SUITES } from '../src/core/dtls/suites';
import { Lwm2mServer } from '../src/core/server/lwm2mServer';
import { SimulatedClient } from '../src/core/sim/client';
import { report, type BenchRow } from './lib';

const IDENTITY = 'bench-device';
const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const PAYLOAD = Buffer.alloc(100, 'p');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// ----- Server side (child process) ----------------------------------------------------------

async function serve(): Promise<void> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const dtls = new DtlsServer({ psk: (id) => (id === IDENTITY ? KEY : undefined) });
  dtls.on('message', (data, peer) => dtls.send(peer, data));
  const { port } = await dtls.bind(0, '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ udp: udp.address().port, dtls: port })}\n`);
  // Ends with the parent.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

// ----- Load generator -----------------------------------------------------------------------

/** Runs `step` (one operation, awaited) back to back for `ms`; returns operations per second. */
async function sequential(step: () => Promise<unknown>, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await step();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** Keeps `window` operations in flight for `ms` via `send` and a completion callback; ops/s. */
async function windowed(window: number, ms: number, send: () => void, onDone: (cb: () => void) => void): Promise<number> {
  let done = 0;
  let stop = false;
  const start = performance.now();
  let resolveEnd: () => void = () => {};
  const ended = new Promise<void>((r) => (resolveEnd = r));
  let inFlight = 0;
  onDone(() => {
    done++;
    inFlight--;
    if (!stop) {
      inFlight++;
      send();
    } else if (inFlight === 0) resolveEnd();
  });
  for (let i = 0; i < window; i++) {
    inFlight++;
    send();
  }
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  const elapsed = performance.now() - start;
  await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
  return (done * 1000) / elapsed;
}

/** A UDP client for the echo server: one awaited round trip, or a windowed stream. */
async function udpClient(port: number): Promise<{ roundTrip: () => Promise<void>; socket: dgram.Socket }> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let waiter: (() => void) | undefined;
  socket.on('message', () => waiter?.());
  return {
    socket,
    roundTrip: () =>
      new Promise<void>((resolve) => {
        waiter = resolve;
        socket.send(PAYLOAD, port, '127.0.0.1');
      }),
  };
}

async function dtlsClient(port: number, suite: number): Promise<{ client: DtlsClient; roundTrip: () => Promise<void> }> {
  const client = new DtlsClient({ cipherSuites: [suite] });
  await client.connect('127.0.0.1', port, IDENTITY, KEY);
  let waiter: (() => void) | undefined;
  client.on('message', () => waiter?.());
  return {
    client,
    roundTrip: () =>
      new Promise<void>((resolve) => {
        waiter = resolve;
        client.send(PAYLOAD);
      }),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Interleaves subject and baseline rounds; medians in ops/s. */
async function interleave(rounds: number, subject: () => Promise<number>, baseline: () => Promise<number>): Promise<{ subject: number; baseline: number }> {
  await subject(); // warm-up (JIT, first handshakes)
  await baseline();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await subject());
    b.push(await baseline());
  }
  return { subject: median(a), baseline: median(b) };
}

/** Second child: two simulated devices, one over CoAP and one over CoAPS, until the parent ends. */
async function simulate(coapPort: number, coapsPort: number): Promise<void> {
  const plain = new SimulatedClient({ server: `coap://127.0.0.1:${coapPort}`, endpoint: 'bench-plain', tickMs: 0 });
  const secure = new SimulatedClient({ server: `coaps://127.0.0.1:${coapsPort}`, endpoint: IDENTITY, psk: { identity: IDENTITY, key: KEY }, cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8'], tickMs: 0 });
  await Promise.all([plain.start(), secure.start()]);
  process.stdout.write('registered\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** LwM2M Read round trips through the server: over CoAPS against over CoAP. */
async function lwm2mReads(rounds: number, roundMs: number): Promise<{ subject: number; baseline: number }> {
  const server = new Lwm2mServer({ dtls: { port: 0, credentials: [{ identity: IDENTITY, key: KEY }] } });
  await server.start({ port: 0, address: '127.0.0.1' });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--simulate', String(server.address()!.port), String(server.secureAddress()!.port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    await once(createInterface({ input: child.stdout! }), 'line');
    const read = (endpoint: string) => () => server.read(endpoint, '/3/0/0', { format: 0 });
    return await interleave(rounds, () => sequential(read(IDENTITY), roundMs), () => sequential(read('bench-plain'), roundMs));
  } finally {
    child.stdin!.end();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const roundMs = arg('round-ms', 150);
  const rounds = arg('rounds', 9);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const ports = JSON.parse(line) as { udp: number; dtls: number };
  const rows: BenchRow[] = [];
  const udp = await udpClient(ports.udp);
  const udpRoundTrips = (): Promise<number> => sequential(udp.roundTrip, roundMs);
  const row = (name: string, m: { subject: number; baseline: number }, baseline: string, note?: string): void => {
    rows.push({ suite: 'dtls', name, opsPerSec: m.subject, baseline, baselineOpsPerSec: m.baseline, ratio: m.subject / m.baseline, note });
  };

  const handshake = async (): Promise<void> => {
    const c = new DtlsClient({ cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8'] });
    await c.connect('127.0.0.1', ports.dtls, IDENTITY, KEY);
    await c.close();
  };
  row('handshake (CCM_8, cookie exchange, new socket)', await interleave(rounds, () => sequential(handshake, roundMs), udpRoundTrips), 'udp round trip', 'a handshake is 3 round trips plus key derivation and socket setup');

  for (const suite of CIPHER_SUITES) {
    const d = await dtlsClient(ports.dtls, suite.id);
    row(`echo ${suite.name.replace('TLS_PSK_WITH_', '')} (100 B)`, await interleave(rounds, () => sequential(d.roundTrip, roundMs), udpRoundTrips), 'udp round trip (100 B)');
    await d.client.close();
  }

  const WINDOW = 32;
  const d = await dtlsClient(ports.dtls, 0xc0a8);
  const dtlsWindowed = (): Promise<number> => {
    d.client.removeAllListeners('message');
    return windowed(WINDOW, roundMs, () => d.client.send(PAYLOAD), (cb) => d.client.on('message', cb));
  };
  const udpWindowed = (): Promise<number> => {
    udp.socket.removeAllListeners('message');
    return windowed(WINDOW, roundMs, () => udp.socket.send(PAYLOAD, ports.udp, '127.0.0.1'), (cb) => udp.socket.on('message', cb));
  };
  row(`echo AES_128_CCM_8, ${WINDOW} in flight`, await interleave(rounds, dtlsWindowed, udpWindowed), `udp, ${WINDOW} in flight`);
  await d.client.close();

  row('LwM2M Read /3/0/0 over CoAPS (CCM_8)', await lwm2mReads(rounds, roundMs), 'the same Read over CoAP', 'Lwm2mServer.read of a simulated device, one in flight');

  udp.socket.close();
  child.stdin!.end();
  report(rows);
}

if (process.argv.includes('--serve')) void serve();
else if (process.argv.includes('--simulate')) {
  const i = process.argv.indexOf('--simulate');
  void simulate(Number(process.argv[i + 1]), Number(process.argv[i + 2]));
} else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
