import * as vscode from 'vscode';
import { Commands } from './commands';
import { Disposable } from './dispose';
import type { ServerController, ServerState } from './serverController';

/** Status-bar item showing the server state, port and client count; click → main actions. */
export class ServerStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('lwm2m.status', vscode.StatusBarAlignment.Left, 50));

  constructor(controller: ServerController) {
    super();
    this.item.name = 'LwM2M Server';
    this.item.command = Commands.showActions;
    this.register(controller.onDidChangeState((s) => this.render(s)));
    this.render(controller.state);
    this.item.show();
  }

  /** The text shown (for tests). */
  get text(): string {
    return this.item.text;
  }

  private render(state: ServerState): void {
    switch (state.kind) {
      case 'stopped':
        this.item.text = '$(radio-tower) LwM2M: stopped';
        this.item.tooltip = 'LwM2M server is stopped — click for actions';
        this.item.backgroundColor = undefined;
        break;
      case 'starting':
        this.item.text = '$(loading~spin) LwM2M: starting';
        this.item.tooltip = 'LwM2M server is starting';
        this.item.backgroundColor = undefined;
        break;
      case 'running': {
        const where = state.address.includes(':') ? `[${state.address}]:${state.port}` : `${state.address}:${state.port}`;
        const ports = [`:${state.port}`, ...(state.securePort !== undefined ? [`:${state.securePort} (DTLS)`] : []), ...(state.bootstrapPort !== undefined ? [`BS :${state.bootstrapPort}`] : [])];
        this.item.text = `$(radio-tower) LwM2M ${ports.join(' ')} · ${state.clients} client${state.clients === 1 ? '' : 's'}`;
        const coaps =
          state.securePort !== undefined
            ? `CoAPS (DTLS 1.2, PSK): port ${state.securePort} — clients use \`coaps://<this machine>:${state.securePort}\` with a credential from "LwM2M: Add PSK Credential…"`
            : 'CoAPS (DTLS): off (`lwm2m.server.dtls.enabled`)';
        const bs =
          state.bootstrapPort !== undefined
            ? `Bootstrap server: \`coap://<this machine>:${state.bootstrapPort}\`${state.bootstrapSecurePort !== undefined ? `, \`coaps://<this machine>:${state.bootstrapSecurePort}\`` : ''} — ${state.bootstrapSummary ?? ''}`
            : 'Bootstrap server: off (`lwm2m.bootstrap.enabled`)';
        this.item.tooltip = new vscode.MarkdownString(
          `**LwM2M server running**\n\nCoAP (UDP): \`${where}\` — clients use \`coap://<this machine>:${state.port}\`\n\n${coaps}\n\n${bs}\n\n${state.clients} registered client(s)\n\nClick for actions`,
        );
        this.item.backgroundColor = undefined;
        break;
      }
      case 'failed':
        this.item.text = '$(warning) LwM2M: not running';
        this.item.tooltip = `${state.message} — click for actions`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
    }
  }
}
