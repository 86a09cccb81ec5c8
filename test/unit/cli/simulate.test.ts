/**
 * `lwm2m-workbench simulate` as a process (node --import tsx src/cli/main.ts) against servers
 * started in the test: JSON lines per event, SIGTERM de-registers and exits 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { bootstrapConfigFrom } from '../../../src/core/bootstrap/config';
import { BootstrapServer } from '../../../src/core/bootstrap/server';
import { ContentFormat } from '../../../src/core/contentFormat';
import { Lwm2mPath } from '../../../src/core/path';
import type { Lwm2mServer } from '../../../src/core/server/lwm2mServer';
import { startServer } from '../sim/helpers';

const root = join(__dirname, '..', '..', '..');

interface Line {
  event: string;
  endpoint: string;
  time: string;
  [key: string]: unknown;
}

/** A running `simulate` process and the JSON lines it printed so far. */
class SimulateProcess {
  readonly lines: Line[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private partial = '';

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'simulate', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.partial += d;
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      for (const p of parts) this.lines.push(JSON.parse(p) as Line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async waitFor(predicate: (l: Line) => boolean, count = 1, timeoutMs = 20_000): Promise<Line[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.filter(predicate);
      if (found.length >= count) return found;
      if (Date.now() > end) throw new Error(`not seen in time; lines: ${this.lines.map((l) => l.event).join(', ')}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

describe('lwm2m-workbench simulate', () => {
  let server: Lwm2mServer;
  let uri: string;

  before(async () => {
    ({ server, uri } = await startServer());
  });
  after(async () => {
    await server.stop();
  });

  it('registers N devices, prints a JSON line per event, and de-registers on SIGTERM', async () => {
    const sim = new SimulateProcess(['--server', uri, '--endpoint', 'cli', '--count', '2', '--lifetime', '30', '--tick', '100']);
    try {
      const registered = await sim.waitFor((l) => l.event === 'registered', 2);
      assert.deepEqual(registered.map((l) => l.endpoint).sort(), ['cli-1', 'cli-2']);
      for (const l of registered) {
        assert.match(l.time, /^\d{4}-\d\d-\d\dT/);
        assert.equal(l.server, uri);
        assert.equal(l.lifetime, 30);
        assert.match(String(l.location), /^\/rd\//);
      }
      assert.notEqual(registered[0]!.port, registered[1]!.port);
      assert.ok(server.registration('cli-1') && server.registration('cli-2'));

      const read = await server.read('cli-1', '/3/0/0', { format: ContentFormat.Text });
      assert.equal(read.records[0]!.value, 'LwM2M Workbench');
      const [readLine] = await sim.waitFor((l) => l.event === 'read' && l.endpoint === 'cli-1');
      assert.deepEqual({ path: readLine!.path, format: readLine!.format, code: readLine!.code }, { path: '/3/0/0', format: 0, code: '2.05' });

      await server.write('cli-2', '/3311/0/5850', [{ path: Lwm2mPath.parse('/3311/0/5850'), type: 'boolean', value: true }], { format: ContentFormat.Text });
      await sim.waitFor((l) => l.event === 'write' && l.endpoint === 'cli-2' && l.code === '2.04');
      await server.execute('cli-2', '/3303/0/5605');
      await sim.waitFor((l) => l.event === 'execute' && l.path === '/3303/0/5605');

      await server.observe('cli-1', '/3303/0/5700', { format: ContentFormat.SenmlJson });
      const [note] = await sim.waitFor((l) => l.event === 'notification' && l.endpoint === 'cli-1');
      assert.equal(note!.path, '/3303/0/5700');
      assert.equal(typeof note!.sequence, 'number');

      const gone = new Promise<void>((resolve) => {
        let n = 0;
        const sub = server.on('deregistered', (r) => {
          if (r.endpoint.startsWith('cli-') && ++n === 2) {
            sub.dispose();
            resolve();
          }
        });
      });
      sim.kill('SIGTERM');
      assert.equal(await sim.exited, 0, sim.stderr);
      await gone;
      const deregistered = sim.lines.filter((l) => l.event === 'deregistered');
      assert.deepEqual(deregistered.map((l) => l.endpoint).sort(), ['cli-1', 'cli-2']);
      assert.equal(sim.lines.filter((l) => l.event === 'stopped').length, 2);
      assert.equal(server.registration('cli-1'), undefined);
      assert.equal(sim.stderr, '');
    } finally {
      sim.kill('SIGKILL');
    }
  });

  it('bootstraps with --bootstrap (the --server is then the bootstrap server) and stops on SIGINT', async () => {
    const bs = new BootstrapServer({ config: bootstrapConfigFrom({ default: { servers: [{ shortServerId: 5, uri, lifetime: 40, security: { mode: 'NoSec' } }] } }) });
    await bs.start({ port: 0, address: '127.0.0.1' });
    const sim = new SimulateProcess(['--server', `coap://127.0.0.1:${bs.address()!.port}`, '--endpoint', 'cli-bs', '--bootstrap']);
    try {
      const [reg] = await sim.waitFor((l) => l.event === 'registered');
      assert.equal(reg!.server, uri);
      assert.equal(reg!.lifetime, 40);
      assert.deepEqual(
        sim.lines.map((l) => l.event).filter((e) => e.startsWith('bootstrap')),
        ['bootstrapRequested', 'bootstrapDelete', 'bootstrapWrite', 'bootstrapWrite', 'bootstrapFinished'],
      );
      sim.kill('SIGINT');
      assert.equal(await sim.exited, 0, sim.stderr);
      assert.ok(sim.lines.some((l) => l.event === 'deregistered'));
    } finally {
      sim.kill('SIGKILL');
      await bs.stop();
    }
  });

  it('rejects bad usage with exit code 2', async () => {
    const sim = new SimulateProcess(['--server', 'coaps://127.0.0.1', '--count', '0']);
    assert.equal(await sim.exited, 2);
    assert.match(sim.stderr, /--count "0" must be an integer from 1/);
  });
});
