import * as vscode from 'vscode';
import { BootstrapServer, type BootstrapEvent, type KeyResolver } from '../core/bootstrap/server';
import { formatName } from '../core/contentFormat';
import type { ModelRegistry } from '../core/model/registry';
import type { BootstrapConfigs } from './bootstrapConfigs';
import { PortInUseError } from '../core/server/errors';
import { Lwm2mServer, type PskLookupResult } from '../core/server/lwm2mServer';
import type { TrafficEntry } from '../core/server/traffic';
import { ClientStore } from './clientStore';
import { ContextKeys } from './commands';
import { blockSizeToSzx, readSettings } from './config';
import { Disposable } from './dispose';

export type ServerState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | {
      kind: 'running';
      port: number;
      address: string;
      clients: number;
      /** CoAPS (DTLS-PSK) port, when served. */
      securePort?: number;
      /** Bootstrap server ports, when it runs. */
      bootstrapPort?: number;
      bootstrapSecurePort?: number;
      /** What the bootstrap server serves, e.g. "2 configured endpoints (from .lwm2m/bootstrap.json)". */
      bootstrapSummary?: string;
    }
  | { kind: 'failed'; message: string };

export interface StartOptions {
  /** Overrides `lwm2m.server.port` for this start (0: a free port). */
  port?: number;
  /** Overrides `lwm2m.server.bindAddress`. */
  address?: string;
  /** Overrides `lwm2m.bootstrap.port` (when `lwm2m.bootstrap.enabled`). */
  bootstrapPort?: number;
  /** Overrides `lwm2m.bootstrap.securePort` (with CoAPS on); `false` serves the bootstrap server without CoAPS. */
  bootstrapSecurePort?: number | false;
  /** Overrides `lwm2m.server.securePort` (0: a free port); `false` serves no CoAPS this time. */
  securePort?: number | false;
  /** No dialogs (autoStart, tests): failures are logged and returned in the state. */
  quiet?: boolean;
}

/**
 * Owns the embedded LwM2M server's lifecycle for the VS Code side and publishes its state.
 * The server itself lives in src/core (plain Node); this class only adapts it: settings in,
 * events out (into the ClientStore and to the traffic log).
 */
export class ServerController extends Disposable {
  private readonly onDidChangeStateEmitter = this.register(new vscode.EventEmitter<ServerState>());
  readonly onDidChangeState = this.onDidChangeStateEmitter.event;
  private readonly onTrafficEmitter = this.register(new vscode.EventEmitter<TrafficEntry>());
  /** Every CoAP message of the running server. */
  readonly onTraffic = this.onTrafficEmitter.event;
  private readonly onDidChangeServerEmitter = this.register(new vscode.EventEmitter<Lwm2mServer | undefined>());
  /** A new server instance started, or the server stopped (undefined). */
  readonly onDidChangeServer = this.onDidChangeServerEmitter.event;

