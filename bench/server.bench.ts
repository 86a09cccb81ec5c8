/**
 * LwM2M server benchmarks, loopback only, every figure next to a baseline measured in the same
 * run (bench/lib.ts `report`). About two minutes in all (`--quick`: about 30 s).
 *
 *   node --expose-gc --import tsx bench/server.bench.ts [--quick] [--only read|registration|notifications]
 *
 * 1. Read round trips/s: Lwm2mServer.read() (queue, CoAP exchange, TLV decode with the models)
 *    to 64 registered clients, one request in flight each, against a raw dgram client keeping
 *    64 CON GETs in flight to the same responder process. Target ≥ 0.6.
 * 2. Register + Update rate: a load generator in its own process (dgram + our message codec,
 *    not node-coap) sends Registers and Updates at stepped rates to the server in a third
 *    process; a step holds when nothing is lost (no answer within 2 s, or a kernel
 *    receive-buffer drop: RcvbufErrors in /proc/net/snmp) and p99 < 20 ms. Target ≥ 10 k/s;
 *    baseline: the same generator against a raw UDP echo at the top rate. The 20 s
 *    hold is run at 10 k/s (`--quick`: 5 s).
 * 3. Memory: the server process's RSS and heap with 10 k registered clients (after GC),
 *    against the idle server (target < 300 MB RSS); RSS after 60 s at 10 k/s (the 20 s hold and
 *    40 s more), without GC (target < 250 MB). `--quick`: 5 s + 5 s.
 * 4. Event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution) in the server process
 *    while 100 observed clients send 5 k CON notifications/s (SenML JSON, decoded with the
 *    models, emitted as events), against the same process idle. Target p99 < 10 ms.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Code, Method, parseMessage, serializeMessage, type CoapMessage } from '../src/core/coap/message';
import { OptionNumber as Opt, getStringOptions, getUintOption, stringOptions, uintOption } from '../src/core/coap/options';
import { Lwm2mServer } from '../src/core/server/lwm2mServer';
import { report, type BenchRow } from './lib';

const QUICK = process.argv.includes('--quick');
const HOST = '127.0.0.1';
const WINDOW = 64;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Kernel UDP receive-buffer drops so far (all sockets of the host). */
function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** A loopback socket with a 4 MiB receive buffer (as the server asks for), so that the generator's own drops stay out of the figures. */
async function openSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, r));
  s.setRecvBufferSize(4 * 1024 * 1024);
  return s;
}

// ----- Children -----------------------------------------------------------------------------

/** A TLV Device Manufacturer /3/0/0 answer, and a SenML JSON temperature for notifications. */
const READ_BODY = Buffer.concat([Buffer.from([0xc8, 0x00, 20]), Buffer.from('Open Mobile Alliance')]);

/**
 * Clients on one socket: registers `endpoints` endpoints with the server, answers every GET
 * with ACK 2.05 (TLV), accepts Observe, and on `notify RATE SECONDS` sends CON notifications
 * round-robin over the observations.
 */
