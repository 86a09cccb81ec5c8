import * as vscode from 'vscode';
import { Lwm2mPath } from '../core/path';
import { BootstrapConfigs } from './bootstrapConfigs';
import { ChartPanel } from './chartPanel';
import { ClientsTreeProvider, type ClientsTreeNode } from './clientsTree';
import { Commands } from './commands';
import { readSettings } from './config';
import { PskCredentials } from './credentials';
import { registerPayloadInspector, openPayloadInInspector, type InspectorApi } from './inspector';
import { ModelService } from './models';
import { ObservationsTreeProvider } from './observationsTree';
import { Operations } from './operations';
import { ServerController, type StartOptions } from './serverController';
import { SimulatorManager, type SimulatorOptions } from './simulators';
import { ServerStatusBar } from './statusBar';
import { TrafficLogPanel } from './trafficLog';

/** What `activate` returns: used by the integration tests and by other extensions. */
export interface Lwm2mWorkbenchApi {
  readonly controller: ServerController;
  readonly tree: ClientsTreeProvider;
  readonly treeView: vscode.TreeView<ClientsTreeNode>;
  readonly observations: ObservationsTreeProvider;
  readonly operations: Operations;
  readonly models: ModelService;
  readonly simulators: SimulatorManager;
  readonly credentials: PskCredentials;
  readonly bootstrapConfigs: BootstrapConfigs;
  readonly status: ServerStatusBar;
  /** The open traffic log panel, if any. */
  trafficLog(): TrafficLogPanel | undefined;
  /** The payload inspector (opening payloads; its `testing` part is for the integration tests). */
  readonly inspector: InspectorApi;
}

