/**
 * `lwm2m-workbench serve` as a process (node --import tsx src/cli/main.ts serve --port 0):
 * a raw-socket client registers, commands go in through stdin, and every JSON line that comes
 * out is checked against the documented schema.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeUint } from '../../../src/core/coap/options';
import { tokenize } from '../../../src/cli/serve';
import { SimulatedClient } from '../../../src/core/sim';
import { FakeDevice, pathOf, queryOf, uintOf } from '../server/device';

const root = join(__dirname, '..', '..', '..');

type Line = Record<string, unknown> & { event?: string; command?: string; seq?: number; ok?: boolean; result?: Record<string, unknown>; error?: Record<string, unknown> };

class ServeProcess {
  readonly lines: Line[] = [];
  private readonly waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.pred(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    child.stderr.on('data', (d) => (this.stderr += String(d)));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static start(args: string[] = []): ServeProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', '--port', '0', '--bind', '127.0.0.1', ...args], {
      cwd: root,
      stdio: 'pipe',
    });
    return new ServeProcess(child);
  }

  /** The first line (seen or to come) matching `pred`. */
  wait(pred: (l: Line) => boolean, timeoutMs = 10_000): Promise<Line> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms; got:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  private seq = 0;

  /** Sends a command; resolves with its reply. */
  send(command: string): Promise<Line> {
    const n = ++this.seq;
    this.child.stdin.write(command + '\n');
    return this.wait((l) => l.command !== undefined && l.seq === n);
  }
}