async function responderChild(serverPort: number, endpoints: number): Promise<void> {
  const sock = await openSocket();
  const template = serializeMessage({ type: 'ACK', code: Code.Content, mid: 0, token: Buffer.alloc(8), options: [uintOption(Opt.ContentFormat, 11542)], payload: READ_BODY });
  const observations: { token: Buffer; seq: number }[] = [];
  const registered = new Set<number>();
  let onRegistered: (() => void) | undefined;
  sock.on('message', (buf, rinfo) => {
    const type = (buf[0]! >> 4) & 3;
    const tkl = buf[0]! & 0x0f;
    if (type === 2) {
      // ACK: of a Register (2.01) or of a notification (empty).
      if (buf[1] === Code.Created) {
        registered.add(buf.readUInt16BE(2));
        if (registered.size === endpoints) onRegistered?.();
      }
      return;
    }
    if (type !== 0 || buf[1] === 0) return;
    const msg = parseMessage(buf);
    if (getUintOption(msg.options, Opt.Observe) === 0) {
      observations.push({ token: Buffer.from(msg.token), seq: 1 });
      const res = serializeMessage({
        type: 'ACK',
        code: Code.Content,
        mid: msg.mid,
        token: msg.token,
        options: [uintOption(Opt.Observe, 1), uintOption(Opt.ContentFormat, 110)],
        payload: Buffer.from('[{"n":"/3303/0/5700","v":20.5}]'),
      });
      sock.send(res, rinfo.port, rinfo.address);
      return;
    }
    // Any other request: the Read answer, MID and token copied.
    const out = Buffer.allocUnsafe(template.length - 8 + tkl);
    out[0] = 0x60 | tkl;
    out[1] = Code.Content;
    out[2] = buf[2]!;
    out[3] = buf[3]!;
    buf.copy(out, 4, 4, 4 + tkl);
    template.copy(out, 4 + tkl, 12);
    sock.send(out, rinfo.port, rinfo.address);
  });
  // Register all endpoints (1.0: the server asks for TLV), 64 at a time.
  await new Promise<void>((resolve) => {
    onRegistered = resolve;
    if (endpoints === 0) resolve();
    for (let i = 0; i < endpoints; i++) {
      const msg: CoapMessage = {
        type: 'CON',
        code: Method.POST,
        mid: i,
        token: Buffer.from([i & 0xff, i >> 8]),
        options: [uintOption(Opt.ContentFormat, 40), ...stringOptions(Opt.UriPath, ['rd']), ...stringOptions(Opt.UriQuery, [`ep=bench-${i}`, 'lt=3600', 'lwm2m=1.0'])],
        payload: Buffer.from('</1/0>,</3/0>,</3303/0>'),
      };
      sock.send(serializeMessage(msg), serverPort, HOST);
    }
  });
  console.log(`READY ${sock.address().port}`);
  let mid = 20_000;
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b] = line.split(' ');
    if (cmd === 'notify') {
      const rate = Number(a);
      const seconds = Number(b);
      const started = performance.now();
      let sent = 0;
      let k = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const elapsed = performance.now() - started;
          const due = Math.min(rate * seconds, Math.floor((elapsed / 1000) * rate));
          while (sent < due) {
            const o = observations[k++ % observations.length]!;
            o.seq++;
            mid = (mid + 1) & 0xffff;
            const v = 20 + (o.seq % 100) / 10;
            const payload = Buffer.from(`[{"n":"/3303/0/5700","v":${v}}]`);
            const msg = serializeMessage({
              type: 'CON',
              code: Code.Content,
              mid,
              token: o.token,
              options: [uintOption(Opt.Observe, o.seq), uintOption(Opt.ContentFormat, 110)],
              payload,
            });
            sock.send(msg, serverPort, HOST);
            sent++;
          }
          if (sent >= rate * seconds) resolve();
          else setTimeout(tick, 1);
        };
        tick();
      });
      console.log(`DONE ${sent}`);
    } else if (cmd === 'quit') process.exit(0);
  }
}

/** The LwM2M server alone, with listeners as an embedding would have them. */
async function serverChild(): Promise<void> {
  const server = new Lwm2mServer({ expiryCheckMs: 1000 });
  let events = 0;
  let notifications = 0;
  let notificationValues = 0;
  for (const e of ['registered', 'updated', 'deregistered', 'replaced', 'expired'] as const) server.on(e, () => void events++);
  server.on('notification', (n) => {
    notifications++;
    notificationValues += n.records.length;
  });
  await server.start({ port: 0, address: HOST });
  console.log(`PORT ${server.address()!.port}`);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let eldNotifications = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const m = process.memoryUsage();
      console.log(`MEM ${m.rss} ${m.heapUsed} ${server.registrations().length} ${events}`);
    } else if (line === 'rss') {
      console.log(`MEM ${process.memoryUsage().rss} ${process.memoryUsage().heapUsed} ${server.registrations().length} ${events}`);
    } else if (line === 'observe-all') {
      const regs = server.registrations();
      const results = await Promise.all(regs.map((r) => server.observe(r.endpoint, '/3303/0/5700', { format: 110 }).then((x) => !!x.observation, () => false)));
      console.log(`OBSERVED ${results.filter(Boolean).length}`);
    } else if (line === 'eld-start') {
      eld.reset();
      eld.enable();
      eldNotifications = notifications;
    } else if (line === 'eld-stop') {
      eld.disable();
      const ms = (ns: number) => ns / 1e6;
      console.log(`ELD ${ms(eld.percentile(99))} ${ms(eld.max)} ${ms(eld.mean)} ${notifications - eldNotifications} ${notificationValues}`);
    } else if (line === 'quit') process.exit(0);
  }
}