export function activate(context: vscode.ExtensionContext): Lwm2mWorkbenchApi {
  const log = vscode.window.createOutputChannel('LwM2M Workbench', { log: true });
  context.subscriptions.push(log);
  log.info(`LwM2M Workbench ${context.extension.packageJSON.version as string} activating (${vscode.env.appName}, ui ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);

  const models = new ModelService(log);
  const credentials = new PskCredentials(context.secrets);
  const bootstrapConfigs = new BootstrapConfigs(log);
  const controller = new ServerController(log, models.registry, (identity) => credentials.lookupIdentity(identity), {
    configs: bootstrapConfigs,
    resolveKey: (keyRef) => credentials.resolveKeyRef(keyRef),
  });
  const tree = new ClientsTreeProvider(controller, models.registry);
  const treeView = vscode.window.createTreeView('lwm2m.clients', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const observations = new ObservationsTreeProvider(controller);
  const observationsView = vscode.window.createTreeView('lwm2m.observations', { treeDataProvider: observations });
  const status = new ServerStatusBar(controller);
  const simulators = new SimulatorManager(controller, models.registry, log, credentials);
  // Disposed in reverse order: the simulators and the server stop before the views go.
  context.subscriptions.push(models, bootstrapConfigs, controller, tree, treeView, observations, observationsView, status, simulators);

  const updateBadge = () => {
    const n = controller.store.activeCount;
    treeView.badge = n > 0 ? { value: n, tooltip: `${n} registered LwM2M client${n === 1 ? '' : 's'}` } : undefined;
    treeView.message = controller.state.kind === 'failed' ? controller.state.message : undefined;
  };
  context.subscriptions.push(controller.onDidChangeState(updateBadge));
  context.subscriptions.push(models.onDidChange(() => tree.refresh()));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      const restartKeys = ['lwm2m.server.port', 'lwm2m.server.securePort', 'lwm2m.server.dtls.enabled', 'lwm2m.server.bindAddress', 'lwm2m.requests.blockSize', 'lwm2m.trafficLog.size', 'lwm2m.bootstrap.enabled', 'lwm2m.bootstrap.port', 'lwm2m.bootstrap.securePort'];
      if (controller.state.kind !== 'running' || !restartKeys.some((k) => e.affectsConfiguration(k))) return;
      void vscode.window.showInformationMessage('LwM2M server settings changed: they apply when the server restarts.', 'Restart Server').then((c) => {
        if (c) void controller.restart();
      });
    }),
  );

  const register = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown));

  register(Commands.startServer, (o?: StartOptions) => controller.start(o));
  register(Commands.stopServer, () => controller.stop());
  register(Commands.restartServer, (o?: StartOptions) => controller.restart(o));
  register(Commands.startSimulator, async (o?: SimulatorOptions) => {
    try {
      const clients = await simulators.start(o);
      vscode.window.setStatusBarMessage(`$(device-mobile) Simulated device ${clients.map((c) => c.endpoint).join(', ')} registered`, 5000);
      void vscode.commands.executeCommand('lwm2m.clients.focus');
      return clients.map((c) => c.endpoint);
    } catch (err) {
      const message = `The simulated device could not start: ${(err as Error).message}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
      return [];
    }
  });
  register(Commands.startSecureSimulator, (o?: SimulatorOptions) => vscode.commands.executeCommand(Commands.startSimulator, { ...o, secure: true }));
  register(Commands.stopSimulator, (endpoint?: string | { endpoint?: string }) => simulators.stop(typeof endpoint === 'string' ? endpoint : endpoint?.endpoint));
  register(Commands.showLog, () => log.show());
  register(Commands.refreshClients, () => tree.refresh());
  register(Commands.reloadModels, () => models.reloadAll());
  register(Commands.showTrafficLog, () => TrafficLogPanel.show(context.extensionUri, controller, models.registry, openPayloadInInspector, log));
  register(Commands.showChart, async (arg?: { endpoint: string; path: string }) => {
    const target = arg ?? (await operations.pickClient('Show Value Chart').then((c) => pickHistory(c.endpoint)));
    if (!target) return undefined;
    const client = controller.store.get(target.endpoint);
    const p = Lwm2mPath.parse(target.path);
    const model = client && p.resourceId !== undefined ? tree.resourceModel(client, p.objectId!, p.resourceId) : undefined;
    return ChartPanel.show(context.extensionUri, controller, target.endpoint, target.path, model?.name ?? target.path, model?.units ?? '');
  });
  const pickHistory = async (endpoint: string) => {
    const c = controller.store.get(endpoint);
    const paths = [...(c?.history.keys() ?? [])];
    if (paths.length === 0) {
      void vscode.window.showInformationMessage(`No numeric values of ${endpoint} yet: read or observe a resource first.`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(paths.map((p) => ({ label: p, description: `${c!.history.get(p)!.length} values` })), { title: 'Value history' });
    return pick ? { endpoint, path: pick.label } : undefined;
  };
  register(Commands.showActions, async () => {
    const running = controller.state.kind === 'running';
    const picks: (vscode.QuickPickItem & { command: string })[] = [
      running
        ? { label: '$(debug-stop) Stop Server', command: Commands.stopServer }
        : { label: '$(play) Start Server', command: Commands.startServer },
      ...(running ? [{ label: '$(debug-restart) Restart Server', command: Commands.restartServer }] : []),
      { label: '$(device-mobile) Start Simulated Device', command: Commands.startSimulator },
      ...(controller.state.kind === 'running' && controller.state.securePort !== undefined ? [{ label: '$(lock) Start Simulated Device over DTLS (PSK)', command: Commands.startSecureSimulator }] : []),
      ...(simulators.clients().length ? [{ label: '$(circle-slash) Stop Simulated Device', command: Commands.stopSimulator }] : []),
      { label: '$(pulse) Show Traffic Log', command: Commands.showTrafficLog },
      { label: '$(output) Show Log', command: Commands.showLog },
      { label: '$(gear) Settings', command: 'lwm2m.openSettings' },
    ];
    const pick = await vscode.window.showQuickPick(picks, { title: 'LwM2M Workbench', placeHolder: 'Choose an action' });
    if (pick?.command === 'lwm2m.openSettings') await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:lwm2m-workbench.lwm2m-workbench');
    else if (pick) await vscode.commands.executeCommand(pick.command);
  });

  const operations = new Operations(controller, tree, log);
  operations.register(context);
  credentials.register(context, log);

  const inspector = registerPayloadInspector(context, { log, models: () => models.registry });

  void models.reloadAll();
  if (readSettings().autoStart) {
    if (vscode.workspace.isTrusted) void controller.start();
    else {
      log.info('lwm2m.server.autoStart is on, but this workspace is not trusted: start the server with "LwM2M: Start Server".');
      context.subscriptions.push(
        vscode.workspace.onDidGrantWorkspaceTrust(() => {
          if (readSettings().autoStart && controller.state.kind !== 'running') void controller.start();
        }),
      );
    }
  }

  return { controller, tree, treeView, observations, operations, models, simulators, credentials, bootstrapConfigs, status, inspector, trafficLog: () => TrafficLogPanel.current };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
