/** Command ids contributed in package.json, in one place (checked by the integration tests). */
export const Commands = {
  startServer: 'lwm2m.startServer',
  stopServer: 'lwm2m.stopServer',
  restartServer: 'lwm2m.restartServer',
  startSimulator: 'lwm2m.startSimulator',
  stopSimulator: 'lwm2m.stopSimulator',
  showActions: 'lwm2m.showActions',
  showLog: 'lwm2m.showLog',
  refreshClients: 'lwm2m.refreshClients',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Context keys used in `when` clauses. */
export const ContextKeys = {
  serverRunning: 'lwm2m.serverRunning',
  simulatorRunning: 'lwm2m.simulatorRunning',
} as const;