/** Answers every CON with a prebuilt ACK 2.04 of the server's answer size (MID and token copied). */
async function echoChild(): Promise<void> {
  const sock = await openSocket();
  const template = serializeMessage({ type: 'ACK', code: Code.Created, mid: 0, token: Buffer.alloc(8), options: stringOptions(Opt.LocationPath, ['rd', '0123456789ab']), payload: Buffer.alloc(0) });
  sock.on('message', (buf, rinfo) => {
    const tkl = buf[0]! & 0x0f;
    const out = Buffer.allocUnsafe(template.length - 8 + tkl);
    out[0] = 0x60 | tkl;
    out[1] = Code.Created;
    out[2] = buf[2]!;
    out[3] = buf[3]!;
    buf.copy(out, 4, 4, 4 + tkl);
    template.copy(out, 4 + tkl, 12);
    sock.send(out, rinfo.port, rinfo.address);
  });
  console.log(`PORT ${sock.address().port}`);
  for await (const line of createInterface({ input: process.stdin })) if (line === 'quit') process.exit(0);
}

/**
 * The Register/Update load generator: `register N RATE PORT` registers N endpoints;
 * `mix RATE SECONDS PORT` sends 80 % Updates and 20 % re-Registers over them at RATE/s.
 * Answers: RESULT sent answered lost p50 p99 max (ms).
 */
async function loadgenChild(): Promise<void> {
  const SOCKETS = 4;
  const socks = await Promise.all(Array.from({ length: SOCKETS }, openSocket));
  const locations: string[] = [];
  let pending = new Map<number, { sent: number; ep: number }>();
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  let mid = 0;
  for (const s of socks) {
    s.on('message', (buf) => {
      const m = buf.readUInt16BE(2);
      const p = pending.get(m);
      if (!p) return;
      pending.delete(m);
      if (count < latencies.length) latencies[count++] = performance.now() - p.sent;
      if (buf[1] === Code.Created) {
        const msg = parseMessage(buf);
        locations[p.ep] = getStringOptions(msg.options, Opt.LocationPath)[1]!;
      }
    });
  }
  const links = Buffer.from('</>;rt="oma.lwm2m";ct=11542,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>,</5/0>');
  const register = (ep: number): CoapMessage => ({
    type: 'CON',
    code: Method.POST,
    mid,
    token: Buffer.from([mid >> 8, mid & 0xff, 0x42, 0x43]),
    options: [uintOption(Opt.ContentFormat, 40), ...stringOptions(Opt.UriPath, ['rd']), ...stringOptions(Opt.UriQuery, [`ep=lg-${ep}`, 'lt=600', 'lwm2m=1.1', 'b=U'])],
    payload: links,
  });
  const update = (ep: number): CoapMessage => ({
    type: 'CON',
    code: Method.POST,
    mid,
    token: Buffer.from([mid >> 8, mid & 0xff, 0x44]),
    options: [...stringOptions(Opt.UriPath, ['rd', locations[ep] ?? 'unknown']), ...(ep % 4 === 0 ? stringOptions(Opt.UriQuery, ['lt=600']) : [])],
    payload: Buffer.alloc(0),
  });
  /** Sends `total` messages at `rate`/s; resolves 2 s after the last with the figures. */
  const run = async (total: number, rate: number, port: number, make: (i: number) => { msg: CoapMessage; ep: number }) => {
    pending = new Map();
    latencies = new Float64Array(Math.max(total, 1));
    count = 0;
    const started = performance.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
        while (sent < due) {
          mid = (mid + 1) & 0xffff;
          const { msg, ep } = make(sent);
          msg.mid = mid;
          pending.set(mid, { sent: performance.now(), ep });
          socks[sent % SOCKETS]!.send(serializeMessage(msg), port, HOST);
          sent++;
        }
        if (sent >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const deadline = performance.now() + 2000;
    while (pending.size > 0 && performance.now() < deadline) await sleep(20);
    const l = latencies.subarray(0, count).sort();
    return `RESULT ${sent} ${count} ${pending.size} ${percentile(l, 0.5).toFixed(2)} ${percentile(l, 0.99).toFixed(2)} ${(l[l.length - 1] ?? 0).toFixed(2)}`;
  };
  console.log('READY');
  let endpoints = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b, c] = line.split(' ');
    if (cmd === 'register') {
      endpoints = Number(a);
      console.log(await run(endpoints, Number(b), Number(c), (i) => ({ msg: register(i), ep: i })));
    } else if (cmd === 'mix') {
      const rate = Number(a);
      let k = 0;
      console.log(
        await run(rate * Number(b), rate, Number(c), () => {
          const ep = k++ % endpoints;
          return k % 5 === 0 ? { msg: register(ep), ep } : { msg: update(ep), ep };
        }),
      );
    } else if (cmd === 'quit') process.exit(0);
  }
}

