/**
 * CoAP transport candidates against a raw UDP echo baseline, measured in one run.
 *
 *   node --import tsx bench/coap-transport.bench.ts [--duration 2000] [--window 64] [--rounds 2]
 *
 * Each server runs in its own child process on 127.0.0.1 (ephemeral port); this process is
 * the load generator: a bare dgram client keeping `window` CON GETs in flight and counting the
 * 2.05 answers (137-byte body). A request unanswered for 250 ms counts as lost and is replaced.
 * Runs are bounded: 0.5 s warm-up + `duration` per candidate and round (about 40 s in all).
 * Candidates alternate within each round and the best round counts, which damps the noise of
 * a shared machine; ratios are to the baseline's best in the same run.
 *
 * Candidates:
 *   udp-echo        answers each datagram with a prebuilt reply of the CoAP answer's size (MID/token copied)
 *   coap-packet     dgram + coap-packet parse/generate, nothing else
 *   transport       our CoapTransport, with the server's TrafficLog attached
 *   transport-bare  our CoapTransport without hooks
 *   node-coap       node-coap 1.5 createServer, default options
 * Last, our CoapTransport as a *client* (64 concurrent request() calls) against the coap-packet
 * server, compared with the bare dgram client on the same server.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import * as coapPacket from 'coap-packet';
import { Code, Method, serializeMessage } from '../src/core/coap/message';
import { OptionNumber, uintOption } from '../src/core/coap/options';
import { CoapTransport } from '../src/core/coap/transport';
import { TrafficLog } from '../src/core/server/traffic';

const KINDS = ['udp-echo', 'coap-packet', 'transport', 'transport-bare', 'node-coap'] as const;
type Kind = (typeof KINDS)[number];

const BODY = Buffer.alloc(137, 'v');
const LOSS_AFTER_MS = 250;
const WARMUP_MS = 500;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// ----- Server side (child process) ----------------------------------------------------------

/** The CoAP answer every candidate sends: ACK 2.05, 2-byte token, Content-Format 0, 137-byte body. */
function templateReply(): Buffer {
  return serializeMessage({
    type: 'ACK',
    code: Code.Content,
    mid: 0,
    token: Buffer.alloc(2),
    options: [uintOption(OptionNumber.ContentFormat, 0)],
    payload: BODY,
  });
}

