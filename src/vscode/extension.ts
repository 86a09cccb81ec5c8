import * as vscode from 'vscode';
import { ClientsTreeProvider } from './clientsTree';
import { Commands } from './commands';
import { ServerController } from './serverController';
import { ServerStatusBar } from './statusBar';

/** What `activate` returns: used by the integration tests and by other extensions. */
export interface Lwm2mWorkbenchApi {
  readonly controller: ServerController;
  readonly tree: ClientsTreeProvider;
}

export function activate(context: vscode.ExtensionContext): Lwm2mWorkbenchApi {
  const log = vscode.window.createOutputChannel('LwM2M Workbench', { log: true });
  context.subscriptions.push(log);
  log.info(`LwM2M Workbench ${context.extension.packageJSON.version as string} activating (${vscode.env.appName}, ui ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);

  const controller = new ServerController(log);
  const tree = new ClientsTreeProvider(controller);
  const view = vscode.window.createTreeView('lwm2m.clients', { treeDataProvider: tree, showCollapseAll: true });
  const status = new ServerStatusBar(controller);
  context.subscriptions.push(controller, tree, view, status);

  const register = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  register(Commands.startServer, () => controller.start());
  register(Commands.stopServer, () => controller.stop());
  register(Commands.restartServer, () => controller.restart());
  register(Commands.startSimulator, () => controller.startSimulator());
  register(Commands.stopSimulator, () => controller.stopSimulator());
  register(Commands.showLog, () => log.show());
  register(Commands.refreshClients, () => tree.refresh());
  register(Commands.showActions, async () => {
    const running = controller.state.kind === 'running';
    const picks: (vscode.QuickPickItem & { command: string })[] = [
      running
        ? { label: '$(debug-stop) Stop Server', command: Commands.stopServer }
        : { label: '$(play) Start Server', command: Commands.startServer },
      ...(running ? [{ label: '$(debug-restart) Restart Server', command: Commands.restartServer }] : []),
      { label: '$(device-mobile) Start Simulated Device', command: Commands.startSimulator },
      { label: '$(output) Show Log', command: Commands.showLog },
    ];
    const pick = await vscode.window.showQuickPick(picks, { title: 'LwM2M Workbench', placeHolder: 'Choose an action' });
    if (pick) await vscode.commands.executeCommand(pick.command);
  });

  return { controller, tree };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
