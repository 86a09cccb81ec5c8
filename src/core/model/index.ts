/** Object models: types, the DDF XML loader, the registry and the bundled OMA/IPSO models. */
export * from './types';
export { parseRange } from './range';
export { parseDdf, loadModelFiles, loadModelDirectory, type ModelProblem, type ModelLoadResult, type Severity } from './ddf';
export { ModelRegistry, BUNDLED_SOURCE, type ResolvedModel } from './registry';
export { bundledModels, createModelRegistry } from './bundled';
