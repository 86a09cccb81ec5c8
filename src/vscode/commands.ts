/** Command ids contributed in package.json, in one place (checked by the integration tests). */
export const Commands = {
  startServer: 'lwm2m.startServer',
  stopServer: 'lwm2m.stopServer',
  restartServer: 'lwm2m.restartServer',
  startSimulator: 'lwm2m.startSimulator',
  startSecureSimulator: 'lwm2m.startSecureSimulator',
  stopSimulator: 'lwm2m.stopSimulator',
  showActions: 'lwm2m.showActions',
  showLog: 'lwm2m.showLog',
  refreshClients: 'lwm2m.refreshClients',
  // Operations (tree context menus and the palette)
  read: 'lwm2m.read',
  readWithOptions: 'lwm2m.readWithOptions',
  discover: 'lwm2m.discover',
  write: 'lwm2m.write',
  writeUpdate: 'lwm2m.writeUpdate',
  writeAttributes: 'lwm2m.writeAttributes',
  execute: 'lwm2m.execute',
  create: 'lwm2m.create',
  delete: 'lwm2m.delete',
  observe: 'lwm2m.observe',
  cancelObservation: 'lwm2m.cancelObservation',
  readComposite: 'lwm2m.readComposite',
  writeComposite: 'lwm2m.writeComposite',
  observeComposite: 'lwm2m.observeComposite',
  setClientDefaults: 'lwm2m.setClientDefaults',
  showQueue: 'lwm2m.showQueue',
  forgetClient: 'lwm2m.forgetClient',
  copyPath: 'lwm2m.copyPath',
  showChart: 'lwm2m.showChart',
  showTrafficLog: 'lwm2m.showTrafficLog',
  // PSK credentials (SecretStorage)
  setPskCredential: 'lwm2m.setPskCredential',
  removePskCredential: 'lwm2m.removePskCredential',
  listPskCredentials: 'lwm2m.listPskCredentials',
  reloadModels: 'lwm2m.reloadModels',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Context keys used in `when` clauses. */
export const ContextKeys = {
  serverRunning: 'lwm2m.serverRunning',
  simulatorRunning: 'lwm2m.simulatorRunning',
  hasClients: 'lwm2m.hasClients',
  hasObservations: 'lwm2m.hasObservations',
} as const;