describe('serve (process)', () => {
  let proc: ServeProcess;
  let port: number;
  let dev: FakeDevice;
  let dir = '';

  before(async () => {
    // The bootstrap configuration points clients at this server; its port is known only once it
    // listens, so the file names the default port and the test checks what the session wrote.
    dir = mkdtempSync(join(tmpdir(), 'lwm2m-serve-'));
    const config = join(dir, 'bootstrap.json');
    writeFileSync(config, JSON.stringify({ version: 1, default: { servers: [{ shortServerId: 101, uri: 'coap://127.0.0.1:5683', security: { mode: 'NoSec' } }] } }));
    proc = ServeProcess.start(['--bootstrap-port', '0', '--bootstrap-config', config]);
    const listening = await proc.wait((l) => l.event === 'listening', 30_000);
    port = listening.port as number;
    dev = await FakeDevice.open(port);
  });

  after(async () => {
    proc.child.kill('SIGKILL');
    await dev?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints listening first, then the bootstrap server on its own port', async () => {
    assert.equal(proc.lines[0]!.event, 'listening');
    assert.equal(proc.lines[0]!.address, '127.0.0.1');
    assert.equal(typeof proc.lines[0]!.time, 'string');
    assert.ok(port > 0);
    const bs = await proc.wait((l) => l.event === 'bootstrap' && l.step === 'listening');
    assert.notEqual(bs.port, port);
  });

  it('runs a bootstrap session with an event per step', async () => {
    const bs = await proc.wait((l) => l.event === 'bootstrap' && l.step === 'listening');
    const client = await FakeDevice.open(bs.port as number);
    try {
      assert.equal((await client.call('POST', ['bs'], ['ep=bs-dev'])).packet.code, '2.04');
      const seen: string[] = [];
      for (;;) {
        const req = await client.request(5000);
        seen.push(`${req.packet.code} ${pathOf(req)}`);
        const answer = req.packet.code === '0.04' ? '2.02' : req.packet.code === '0.01' ? '2.05' : '2.04';
        client.reply(req, answer, req.packet.code === '0.01' ? '</>;lwm2m=1.1' : '', req.packet.code === '0.01' ? { format: 40 } : {});
        if (req.packet.code === '0.02' && pathOf(req) === '/bs') break;
      }
      assert.ok(seen.includes('0.04 /'), seen.join(', '));
      assert.ok(seen.some((x) => x.startsWith('0.03 /0/')), seen.join(', '));
      assert.ok(seen.some((x) => x.startsWith('0.03 /1/')), seen.join(', '));
      const done = await proc.wait((l) => l.event === 'bootstrap' && l.step === 'done');
      assert.equal(done.endpoint, 'bs-dev');
      assert.deepEqual(done.servers, ['coap://127.0.0.1:5683']);
      const steps = proc.lines.filter((l) => l.event === 'bootstrap' && l.endpoint === 'bs-dev').map((l) => l.step);
      assert.equal(steps[0], 'request');
      assert.ok(steps.includes('delete') && steps.includes('write') && steps.includes('finish'), steps.join(', '));
    } finally {
      await client.close();
    }
  });

  it('prints registered and answers list', async () => {
    await dev.register(['ep=cli-dev', 'lwm2m=1.1', 'lt=300'], '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>');
    const reg = await proc.wait((l) => l.event === 'registered');
    assert.equal(reg.endpoint, 'cli-dev');
    const r = reg.registration as Record<string, unknown>;
    assert.equal(r.lifetime, 300);
    assert.equal(r.address, `127.0.0.1:${dev.port}`);
    assert.deepEqual(r.objects, [
      { id: 1, instances: [0] },
      { id: 3, instances: [0] },
      { id: 3303, version: '1.1', instances: [0] },
    ]);
    const list = await proc.send('list');
    assert.equal(list.ok, true);
    assert.equal(list.command, 'list');
    assert.deepEqual(
      (list.result!.registrations as { endpoint: string }[]).map((x) => x.endpoint),
      ['cli-dev'],
    );
  });

  it('reads, with nodes in the decode JSON shape', async () => {
    const reply = proc.send('read cli-dev /3303/0');
    const req = await dev.request();
    assert.equal(pathOf(req), '/3303/0');
    assert.equal(uintOf(req, 'Accept'), 110);
    dev.reply(req, '2.05', '[{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5701","vs":"Cel"}]', { format: 110 });
    const line = await reply;
    assert.deepEqual(line.result, {
      code: '2.05',
      rtt: line.result!.rtt,
      format: 'senml-json',
      path: '/3303/0',
      nodes: [
        { path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 21.5 },
        { path: '/3303/0/5701', name: 'Sensor Units', type: 'string', value: 'Cel' },
      ],
      payload: Buffer.from('[{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5701","vs":"Cel"}]').toString('hex'),
    });

    const text = proc.send('read cli-dev /3/0/0 --format text');
    const r2 = await dev.request();
    assert.equal(uintOf(r2, 'Accept'), 0);
    dev.reply(r2, '4.04', 'gone');
    const failed = await text;
    assert.equal(failed.ok, false);
    assert.deepEqual(failed.error, {
      name: 'ResponseCodeError',
      message: failed.error!.message,
      code: '4.04',
      meaning: failed.error!.meaning,
      diagnostic: 'gone',
    });
    assert.match(String(failed.error!.meaning), /Not Found/);
  });

  it('discovers, writes (value and JSON nodes), writes attributes, executes, creates and deletes', async () => {
    const disc = proc.send('discover cli-dev /3/0/7');
    const d = await dev.request();
    dev.reply(d, '2.05', '</3/0/7>;dim=2;pmin=10', { format: 40 });
    assert.deepEqual((await disc).result!.links, [{ path: '/3/0/7', attributes: { dim: 2, pmin: 10 } }]);

    const w = proc.send('write cli-dev /3/0/14 "+02:00" --format text');
    const wr = await dev.request();
    assert.equal(wr.packet.code, '0.03');
    assert.equal(wr.packet.payload.toString(), '+02:00');
    dev.reply(wr, '2.04');
    assert.deepEqual((await w).result, { code: '2.04', rtt: (await w).result!.rtt });

    const wj = proc.send('write cli-dev /3303/0 --json [{"path": "/3303/0/5750", "value": "hall way"}] --update');
    const wjr = await dev.request();
    assert.equal(wjr.packet.code, '0.02');
    assert.equal(uintOf(wjr, 'Content-Format'), 110);
    assert.match(wjr.packet.payload.toString(), /"vs":"hall way"/);
    dev.reply(wjr, '2.04');
    assert.equal((await wj).ok, true);

    const wa = proc.send('write-attributes cli-dev /3303/0/5700 pmin=1&pmax=5&st');
    const war = await dev.request();
    assert.deepEqual(queryOf(war), ['pmin=1', 'pmax=5', 'st']);
    dev.reply(war, '2.04');
    assert.equal((await wa).ok, true);

    const ex = proc.send("execute cli-dev /3/0/4 0,1='a b'");
    const exr = await dev.request();
    assert.equal(exr.packet.payload.toString(), "0,1='a b'");
    dev.reply(exr, '2.04');
    assert.equal((await ex).ok, true);

    const cr = proc.send('create cli-dev /3303 --json {"nodes":[{"path":"/3303/2/5750","value":"attic"}]}');
    const crr = await dev.request();
    assert.equal(pathOf(crr), '/3303');
    dev.reply(crr, '2.01', '', { options: [{ name: 'Location-Path', value: Buffer.from('3303') }, { name: 'Location-Path', value: Buffer.from('2') }] });
    assert.deepEqual((await cr).result, { code: '2.01', rtt: (await cr).result!.rtt, instanceId: 2, location: '/3303/2' });

    const del = proc.send('delete cli-dev /3303/2');
    const delr = await dev.request();
    assert.equal(delr.packet.code, '0.04');
    dev.reply(delr, '2.02');
    assert.equal((await del).result!.code, '2.02');
  });

  it('observes (notification events), cancels actively, and runs composite operations', async () => {
    const obs = proc.send('observe cli-dev /3303/0/5700');
    const req = await dev.request();
    assert.equal(uintOf(req, 'Observe'), 0);
    dev.reply(req, '2.05', '[{"n":"/3303/0/5700","v":20}]', { format: 110, options: [{ name: 'Observe', value: encodeUint(1) }] });
    const observed = await obs;
    const observation = observed.result!.observation as { id: string; path: string };
    assert.equal(observation.path, '/3303/0/5700');
    dev.notify(req, 2, '[{"n":"/3303/0/5700","v":21.5}]', 110, false);
    const note = await proc.wait((l) => l.event === 'notification');
    assert.equal(note.endpoint, 'cli-dev');
    assert.equal(note.observation, observation.id);
    assert.equal(note.sequence, 2);
    assert.deepEqual(note.nodes, [{ path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 21.5 }]);
    const listed = await proc.send('observations cli-dev');
    assert.equal((listed.result!.observations as unknown[]).length, 1);

    const cancel = proc.send('cancel cli-dev /3303/0/5700 --active');
    const c = await dev.request();
    assert.equal(uintOf(c, 'Observe'), 1);
    dev.reply(c, '2.05', '[{"n":"/3303/0/5700","v":21.5}]', { format: 110 });
    assert.deepEqual((await cancel).result, { cancelled: 1 });
    await proc.wait((l) => l.event === 'observation-ended');

    const rc = proc.send('read-composite cli-dev /3/0/0 /3303/0/5700');
    const rcr = await dev.request();
    assert.equal(rcr.packet.code, '0.05');
    dev.reply(rcr, '2.05', '[{"n":"/3/0/0","vs":"ACME"},{"n":"/3303/0/5700","v":22}]', { format: 110 });
    assert.deepEqual(
      ((await rc).result!.nodes as { path: string; value: unknown }[]).map((n) => [n.path, n.value]),
      [
        ['/3/0/0', 'ACME'],
        ['/3303/0/5700', 22],
      ],
    );

    const wc = proc.send('write-composite cli-dev --json [{"path":"/3/0/14","value":"+01:00"},{"path":"/1/0/1","value":60}]');
    const wcr = await dev.request();
    assert.equal(wcr.packet.code, '0.07');
    dev.reply(wcr, '2.04');
    assert.equal((await wc).result!.code, '2.04');
  });

  it('prints Send events and answers malformed commands with one error line each', async () => {
    assert.equal((await dev.call('POST', ['dp'], [], '[{"n":"/3303/0/5700","v":19.5}]', 110)).packet.code, '2.04');
    const sent = await proc.wait((l) => l.event === 'send');
    assert.deepEqual(sent.nodes, [{ path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 19.5 }]);

    for (const [command, name] of [
      ['frobnicate', 'UsageError'],
      ['read cli-dev', 'UsageError'],
      ['read cli-dev /3/x', 'UsageError'],
      ['read nobody /3/0', 'ClientNotFoundError'],
      ['write cli-dev /3/0/14', 'UsageError'],
      ['write-attributes cli-dev /3/0 pmin=x', 'InvalidRequestError'],
      ['read cli-dev /3/0 --format nope', 'UsageError'],
      ['write cli-dev /3/0 --json [{"path":"/3/0/1"', 'UsageError'],
    ] as const) {
      const line = await proc.send(command);
      assert.equal(line.ok, false, command);
      assert.equal(line.command, command);
      assert.equal(line.error!.name, name, `${command}: ${String(line.error!.message)}`);
    }
  });

  it('prints deregistered, and stops cleanly at end of input with a last "stopped" line', async () => {
    assert.equal((await dev.call('DELETE', dev.location)).packet.code, '2.02');
    await proc.wait((l) => l.event === 'deregistered');
    proc.child.stdin.end();
    assert.equal(await proc.exited, 0);
    assert.equal(proc.lines[proc.lines.length - 1]!.event, 'stopped');
    const seqs = proc.lines.filter((l) => l.command !== undefined).map((l) => l.seq);
    assert.deepEqual(
      seqs.sort((a, b) => a! - b!),
      seqs.map((_, i) => i + 1),
      'exactly one reply per command',
    );
  });
});

