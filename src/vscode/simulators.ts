import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ModelLookup } from '../core/model/types';
import { startSimulation, type Simulation, type SimulatedClient } from '../core/sim';
import { ContextKeys } from './commands';
import type { PskCredentials } from './credentials';
import { Disposable } from './dispose';
import type { ServerController } from './serverController';

export interface SimulatorOptions {
  /** Endpoint name (or prefix with `count` > 1); default `sim-N`. */
  endpoint?: string;
  count?: number;
  lwm2mVersion?: '1.0' | '1.1' | '1.2';
  queueMode?: boolean;
  lifetime?: number;
  /** Period of the simulated value changes, default 1000 ms. */
  tickMs?: number;
  /** Client Initiated Bootstrap with the embedded bootstrap server first (`lwm2m.bootstrap.enabled`). */
  bootstrap?: boolean;
  /**
   * Over CoAPS (DTLS 1.2 with PSK) — to the bootstrap server's CoAPS port with `bootstrap`. The key
   * is the endpoint's stored credential; a new random one is stored when it has none (with
   * `count` > 1: one credential per endpoint, `<endpoint>-N`, sharing one new key).
   */
  secure?: boolean;
}

/**
 * Simulated LwM2M devices (src/core/sim) pointed at the running embedded server on the loopback
 * address with its real port: "LwM2M: Start Simulated Device" / "Stop Simulated Device".
 */
export class SimulatorManager extends Disposable {
  private readonly simulations: Simulation[] = [];
  private next = 1;

  constructor(
    private readonly controller: ServerController,
    private readonly models: ModelLookup,
    private readonly log: vscode.LogOutputChannel,
    private readonly credentials?: PskCredentials,
  ) {
    super();
    // A stopped server takes its simulated devices with it (a restart may change the port).
    this.register(controller.onDidChangeServer((s) => !s && void this.stopAll(false)));
    this.register({ dispose: () => void this.stopAll(false) });
  }

  /** Every running simulated client. */
  clients(): SimulatedClient[] {
    return this.simulations.flatMap((s) => s.clients);
  }

  /** The URI the simulator registers to (or bootstraps from): the loopback address of the server's bind family. */
  serverUri(bootstrap = false, secure = false): string {
    const state = this.controller.state;
    const server = bootstrap ? this.controller.bootstrap : this.controller.server;
    const addr = secure ? server?.secureAddress() : server?.address();
    if (state.kind !== 'running' || !server) {
      throw new Error(bootstrap ? 'The bootstrap server is not running (turn on lwm2m.bootstrap.enabled and restart the server).' : 'The LwM2M server is not running.');
    }
    if (!addr) throw new Error('CoAPS is not served (turn on lwm2m.server.dtls.enabled and restart the server).');
    let host = addr.address;
    if (host === '::' || host === '0.0.0.0' || host === '') host = '127.0.0.1';
    return `${secure ? 'coaps' : 'coap'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  }

  /** The PSK of a secure simulation: the stored credential, else a new random key stored for each endpoint. */
  private async pskFor(endpoint: string, count: number): Promise<{ identity: string; key: Uint8Array }> {
    if (!this.credentials) throw new Error('PSK credentials are not available');
    if (count === 1) {
      const stored = await this.credentials.get(endpoint);
      if (stored) return { identity: stored.identity, key: Buffer.from(stored.keyHex, 'hex') };
    }
    const key = randomBytes(16);
    for (let i = 1; i <= count; i++) {
      const ep = count === 1 ? endpoint : `${endpoint}-${i}`;
      await this.credentials.set({ endpoint: ep, identity: ep, keyHex: key.toString('hex') });
    }
    this.log.info(`stored a new PSK credential for ${count === 1 ? endpoint : `${endpoint}-1 … ${endpoint}-${count}`} (identity = endpoint name, random 128-bit key)`);
    return { identity: endpoint, key };
  }

  async start(options: SimulatorOptions = {}): Promise<SimulatedClient[]> {
    if (this.controller.state.kind !== 'running') {
      const state = await this.controller.start();
      if (state.kind !== 'running') throw new Error('The simulated device needs the LwM2M server, which did not start.');
    }
    const secure = !!options.secure;
    const server = this.serverUri(!!options.bootstrap, secure);
    let endpoint = options.endpoint;
    if (!endpoint) {
      const taken = new Set([...this.clients().map((c) => c.endpoint), ...this.controller.store.list().map((c) => c.endpoint)]);
      while (taken.has(`sim-${this.next}`)) this.next++;
      endpoint = `sim-${this.next++}`;
    }
    this.log.info(`starting simulated device${(options.count ?? 1) > 1 ? `s (${options.count})` : ''} ${endpoint} → ${server}`);
    const sim = await startSimulation({
      server,
      endpoint,
      count: options.count ?? 1,
      models: this.models,
      lifetime: options.lifetime ?? 300,
      ...(options.lwm2mVersion ? { lwm2mVersion: options.lwm2mVersion } : {}),
      ...(options.queueMode ? { queueMode: true } : {}),
      ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
      ...(options.bootstrap ? { bootstrap: true } : {}),
      ...(secure ? { psk: await this.pskFor(endpoint, options.count ?? 1) } : {}),
    });
    sim.on('event', (e) => {
      if (e.type === 'error') this.log.warn(`simulator ${e.endpoint}: ${e.operation}: ${e.message}`);
      else if (e.type !== 'notification') this.log.trace(`simulator ${e.endpoint}: ${e.type}`);
    });
    this.simulations.push(sim);
    await this.setContext();
    return sim.clients;
  }

  /** Stops the most recent simulation, or the one holding `endpoint`. */
  async stop(endpoint?: string): Promise<number> {
    const i = endpoint ? this.simulations.findIndex((s) => s.clients.some((c) => c.endpoint === endpoint)) : this.simulations.length - 1;
    if (i < 0) return 0;
    const [sim] = this.simulations.splice(i, 1);
    await sim!.stop({ deregister: this.controller.state.kind === 'running' });
    this.log.info(`stopped simulated device(s) ${sim!.clients.map((c) => c.endpoint).join(', ')}`);
    await this.setContext();
    return sim!.clients.length;
  }

  async stopAll(deregister = true): Promise<void> {
    const all = this.simulations.splice(0);
    await Promise.all(all.map((s) => s.stop({ deregister }).catch(() => undefined)));
    await this.setContext();
  }

  private async setContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', ContextKeys.simulatorRunning, this.simulations.length > 0);
  }
}