async function serve(kind: Kind): Promise<{ port: number; extra: () => string }> {
  if (kind === 'udp-echo' || kind === 'coap-packet') {
    const sock = dgram.createSocket('udp4');
    const template = templateReply();
    sock.on('message', (msg, rinfo) => {
      let out: Buffer;
      if (kind === 'udp-echo') {
        out = Buffer.allocUnsafe(template.length);
        template.copy(out);
        out[2] = msg[2]!;
        out[3] = msg[3]!;
        out[4] = msg[4]!;
        out[5] = msg[5]!;
      } else {
        const req = coapPacket.parse(msg);
        out = coapPacket.generate({
          messageId: req.messageId,
          token: req.token,
          code: '2.05',
          ack: true,
          options: [{ name: 'Content-Format', value: Buffer.from([0]) }],
          payload: BODY,
        });
      }
      sock.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    return { port: sock.address().port, extra: () => '' };
  }
  if (kind === 'node-coap') {
    const coap = await import('coap');
    const server = coap.createServer((_req, res) => {
      res.setOption('Content-Format', 'text/plain');
      res.end(BODY);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const sock = (server as unknown as { _sock: dgram.Socket })._sock;
    return { port: sock.address().port, extra: () => '' };
  }
  const log = new TrafficLog(1000);
  const transport = new CoapTransport({
    onRequest: () => ({ code: Code.Content, contentFormat: 0, payload: BODY }),
    ...(kind === 'transport' ? { onTraffic: (e) => void log.addMessage(e) } : {}),
  });
  await transport.bind({ port: 0, address: '127.0.0.1' });
  return { port: transport.address()!.port, extra: () => `dedup=${transport.dedupSize}` };
}

async function childMain(kind: Kind): Promise<void> {
  const { port, extra } = await serve(kind);
  console.log(`PORT ${port}`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stats') {
      const mem = process.memoryUsage();
      console.log(`STATS ${mem.rss} heap=${Math.round(mem.heapUsed / 1e6)}MB ${extra()}`);
      process.exit(0);
    }
  }
}

// ----- Load generator (this process) --------------------------------------------------------

interface LoadResult {
  perSecond: number;
  lost: number;
}

/** Keeps `window` CON GETs in flight for warm-up + `durationMs`; counts answers in the measured part. */
async function rawLoad(port: number, window: number, durationMs: number): Promise<LoadResult> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const template = serializeMessage({
    type: 'CON',
    code: Method.GET,
    mid: 0,
    token: Buffer.from([0xbe, 0x00]),
    options: [{ number: OptionNumber.UriPath, value: Buffer.from('bench') }],
    payload: Buffer.alloc(0),
  });
  const inflight = new Map<number, number>();
  let mid = 0;
  let measuring = false;
  let answered = 0;
  let lost = 0;
  const sendOne = () => {
    mid = (mid + 1) & 0xffff;
    const out = Buffer.allocUnsafe(template.length);
    template.copy(out);
    out.writeUInt16BE(mid, 2);
    out[5] = mid & 0xff;
    inflight.set(mid, performance.now());
    sock.send(out, port, '127.0.0.1');
  };
  sock.on('message', (msg) => {
    const m = msg.readUInt16BE(2);
    if (!inflight.delete(m)) return;
    if (measuring && msg[1] === Code.Content) answered++;
    sendOne();
  });
  const sweeper = setInterval(() => {
    const limit = performance.now() - LOSS_AFTER_MS;
    for (const [m, t] of inflight) {
      if (t > limit) continue;
      inflight.delete(m);
      if (measuring) lost++;
      sendOne();
    }
  }, 50);
  for (let i = 0; i < window; i++) sendOne();
  await sleep(WARMUP_MS);
  measuring = true;
  const t0 = performance.now();
  await sleep(durationMs);
  measuring = false;
  const elapsed = performance.now() - t0;
  clearInterval(sweeper);
  sock.close();
  return { perSecond: (answered * 1000) / elapsed, lost };
}

/** Our transport as the client: `window` concurrent request() loops. */
async function transportClientLoad(port: number, window: number, durationMs: number): Promise<LoadResult> {
  const client = new CoapTransport({ requestTimeoutMs: LOSS_AFTER_MS });
  await client.bind({ port: 0, address: '127.0.0.1' });
  const peer = { address: '127.0.0.1', port };
  let measuring = false;
  let stop = false;
  let answered = 0;
  let lost = 0;
  const loop = async () => {
    while (!stop) {
      try {
        const res = await client.request(peer, { method: Method.GET, path: ['bench'] });
        if (measuring && res.code === Code.Content) answered++;
      } catch {
        if (measuring) lost++;
      }
    }
  };
  const loops = Array.from({ length: window }, loop);
  await sleep(WARMUP_MS);
  measuring = true;
  const t0 = performance.now();
  await sleep(durationMs);
  measuring = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(loops);
  await client.close();
  return { perSecond: (answered * 1000) / elapsed, lost };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function startServer(kind: Kind): Promise<{ child: ChildProcessWithoutNullStreams; port: number; stats: () => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve', kind], { stdio: 'pipe' });
  const lines = createInterface({ input: child.stdout });
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no "${prefix}" line within 15 s`)), 15_000);
      waiters.push((l) => {
        clearTimeout(timer);
        if (l.startsWith(prefix)) resolve(l.slice(prefix.length).trim());
        else reject(new Error(`${kind}: unexpected output "${l}"`));
      });
    });
  child.stderr.on('data', (d) => process.stderr.write(`[${kind}] ${d}`));
  return next('PORT').then((p) => ({
    child,
    port: Number(p),
    stats: async () => {
      const s = next('STATS');
      child.stdin.write('stats\n');
      return s;
    },
  }));
}

async function main(): Promise<void> {
  const durationMs = arg('duration', 2000);
  const window = arg('window', 64);
  const rounds = arg('rounds', 2);
  console.log(`CoAP transport bench: loopback, ${window} in flight, ${rounds} × ${durationMs} ms per candidate (+${WARMUP_MS} ms warm-up)\n`);
  const rows = KINDS.map((name) => ({ name, result: { perSecond: 0, lost: 0 }, rss: '', extra: '' }));
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const server = await startServer(row.name);
      const result = await rawLoad(server.port, window, durationMs);
      const [rss, ...extra] = (await server.stats()).split(' ');
      if (result.perSecond > row.result.perSecond) Object.assign(row, { result, rss: `${Math.round(Number(rss) / 1e6)} MB`, extra: extra.join(' ') });
    }
  }
  const server = await startServer('coap-packet');
  const rawClient = await rawLoad(server.port, window, durationMs);
  const ourClient = await transportClientLoad(server.port, window, durationMs);
  await server.stats();

  const base = rows[0]!.result.perSecond;
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad('server', 16)}${pad('req/s', 10)}${pad('ratio', 8)}${pad('lost', 8)}${pad('server RSS', 12)}notes`);
  for (const r of rows) {
    console.log(
      `${pad(r.name, 16)}${pad(Math.round(r.result.perSecond).toString(), 10)}${pad((r.result.perSecond / base).toFixed(2), 8)}${pad(String(r.result.lost), 8)}${pad(r.rss, 12)}${r.extra}`,
    );
  }
  console.log(`\nclient role against the coap-packet server:`);
  console.log(`${pad('raw dgram client', 24)}${Math.round(rawClient.perSecond)} req/s  (lost ${rawClient.lost})`);
  console.log(
    `${pad('CoapTransport.request()', 24)}${Math.round(ourClient.perSecond)} req/s  ratio ${(ourClient.perSecond / rawClient.perSecond).toFixed(2)}  (lost ${ourClient.lost})`,
  );
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) void childMain(process.argv[serveIndex + 1] as Kind);
else
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
