/** Public API of the LwM2M core: pure TypeScript, no `vscode` import, runs in plain Node. */
export * from './path';
export * from './node';
export * from './errors';
export * from './contentFormat';
export * from './model/types';
export * from './codec/types';