describe('serve with a simulated client (src/core/sim)', () => {
  it('answers every command against a simulated device', async () => {
    const proc = ServeProcess.start();
    let client: SimulatedClient | undefined;
    try {
      const listening = await proc.wait((l) => l.event === 'listening', 30_000);
      client = new SimulatedClient({ server: `coap://127.0.0.1:${listening.port as number}`, endpoint: 'sim-cli', tickMs: 0, lifetime: 120 });
      await client.start();
      await proc.wait((l) => l.event === 'registered' && l.endpoint === 'sim-cli');

      const read = await proc.send('read sim-cli /3/0');
      assert.equal(read.ok, true, JSON.stringify(read.error));
      const nodes = read.result!.nodes as { path: string; name?: string }[];
      assert.ok(nodes.some((n) => n.path === '/3/0/0' && n.name === 'Manufacturer'), JSON.stringify(nodes.slice(0, 3)));

      const write = await proc.send('write sim-cli /3311/0/5850 1');
      assert.equal(write.ok, true, JSON.stringify(write.error));
      const back = await proc.send('read sim-cli /3311/0/5850 --format text');
      assert.deepEqual((back.result!.nodes as { value: unknown }[]).map((n) => n.value), [true]);
      // Booleans may be typed as people say them.
      const off = await proc.send('write sim-cli /3311/0/5850 false');
      assert.equal(off.ok, true, JSON.stringify(off.error));
      const backOff = await proc.send('read sim-cli /3311/0/5850 --format text');
      assert.deepEqual((backOff.result!.nodes as { value: unknown }[]).map((n) => n.value), [false]);

      const disc = await proc.send('discover sim-cli /3303/0');
      assert.equal(disc.ok, true, JSON.stringify(disc.error));
      assert.ok((disc.result!.links as { path: string }[]).some((l) => l.path === '/3303/0/5700'));

      const comp = await proc.send('read-composite sim-cli /3/0/0 /3303/0/5700');
      assert.deepEqual(
        (comp.result!.nodes as { path: string }[]).map((n) => n.path),
        ['/3/0/0', '/3303/0/5700'],
      );
      const missing = await proc.send('read sim-cli /3/9');
      assert.equal(missing.ok, false);
      assert.equal(missing.error!.code, '4.04');

      await client.stop({ deregister: true });
      await proc.wait((l) => l.event === 'deregistered' && l.endpoint === 'sim-cli');
    } finally {
      await client?.stop();
      proc.child.kill('SIGKILL');
    }
  });
});

describe('serve stops on SIGINT', () => {
  it('exits 0 after printing stopped', async () => {
    const proc = ServeProcess.start();
    await proc.wait((l) => l.event === 'listening', 30_000);
    proc.child.kill('SIGINT');
    assert.equal(await proc.exited, 0);
    assert.equal(proc.lines[proc.lines.length - 1]!.event, 'stopped');
  });
});

describe('serve command tokenizer', () => {
  it('splits on spaces, honours quotes, and keeps JSON whole', () => {
    const t = (s: string) => tokenize(s).map((x) => x.text);
    assert.deepEqual(t('read  dev /3/0'), ['read', 'dev', '/3/0']);
    assert.deepEqual(t(`write dev /3/0/14 "a \\"b\\" c" 'd e'`), ['write', 'dev', '/3/0/14', 'a "b" c', 'd e']);
    assert.deepEqual(t('write dev /3/0 --json [{"path": "/3/0/14", "value": "x ]"}] --update'), ['write', 'dev', '/3/0', '--json', '[{"path": "/3/0/14", "value": "x ]"}]', '--update']);
    assert.throws(() => tokenize('read "dev'), /unterminated/);
  });
});
