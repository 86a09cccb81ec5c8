/**
 * N simulated clients from one process: distinct endpoints (`<prefix>-1` … `<prefix>-N`), each
 * with its own UDP socket and therefore its own source port. Clients are started a few at a
 * time so that a large count does not flood the server with simultaneous Registers. With a
 * PSK (coaps://) and several clients, each client's PSK identity gets the same `-1` … `-N`
 * suffix as its endpoint name; the key is shared.
 */

import { TypedEmitter } from '../server/events';
import { SimulatedClient, type SimPsk, type SimulatedClientOptions } from './client';
import type { SimEvent } from './events';

export interface SimulationOptions extends Omit<SimulatedClientOptions, 'endpoint' | 'psk'> {
  /** How many clients, default 1. */
  count?: number;
  /** Endpoint name of a single client, or the prefix of `-1`, `-2`, … with several; default `sim`. */
  endpoint?: string;
  /** PSK of a coaps:// server; with several clients the identity is a prefix like `endpoint` (`ID-1`, `ID-2`, …), the key shared. */
  psk?: SimPsk;
  /** How many clients start at once, default 16. */
  concurrency?: number;
}

export interface SimulationEvents {
  /** Every event of every client. */
  event: (e: SimEvent) => void;
}

/** Endpoint names of a simulation: the name itself for one client, `name-1` … `name-N` otherwise. */
export function simulationEndpoints(count: number, endpoint = 'sim'): string[] {
  if (count === 1) return [endpoint];
  return Array.from({ length: count }, (_, i) => `${endpoint}-${i + 1}`);
}

/** A set of running simulated clients. */
export class Simulation extends TypedEmitter<SimulationEvents> {
  readonly clients: SimulatedClient[];

  constructor(options: SimulationOptions) {
    super();
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    const identities = options.psk ? simulationEndpoints(count, options.psk.identity) : [];
    this.clients = simulationEndpoints(count, options.endpoint).map((endpoint, i) => {
      const psk = options.psk ? { identity: identities[i]!, key: options.psk.key } : undefined;
      const client = new SimulatedClient({ ...options, endpoint, psk });
      client.on('event', (e) => this.emit('event', e));
      return client;
    });
    this.concurrency = Math.max(1, options.concurrency ?? 16);
  }

  private readonly concurrency: number;

  /**
   * Starts every client. Resolves with the clients that failed to start (each with its error);
   * the others are registered.
   */
  async start(): Promise<{ client: SimulatedClient; error: Error }[]> {
    const failed: { client: SimulatedClient; error: Error }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < this.clients.length) {
        const client = this.clients[next++]!;
        try {
          await client.start();
        } catch (err) {
          failed.push({ client, error: err as Error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, this.clients.length) }, worker));
    return failed;
  }

  /** Stops every client (de-registering those that are registered). */
  async stop(options: { deregister?: boolean } = {}): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop(options)));
  }
}

/** Creates and starts N clients; rejects (after stopping them all) when none could start. */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const sim = new Simulation(options);
  const failed = await sim.start();
  if (failed.length === sim.clients.length) {
    await sim.stop({ deregister: false });
    throw failed[0]!.error;
  }
  return sim;
}