// ----- Parent side --------------------------------------------------------------------------

interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Next stdout line starting with `prefix` (its remainder). */
  next(prefix: string, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  quit(): void;
}

function startChild(kind: string, args: string[] = []): Child {
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', kind, ...args], { stdio: 'pipe' });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr.on('data', (d) => process.stderr.write(`[${kind}] ${d}`));
  const next = (prefix: string, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no "${prefix}" line within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const i = lines.findIndex((l) => l.startsWith(prefix));
        if (i >= 0) {
          clearTimeout(timer);
          resolve(lines.splice(i, 1)[0]!.slice(prefix.length).trim());
        } else waiters.push(check);
      };
      check();
    });
  return {
    proc,
    next,
    send: (line) => proc.stdin.write(`${line}\n`),
    quit: () => {
      proc.stdin.write('quit\n');
      setTimeout(() => proc.kill('SIGKILL'), 1000).unref();
    },
  };
}

/** 64 loops of server.read() for `ms`; reads per second. */
async function readLoad(server: Lwm2mServer, endpoints: string[], ms: number): Promise<number> {
  let stop = false;
  let done = 0;
  let failed = 0;
  const loop = async (ep: string) => {
    while (!stop) {
      try {
        const res = await server.read(ep, '/3/0/0', { timeoutMs: 2000 });
        if (res.records.length === 1) done++;
      } catch {
        failed++;
      }
    }
  };
  const loops = endpoints.map(loop);
  await sleep(200);
  const d0 = done;
  const t0 = performance.now();
  await sleep(ms);
  const rate = ((done - d0) * 1000) / (performance.now() - t0);
  stop = true;
  await Promise.all(loops);
  if (failed > 0) process.stderr.write(`read: ${failed} failed\n`);
  return rate;
}

/** A bare dgram client keeping `window` CON GETs in flight to `port` for `ms`; round trips per second. */
async function rawLoad(port: number, window: number, ms: number): Promise<number> {
  const sock = await openSocket();
  const template = serializeMessage({ type: 'CON', code: Method.GET, mid: 0, token: Buffer.alloc(8, 7), options: [...stringOptions(Opt.UriPath, ['3', '0', '0']), uintOption(Opt.Accept, 11542)], payload: Buffer.alloc(0) });
  const inflight = new Map<number, number>();
  let mid = 0;
  let answered = 0;
  const sendOne = () => {
    mid = (mid + 1) & 0xffff;
    const out = Buffer.allocUnsafe(template.length);
    template.copy(out);
    out.writeUInt16BE(mid, 2);
    out.writeUInt16BE(mid, 4);
    inflight.set(mid, performance.now());
    sock.send(out, port, HOST);
  };
  sock.on('message', (msg) => {
    if (!inflight.delete(msg.readUInt16BE(2))) return;
    answered++;
    sendOne();
  });
  const sweeper = setInterval(() => {
    const limit = performance.now() - 250;
    for (const [m, t] of inflight) {
      if (t > limit) continue;
      inflight.delete(m);
      sendOne();
    }
  }, 50);
  for (let i = 0; i < window; i++) sendOne();
  await sleep(200);
  const a0 = answered;
  const t0 = performance.now();
  await sleep(ms);
  const rate = ((answered - a0) * 1000) / (performance.now() - t0);
  clearInterval(sweeper);
  sock.close();
  return rate;
}