  readonly store: ClientStore;
  private current: ServerState = { kind: 'stopped' };
  private instance: Lwm2mServer | undefined;
  private unsubscribe: (() => void) | undefined;
  /** A port chosen after "port in use", kept for Restart during this session. */
  private portOverride: number | undefined;
  private securePortOverride: number | undefined;
  private bootstrapServer: BootstrapServer | undefined;
  private countTimer: ReturnType<typeof setTimeout> | undefined;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly models: ModelRegistry,
    /** PSK lookup for CoAPS: identity → key and the endpoint it may register (SecretStorage). */
    private readonly psk: (identity: string) => Promise<PskLookupResult>,
    /** The bootstrap server's configurations (workspace files) and PSK keys (SecretStorage). */
    private readonly bootstrapSource?: { configs: BootstrapConfigs; resolveKey: KeyResolver },
  ) {
    super();
    if (bootstrapSource) {
      this.register(
        bootstrapSource.configs.onDidChange((c) => {
          if (!this.bootstrapServer) return;
          this.bootstrapServer.setConfig(c);
          if (this.current.kind === 'running') this.setState({ ...this.current, bootstrapSummary: this.bootstrapSummary() });
        }),
      );
    }
    this.store = this.register(new ClientStore(() => readSettings().historySize));
    this.register(this.store.onDidChange((c) => c.kind === 'clients' && this.scheduleCount()));
    this.register({ dispose: () => void this.shutdown() });
    void this.setContext();
  }

  get state(): ServerState {
    return this.current;
  }

  /** The running bootstrap server, or undefined. */
  get bootstrap(): BootstrapServer | undefined {
    return this.bootstrapServer;
  }

  /** The running server, or undefined. */
  get server(): Lwm2mServer | undefined {
    return this.instance;
  }

  /** The running server or an error for the user. */
  requireServer(): Lwm2mServer {
    if (!this.instance) throw new Error('The LwM2M server is not running. Start it with "LwM2M: Start Server".');
    return this.instance;
  }

  /** Starts the server with the settings (or `options`). Resolves with the resulting state. */
  start(options: StartOptions = {}): Promise<ServerState> {
    return this.serialize(() => this.doStart(options));
  }

  stop(): Promise<ServerState> {
    return this.serialize(async () => {
      await this.shutdown();
      return this.current;
    });
  }

  async restart(options: StartOptions = {}): Promise<ServerState> {
    await this.stop();
    return this.start(options);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private async doStart(options: StartOptions): Promise<ServerState> {
    if (this.instance) return this.current;
    const settings = readSettings();
    const port = options.port ?? this.portOverride ?? settings.port;
    const address = options.address ?? settings.bindAddress;
    this.setState({ kind: 'starting' });
    const securePort = options.securePort ?? (settings.dtlsEnabled ? (this.securePortOverride ?? settings.securePort) : false);
    this.setState({ kind: 'starting' });
    const server = new Lwm2mServer({
      models: this.models,
      trafficLogSize: settings.trafficLogSize,
      requestTimeoutMs: settings.requestTimeoutMs,
      transport: { preferredSzx: blockSizeToSzx(settings.blockSize) },
      ...(securePort !== false ? { dtls: { port: securePort, psk: (identity: string) => this.lookupPsk(identity) } } : {}),
    });
    try {
      await server.start({ port, address });
    } catch (err) {
      return this.startFailed(err as Error, port, address, options, securePort);
    }
    this.instance = server;
    this.subscribe(server);
    const bound = server.address()!;
    const secure = server.secureAddress();
    this.log.info(`LwM2M server listening on ${hostPort(bound.address, bound.port)} (UDP, CoAP)${secure ? ` and ${hostPort(secure.address, secure.port)} (CoAPS, DTLS 1.2 with PSK)` : ''}`);
    const bsSecure = securePort === false ? false : (options.bootstrapSecurePort ?? settings.bootstrapSecurePort);
    const bs = settings.bootstrapEnabled && this.bootstrapSource ? await this.startBootstrap(options.bootstrapPort ?? settings.bootstrapPort, bsSecure, address, options) : undefined;
    const bsAddress = bs?.address();
    const bsSecureAddress = bs?.secureAddress();
    this.setState({
      kind: 'running',
      port: bound.port,
      address: bound.address,
      clients: 0,
      ...(secure ? { securePort: secure.port } : {}),
      ...(bsAddress ? { bootstrapPort: bsAddress.port, bootstrapSummary: this.bootstrapSummary() } : {}),
      ...(bsSecureAddress ? { bootstrapSecurePort: bsSecureAddress.port } : {}),
    });
    this.onDidChangeServerEmitter.fire(server);
    return this.current;
  }

  /** Starts the bootstrap server beside the LwM2M server; on failure a warning, and the LwM2M server runs on without it. */
  private async startBootstrap(port: number, securePort: number | false, address: string, options: StartOptions): Promise<BootstrapServer | undefined> {
    const source = this.bootstrapSource!;
    const config = await source.configs.reload();
    const bs = new BootstrapServer({
      config,
      models: this.models,
      resolveKey: source.resolveKey,
      requestTimeoutMs: readSettings().requestTimeoutMs,
      ...(securePort !== false ? { dtls: { port: securePort, psk: (identity: string) => this.lookupPsk(identity) } } : {}),
    });
    bs.on('event', (e) => this.logBootstrap(e));
    bs.on('error', (err) => this.log.error(`bootstrap server: ${err.message}`));
    try {
      await bs.start({ port, address });
    } catch (err) {
      const message =
        err instanceof PortInUseError
          ? `UDP port ${err.port} for the bootstrap server is already in use: the LwM2M server runs without it (change ${err.port === port ? 'lwm2m.bootstrap.port' : 'lwm2m.bootstrap.securePort'}).`
          : `The bootstrap server did not start: ${(err as Error).message}. The LwM2M server runs without it.`;
      this.log.warn(message);
      if (!options.quiet) void vscode.window.showWarningMessage(message, 'Open Settings').then((c) => c && vscode.commands.executeCommand('workbench.action.openSettings', 'lwm2m.bootstrap'));
      return undefined;
    }
    const a = bs.address()!;
    this.bootstrapServer = bs;
    const sa = bs.secureAddress();
    this.log.info(
      `LwM2M bootstrap server listening on ${hostPort(a.address, a.port)} (UDP, CoAP)${sa ? ` and ${hostPort(sa.address, sa.port)} (CoAPS, DTLS 1.2 with PSK)` : ''}: ${this.bootstrapSummary()}`,
    );
    return bs;
  }

  /** "N configured endpoints[ and a default] (from FILES | workspace not trusted | no configuration file: …)". */
  private bootstrapSummary(): string {
    const configs = this.bootstrapSource!.configs;
    const config = configs.current;
    const n = config.endpoints.size;
    const where = !vscode.workspace.isTrusted
      ? 'workspace not trusted'
      : configs.files.length > 0
        ? `from ${configs.files.map((f) => vscode.workspace.asRelativePath(f)).join(', ')}`
        : `no configuration file: ${readSettings().bootstrapConfigFiles.join(', ')}`;
    return `${n} configured endpoint${n === 1 ? '' : 's'}${config.default ? ' and a default' : ''} (${where})`;
  }

  private logBootstrap(e: BootstrapEvent): void {
    const where = `bootstrap ${e.endpoint}`;
    switch (e.type) {
      case 'request':
        this.log.info(
          `${where}: Bootstrap-Request from ${e.peer}${e.security === 'PSK' ? ` over DTLS (PSK identity "${e.pskIdentity ?? ''}")` : ''} (configuration ${e.configSource}, writes as ${formatName(e.format)})`,
        );
        break;
      case 'delete':
        this.log.debug(`${where}: Bootstrap-Delete ${e.path} → ${e.code}`);
        break;
      case 'write':
        this.log.info(`${where}: Bootstrap-Write ${e.path} → ${e.code}`);
        break;
      case 'discover':
      case 'read':
        this.log.debug(`${where}: Bootstrap-${e.type === 'read' ? 'Read' : 'Discover'} ${e.path} → ${e.code}`);
        break;
      case 'finish':
        this.log.info(`${where}: Bootstrap-Finish → ${e.code}`);
        break;
      case 'done':
        this.log.info(`${where}: bootstrapped in ${e.durationMs} ms; it now registers with ${e.servers.join(', ')}`);
        break;
      case 'failed':
        this.log.warn(`${where}: failed at ${e.step}${e.code ? ` (${e.code})` : ''}: ${e.reason}`);
        break;
    }
  }

  /** Asks SecretStorage for the key of a DTLS handshake's identity (logged: a refused identity is the usual first problem). */
  private async lookupPsk(identity: string): Promise<PskLookupResult> {
    const found = await this.psk(identity);
    if (found) this.log.debug(`DTLS: PSK identity "${identity}" is known`);
    else this.log.warn(`DTLS: a client offered PSK identity "${identity}", which has no stored credential ("LwM2M: Add PSK Credential…"); the handshake is refused`);
    return found;
  }

  private async startFailed(err: Error, port: number, address: string, options: StartOptions, securePort: number | false): Promise<ServerState> {
    if (err instanceof PortInUseError && securePort !== false && err.port === securePort && securePort !== port) {
      const message = `UDP port ${securePort} for CoAPS (DTLS) is already in use on ${address}. The LwM2M server did not start.`;
      this.log.warn(message);
      this.setState({ kind: 'failed', message });
      if (!options.quiet) void this.offerOtherSecurePort(message, securePort);
      return this.current;
    }
    if (err instanceof PortInUseError) {
      const message = `UDP port ${port} is already in use on ${address} (another LwM2M server or CoAP tool?). The LwM2M server did not start.`;
      this.log.warn(message);
      this.setState({ kind: 'failed', message });
      if (!options.quiet) void this.offerOtherPort(message, port);
      return this.current;
    }
    const message = `The LwM2M server could not start on port ${port}: ${err.message}`;
    this.log.error(message);
    this.setState({ kind: 'failed', message });
    if (!options.quiet) void vscode.window.showErrorMessage(message);
    return this.current;
  }

  /** "Port in use": offers a free port, another port, or the setting (without blocking other commands). */
  private async offerOtherPort(message: string, port: number): Promise<void> {
    const free = 'Use a Free Port';
    const other = 'Use Another Port…';
    const settings = 'Open Settings';
    const choice = await vscode.window.showErrorMessage(message, free, other, settings);
    let chosen: number | undefined;
    if (choice === free) chosen = 0;
    if (choice === other) {
      const text = await vscode.window.showInputBox({
        title: 'LwM2M server port',
        prompt: `Port ${port} is in use. UDP port for the LwM2M server in this session (0: any free port; set lwm2m.server.port to keep it)`,
        value: String(port === 5683 ? 56830 : port + 1),
        validateInput: (v) => (/^\d{1,5}$/.test(v.trim()) && Number(v) <= 65535 ? undefined : 'A port number 0..65535'),
      });
      if (text !== undefined) chosen = Number(text.trim());
    }
    if (choice === settings) void vscode.commands.executeCommand('workbench.action.openSettings', 'lwm2m.server.port');
    if (chosen === undefined) return;
    this.portOverride = chosen;
    const state = await this.start({ port: chosen });
    if (state.kind === 'running') void vscode.window.showInformationMessage(`LwM2M server listening on UDP port ${state.port} (for this session; lwm2m.server.port is unchanged).`);
  }

  /** CoAPS port in use: a free port for this session, no CoAPS this time, or the setting. */
  private async offerOtherSecurePort(message: string, securePort: number): Promise<void> {
    const free = 'Use a Free Port';
    const without = 'Start without CoAPS';
    const settings = 'Open Settings';
    const choice = await vscode.window.showErrorMessage(message, free, without, settings);
    if (choice === settings) void vscode.commands.executeCommand('workbench.action.openSettings', 'lwm2m.server.securePort');
    if (choice === free) {
      this.securePortOverride = 0;
      const state = await this.start();
      if (state.kind === 'running') void vscode.window.showInformationMessage(`CoAPS on UDP port ${state.securePort} for this session (port ${securePort} is in use; lwm2m.server.securePort is unchanged).`);
    }
    if (choice === without) await this.start({ securePort: false });
  }

  private async shutdown(): Promise<void> {
    const server = this.instance;
    if (!server) {
      if (this.current.kind !== 'stopped') this.setState({ kind: 'stopped' });
      return;
    }
    this.instance = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const bs = this.bootstrapServer;
    this.bootstrapServer = undefined;
    await Promise.all([server.stop(), bs?.stop()]);
    this.store.clear();
    this.log.info('LwM2M server stopped');
    this.setState({ kind: 'stopped' });
    this.onDidChangeServerEmitter.fire(undefined);
  }

  private subscribe(server: Lwm2mServer): void {
    const subs = [
      server.on('registered', (r) => {
        this.log.info(
          `registered: ${r.endpoint} (LwM2M ${r.lwm2mVersion}, binding ${r.binding}, lifetime ${r.lifetime} s, ${r.objects.length} objects) from ${peer(r.address)}${r.security === 'PSK' ? ` over DTLS (PSK identity "${r.pskIdentity ?? ''}")` : ''}`,
        );
        this.store.registered(r);
      }),
      server.on('updated', (r, p) => {
        this.log.debug(`updated: ${r.endpoint}`);
        this.store.updated(r, p);
      }),
      server.on('deregistered', (r) => {
        this.log.info(`de-registered: ${r.endpoint}`);
        this.store.deregistered(r);
      }),
      server.on('expired', (r) => {
        this.log.warn(`registration expired: ${r.endpoint} (no update within its lifetime of ${r.lifetime} s)`);
        this.store.expired(r);
      }),
      server.on('replaced', (p) => this.log.info(`re-registered: ${p.endpoint} (its earlier registration and observations were dropped)`)),
      server.on('sleeping', (r) => this.store.setSleeping(r.endpoint, true)),
      server.on('awake', (r) => this.store.setSleeping(r.endpoint, false)),
      server.on('notification', (e) => {
        if (e.decodeError) this.log.warn(`notification from ${e.endpoint} for ${e.observation.path.toString()}: ${e.decodeError.message}`);
        this.store.setValues(e.endpoint, e.records, 'notification', e.time);
        this.store.notified(e.endpoint, e.observation.id, e.time);
      }),
      server.on('observationEnded', (o, reason) => {
        this.log.info(`observation of ${o.path.toString()} on ${o.endpoint} ended (${String(reason)})`);
        this.store.observationEnded(o);
      }),
      server.on('send', (e) => {
        if (e.decodeError) this.log.warn(`Send from ${e.endpoint}: ${e.decodeError.message}`);
        else this.log.info(`Send from ${e.endpoint}: ${e.records.length} value(s)`);
        this.store.setValues(e.endpoint, e.records, 'send', e.time);
      }),
      server.on('requestQueued', (q) => this.log.info(`${q.operation} ${q.path} on ${q.endpoint} waits until the client wakes up (queue mode)`)),
      server.on('requestExpired', (q) => this.log.warn(`${q.operation} ${q.path} on ${q.endpoint} expired in the queue`)),
      server.on('traffic', (e) => this.onTrafficEmitter.fire(e)),
      server.on('error', (err) => this.log.error(`server: ${err.message}`)),
    ];
    this.unsubscribe = () => subs.forEach((s) => s.dispose());
  }

  /** Client counts change in bursts (a thousand registrations): publish at most every 200 ms. */
  private scheduleCount(): void {
    if (this.countTimer) return;
    this.countTimer = setTimeout(() => {
      this.countTimer = undefined;
      if (this.current.kind === 'running') this.setState({ ...this.current, clients: this.store.activeCount });
      void vscode.commands.executeCommand('setContext', ContextKeys.hasClients, this.store.size > 0);
    }, 200);
  }

  private setState(state: ServerState): void {
    this.current = state;
    this.onDidChangeStateEmitter.fire(state);
    void this.setContext();
  }

  private async setContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', ContextKeys.serverRunning, this.current.kind === 'running');
  }
}

function peer(p: { address: string; port: number }): string {
  return hostPort(p.address, p.port);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
