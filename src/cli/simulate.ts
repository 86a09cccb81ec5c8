/**
 * `lwm2m-workbench simulate --server coap://HOST:PORT|coaps://HOST:PORT [--psk IDENTITY:HEXKEY]
 * [--endpoint NAME] [--count N] [--bootstrap] [--lifetime S] [--queue]`: runs simulated LwM2M
 * clients until Ctrl-C / SIGTERM, printing one JSON line per event on standard output:
 *
 *   {"event":"registered","endpoint":"sim","time":"2026-…Z","server":"coap://…","location":"/rd/…",…}
 *
 * CoAPS: a coaps:// server (default port 5684) needs --psk (DTLS 1.2 with that pre-shared key);
 * --psk with coap:// is refused. With --count N > 1 each device's identity is IDENTITY-1 …
 * IDENTITY-N, like its endpoint name NAME-1 … NAME-N; the key is shared. With --bootstrap, the
 * URI and --psk are the bootstrap server's; the LwM2M server's come from the bootstrap.
 *
 * Events: started, dtlsSession / dtlsClosed (CoAPS), bootstrapRequested / bootstrapDelete / bootstrapWrite / bootstrapDiscover /
 * bootstrapRead / bootstrapFinished, registered, updated, deregistered, read, discover, write,
 * writeAttributes, execute, create, delete, readComposite, writeComposite, observe,
 * observeCancelled, notification, send, sleeping, awake, error, stopped. On a signal every client
 * de-registers and the process exits 0; when no client could start it exits 1.
 */
import type { Command } from 'commander';
import { Simulation } from '../core/sim/simulation';
import type { SimEvent } from '../core/sim/events';
import { CliError, parsePskOption, type CliIo } from './common';

interface SimulateOptions {
  server: string;
  psk?: string;
  endpoint?: string;
  count: string;
  bootstrap?: boolean;
  lifetime: string;
  queue?: boolean;
  awake?: string;
  tick?: string;
}

function positiveInt(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new CliError(`${option} ${JSON.stringify(text)} must be an integer from 1 to ${max}`, 2);
  return Number(text);
}

/** One JSON line per event: `event` first, the time as ISO text. */
export function eventLine(e: SimEvent): string {
  const { type, endpoint, time, ...rest } = e;
  return JSON.stringify({ event: type, endpoint, time: new Date(time).toISOString(), ...rest }) + '\n';
}

/** Resolves on the first SIGINT or SIGTERM. */
function nextSignal(): { promise: Promise<string>; dispose(): void } {
  let done: (s: string) => void = () => undefined;
  const promise = new Promise<string>((resolve) => (done = resolve));
  const onInt = () => done('SIGINT');
  const onTerm = () => done('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    promise,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

export function registerSimulate(program: Command, io: CliIo): void {
  program
    .command('simulate')
    .description('Run simulated LwM2M devices (objects 0, 1, 3, 3303, 3311) against a server; one JSON line per event; Ctrl-C de-registers and exits.')
    .requiredOption('--server <uri>', 'LwM2M server URI, coap://HOST:PORT or coaps://HOST:PORT (with --bootstrap: the bootstrap server)')
    .option('--psk <identity:hexkey>', 'DTLS pre-shared key for a coaps:// server; with --count N the identity gets the -1 … -N suffix of the endpoint names')
    .option('--endpoint <name>', 'endpoint name; with --count N the prefix of NAME-1 … NAME-N (default "sim")')
    .option('--count <n>', 'number of simulated devices, each with its own UDP port', '1')
    .option('--bootstrap', 'Client Initiated Bootstrap first, then register with the provisioned server')
    .option('--lifetime <seconds>', 'registration lifetime', '300')
    .option('--queue', 'queue mode: sleep after the awake window, wake with an Update')
    .option('--awake <seconds>', 'queue mode: awake window after the last exchange (default 93)')
    .option('--tick <ms>', 'period of the simulated value changes (default 1000)')
    .action(async (opts: SimulateOptions) => {
      const count = positiveInt(opts.count, '--count', 10_000);
      const lifetime = positiveInt(opts.lifetime, '--lifetime', 0xffffffff);
      const awakeMs = opts.awake !== undefined ? positiveInt(opts.awake, '--awake') * 1000 : undefined;
      const tickMs = opts.tick !== undefined ? positiveInt(opts.tick, '--tick') : undefined;
      if (!/^coaps?:\/\//.test(opts.server)) throw new CliError(`--server ${JSON.stringify(opts.server)}: expected coap://HOST:PORT or coaps://HOST:PORT`, 2);
      const secure = /^coaps:\/\//.test(opts.server);
      if (secure && opts.psk === undefined) throw new CliError(`--server ${JSON.stringify(opts.server)}: coaps:// needs --psk IDENTITY:HEXKEY`, 2);
      if (!secure && opts.psk !== undefined) throw new CliError(`--psk is for a coaps:// server, not ${JSON.stringify(opts.server)}`, 2);
      let psk: { identity: string; key: Uint8Array } | undefined;
      if (opts.psk !== undefined) {
        const parsed = parsePskOption(opts.psk);
        if (parsed.endpoint !== undefined) throw new CliError(`--psk ${JSON.stringify(opts.psk)}: expected IDENTITY:HEXKEY (no @ENDPOINT: the endpoint is --endpoint)`, 2);
        psk = { identity: parsed.identity, key: parsed.key };
      }
      let sim: Simulation;
      try {
        sim = new Simulation({
          server: opts.server,
          psk,
          endpoint: opts.endpoint ?? 'sim',
          count,
          bootstrap: !!opts.bootstrap,
          lifetime,
          queueMode: !!opts.queue,
          awakeMs,
          tickMs,
        });
      } catch (err) {
        throw new CliError(`--server ${JSON.stringify(opts.server)}: ${(err as Error).message}`, 2);
      }
      const signal = nextSignal();
      sim.on('event', (e) => io.stdout(eventLine(e)));
      let stopping = false;
      try {
        const starting = sim.start();
        const first = await Promise.race([starting.then((failed) => ({ failed })), signal.promise.then(() => undefined)]);
        if (first && first.failed.length === sim.clients.length) {
          throw new CliError(`no simulated device could start: ${first.failed[0]!.error.message}`, 1);
        }
        // Runs until a signal (which may already have arrived while starting).
        await signal.promise;
        stopping = true;
        await sim.stop();
        await starting;
      } finally {
        if (!stopping) await sim.stop({ deregister: false });
        signal.dispose();
      }
    });
}