async function benchRead(rows: BenchRow[]): Promise<void> {
  const server = new Lwm2mServer();
  await server.start({ port: 0, address: HOST });
  const responder = startChild('responder', [String(server.address()!.port), String(WINDOW)]);
  const responderPort = Number(await responder.next('READY'));
  const endpoints = server.registrations().map((r) => r.endpoint);
  const ms = QUICK ? 700 : 1000;
  const rounds = QUICK ? 3 : 7;
  const ours: number[] = [];
  const raw: number[] = [];
  // Warm-up (JIT, caches) of both, not counted.
  await readLoad(server, endpoints, 500);
  await rawLoad(responderPort, WINDOW, 500);
  for (let round = 0; round < rounds; round++) {
    ours.push(await readLoad(server, endpoints, ms));
    raw.push(await rawLoad(responderPort, WINDOW, ms));
  }
  responder.quit();
  await server.stop();
  // Each round measures both back to back; the median of the per-round ratios damps the load
  // other processes put on the shared machine, which drifts between rounds.
  const ratios = ours.map((o, i) => o / raw[i]!);
  const ratio = median(ratios);
  rows.push({
    suite: 'server',
    name: `Read round trips, ${WINDOW} clients × 1 in flight (TLV decoded)`,
    opsPerSec: median(ours),
    baseline: `raw dgram client, ${WINDOW} CON GETs in flight, same responder`,
    baselineOpsPerSec: median(raw),
    ratio,
    target: '>= 0.6',
    pass: ratio >= 0.6,
    note: `median of ${rounds} interleaved rounds of ${ms} ms each; ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
  });
}

interface LoadResult {
  sent: number;
  answered: number;
  lost: number;
  p50: number;
  p99: number;
  max: number;
  drops: number;
}

async function load(gen: Child, command: string): Promise<LoadResult> {
  const before = rcvbufErrors();
  gen.send(command);
  const [sent, answered, lost, p50, p99, max] = (await gen.next('RESULT', 120_000)).split(' ').map(Number);
  return { sent: sent!, answered: answered!, lost: lost!, p50: p50!, p99: p99!, max: max!, drops: rcvbufErrors() - before };
}

const held = (r: LoadResult) => r.lost === 0 && r.drops === 0 && r.p99 < 20;
const describe = (r: LoadResult) => `${r.answered}/${r.sent} answered, lost ${r.lost}, drops ${r.drops}, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`;

async function mem(server: Child, cmd: 'mem' | 'rss'): Promise<{ rss: number; heap: number; regs: number }> {
  server.send(cmd);
  const [rss, heap, regs] = (await server.next('MEM')).split(' ').map(Number);
  return { rss: rss! / 1e6, heap: heap! / 1e6, regs: regs! };
}

async function benchRegistration(rows: BenchRow[]): Promise<void> {
  const server = startChild('server');
  const port = Number(await server.next('PORT'));
  const gen = startChild('loadgen');
  await gen.next('READY');
  const echo = startChild('echo');
  const echoPort = Number(await echo.next('PORT'));
  await sleep(300);

  const idle = await mem(server, 'mem');
  const CLIENTS = 10_000;
  const reg = await load(gen, `register ${CLIENTS} 10000 ${port}`);
  const full = await mem(server, 'mem');
  rows.push({
    suite: 'server',
    name: `memory with ${full.regs} registered clients (RSS after GC)`,
    opsPerSec: full.regs,
    baseline: 'idle server RSS',
    baselineOpsPerSec: idle.rss,
    ratio: full.rss / idle.rss,
    target: '< 300 MB',
    pass: full.rss < 300 && full.regs === CLIENTS,
    note: `RSS ${full.rss.toFixed(0)} MB (idle ${idle.rss.toFixed(0)} MB), heap ${full.heap.toFixed(1)} MB (idle ${idle.heap.toFixed(1)} MB, ${(((full.heap - idle.heap) * 1e6) / CLIENTS / 1000).toFixed(2)} kB per client); registering: ${describe(reg)}`,
  });

  const steps = QUICK ? [10_000, 20_000] : [5_000, 10_000, 15_000, 20_000];
  const stepSeconds = QUICK ? 2 : 4;
  let best = 0;
  const notes: string[] = [];
  for (const rate of steps) {
    // Two tries per step: a pause of the shared machine (or of the generator) in one 4 s
    // window should not decide the figure; a step holds when one try is clean.
    let ok = false;
    for (let attempt = 0; attempt < 2 && !ok; attempt++) {
      const r = await load(gen, `mix ${rate} ${stepSeconds} ${port}`);
      notes.push(`${rate / 1000} k/s${attempt ? ' (2nd try)' : ''}: ${describe(r)}`);
      ok = held(r);
    }
    if (!ok) break;
    best = rate;
  }
  const top = steps[steps.length - 1]!;
  const e = await load(gen, `mix ${top} ${stepSeconds} ${echoPort}`);
  const echoHeld = held(e) ? top : 0;
  rows.push({
    suite: 'server',
    name: `Register+Update rate held loss-free ${stepSeconds} s per step (best of 2), p99 < 20 ms (80 % Update, 20 % re-Register)`,
    opsPerSec: best,
    baseline: `same generator vs raw UDP echo at ${top / 1000} k/s`,
    baselineOpsPerSec: echoHeld,
    ratio: echoHeld ? best / echoHeld : undefined,
    target: '>= 10 k/s',
    pass: best >= 10_000,
    note: `${notes.join('; ')}; echo: ${describe(e)}`,
  });

  const holdSeconds = QUICK ? 5 : 20;
  const h = await load(gen, `mix 10000 ${holdSeconds} ${port}`);
  // Full load goes on to a total of 60 s (the figure for RSS), then RSS without GC.
  const moreSeconds = QUICK ? 5 : 40;
  const h2 = await load(gen, `mix 10000 ${moreSeconds} ${port}`);
  const after = await mem(server, 'rss');
  rows.push({
    suite: 'server',
    name: `Register+Update held at 10 k/s for ${holdSeconds} s`,
    opsPerSec: (h.answered / holdSeconds) | 0,
    baseline: 'offered rate',
    baselineOpsPerSec: h.sent / holdSeconds,
    ratio: h.answered / h.sent,
    target: 'no loss, p99 < 20 ms',
    pass: held(h),
    note: describe(h),
  });
  rows.push({
    suite: 'server',
    name: `RSS after ${holdSeconds + moreSeconds} s at 10 k/s Register+Update (no forced GC)`,
    opsPerSec: after.regs,
    baseline: 'RSS with 10 k clients after GC',
    baselineOpsPerSec: full.rss,
    ratio: after.rss / full.rss,
    target: '< 250 MB',
    pass: after.rss < 250,
    note: `RSS ${after.rss.toFixed(0)} MB, heap ${after.heap.toFixed(1)} MB, ${after.regs} registrations; the last ${moreSeconds} s: ${describe(h2)}`,
  });
  server.quit();
  gen.quit();
  echo.quit();
}

async function benchNotifications(rows: BenchRow[]): Promise<void> {
  const server = startChild('server');
  const port = Number(await server.next('PORT'));
  const CLIENTS = 100;
  const responder = startChild('responder', [String(port), String(CLIENTS)]);
  await responder.next('READY');
  server.send('observe-all');
  const observed = Number(await server.next('OBSERVED'));
  await sleep(300);

  const seconds = QUICK ? 3 : 6;
  server.send('eld-start');
  await sleep(seconds * 1000);
  server.send('eld-stop');
  const [idleP99, idleMax] = (await server.next('ELD')).split(' ').map(Number);

  server.send('eld-start');
  const before = rcvbufErrors();
  responder.send(`notify 5000 ${seconds}`);
  const sent = Number(await responder.next('DONE', 60_000));
  await sleep(300);
  server.send('eld-stop');
  const [p99, max, mean, received] = (await server.next('ELD')).split(' ').map(Number);
  const drops = rcvbufErrors() - before;
  rows.push({
    suite: 'server',
    name: `event-loop p99 delay at 5 k notifications/s (${observed} observations, CON, SenML JSON)`,
    opsPerSec: (received! * 1000) / (seconds * 1000 + 300),
    baseline: 'same server idle, p99 ms',
    baselineOpsPerSec: idleP99,
    ratio: p99! / idleP99!,
    target: 'p99 < 10 ms',
    pass: p99! < 10,
    note: `p99 ${p99!.toFixed(2)} ms, max ${max!.toFixed(1)} ms, mean ${mean!.toFixed(2)} ms under load (idle p99 ${idleP99!.toFixed(2)} ms, max ${idleMax!.toFixed(1)} ms); ${received}/${sent} notifications delivered, ${drops} kernel drops`,
  });
  server.quit();
  responder.quit();
}

async function main(): Promise<void> {
  const started = performance.now();
  const rows: BenchRow[] = [];
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (!only || only === 'read') await benchRead(rows);
  if (!only || only === 'registration') await benchRegistration(rows);
  if (!only || only === 'notifications') await benchNotifications(rows);
  report(rows);
  process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const [kind, a, b] = process.argv.slice(childIndex + 1);
  const run = kind === 'responder' ? responderChild(Number(a), Number(b)) : kind === 'server' ? serverChild() : kind === 'echo' ? echoChild() : loadgenChild();
  run.catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
