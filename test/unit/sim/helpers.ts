/** Helpers for simulator and bootstrap tests: a server on 127.0.0.1:0, event waiting, value comparison. */

import { Lwm2mServer, type Lwm2mServerEvents, type Lwm2mServerOptions } from '../../../src/core/server/lwm2mServer';
import type { SimEvent, SimEventOf, SimEventType } from '../../../src/core/sim/events';
import type { SimulatedClient } from '../../../src/core/sim/client';
import { formatValue, type Lwm2mRecord } from '../../../src/core/node';

/** An Lwm2mServer on 127.0.0.1 with an ephemeral port and quick retransmissions. */
export async function startServer(options: Lwm2mServerOptions = {}, port = 0): Promise<{ server: Lwm2mServer; uri: string; port: number }> {
  const server = new Lwm2mServer({ requestTimeoutMs: 5000, ...options, transport: { ackTimeoutMs: 300, ...options.transport } });
  await server.start({ port, address: '127.0.0.1' });
  const bound = server.address()!.port;
  return { server, uri: `coap://127.0.0.1:${bound}`, port: bound };
}

/** The next event of `type` (matching `predicate`) from a client; rejects after `timeoutMs`. */
export function nextEvent<T extends SimEventType>(client: SimulatedClient, type: T, predicate: (e: SimEventOf<T>) => boolean = () => true, timeoutMs = 4000): Promise<SimEventOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no "${type}" event from ${client.endpoint} within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = client.on('event', (e: SimEvent) => {
      if (e.type !== type || !predicate(e as SimEventOf<T>)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e as SimEventOf<T>);
    });
  });
}

/** Every event of a client from now on. */
export function recordEvents(client: SimulatedClient): SimEvent[] {
  const out: SimEvent[] = [];
  client.on('event', (e) => out.push(e));
  return out;
}

/** Resolves with the arguments of the next server event `name` that matches. */
export function nextServerEvent<K extends keyof Lwm2mServerEvents>(
  server: Lwm2mServer,
  name: K,
  predicate: (...args: Parameters<Lwm2mServerEvents[K]>) => boolean = () => true,
  timeoutMs = 4000,
): Promise<Parameters<Lwm2mServerEvents[K]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no server "${String(name)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = ((...args: Parameters<Lwm2mServerEvents[K]>) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(args);
    }) as Lwm2mServerEvents[K];
    const sub = server.on(name, listener);
  });
}

/** `path=value` lines of records, for comparing decoded payloads. */
export function valuesOf(records: readonly Lwm2mRecord[]): string[] {
  return records.map((r) => `${r.path.toString()}=${formatValue(r.value)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** UDP sockets currently open in this process. */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPWRAP').length;
}
