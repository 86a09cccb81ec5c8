import * as vscode from 'vscode';
import { ContextKeys } from './commands';
import { Disposable } from './dispose';

export type ServerState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'running'; port: number; clients: number }
  | { kind: 'failed'; message: string };

/**
 * Owns the embedded LwM2M server's lifecycle for the VS Code side and publishes its state.
 * The server itself lives in src/core (plain Node); this class only adapts it.
 */
export class ServerController extends Disposable {
  private readonly onDidChangeStateEmitter = this.register(new vscode.EventEmitter<ServerState>());
  readonly onDidChangeState = this.onDidChangeStateEmitter.event;
  private current: ServerState = { kind: 'stopped' };

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    void this.setContext();
  }

  get state(): ServerState {
    return this.current;
  }

  /** Starts the server. Until the embedded server lands this tells the user it is not available. */
  async start(): Promise<void> {
    this.log.info('Start Server requested');
    const message = 'The embedded LwM2M server is not available yet in this build of LwM2M Workbench.';
    this.log.warn(message);
    this.setState({ kind: 'failed', message });
    void vscode.window.showInformationMessage(message);
  }

  async stop(): Promise<void> {
    this.log.info('Stop Server requested');
    this.setState({ kind: 'stopped' });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async startSimulator(): Promise<void> {
    this.log.info('Start Simulated Device requested');
    const message = 'The simulated LwM2M device is not available yet in this build of LwM2M Workbench.';
    this.log.warn(message);
    void vscode.window.showInformationMessage(message);
  }

  async stopSimulator(): Promise<void> {
    this.log.info('Stop Simulated Device requested');
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
