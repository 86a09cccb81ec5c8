/**
 * The payload inspector: custom editors for LwM2M payloads and the commands around them.
 * `registerPayloadInspector` is called once from `activate`; other code (the traffic log) opens
 * bytes with `openPayloadInInspector`.
 */
import type * as vscode from 'vscode';
import { createModelRegistry } from '../../core/model/bundled';
import type { InspectorModels } from './analyze';
import { registerInspectorCommands } from './commands';
import type { PayloadHints } from './document';
import { PayloadInspectorProvider, type InspectorApi } from './provider';

export type { InspectorApi } from './provider';
export type { PayloadHints } from './document';
export { InspectorCommands } from './commands';
export { INSPECTOR_VIEW_TYPE, INSPECTOR_ANY_VIEW_TYPE } from './provider';

let current: PayloadInspectorProvider | undefined;

/**
 * Registers both custom editors and the inspector commands. `models` supplies object models
 * (default: the bundled ones); pass the extension's live registry once it loads workspace models.
 */
export function registerPayloadInspector(context: vscode.ExtensionContext, options: { models?: () => InspectorModels; log?: vscode.LogOutputChannel } = {}): InspectorApi {
  let bundled: InspectorModels | undefined;
  const models = options.models ?? (() => (bundled ??= createModelRegistry()));
  const provider = PayloadInspectorProvider.register(context, models, options.log);
  registerInspectorCommands(context, provider);
  current = provider;
  context.subscriptions.push({ dispose: () => (current === provider ? (current = undefined) : undefined) });
  return provider.api();
}

/**
 * Opens payload bytes in a new (untitled) inspector, e.g. a message from the traffic log.
 * `format` is the CoAP Content-Format (detected from the bytes when absent), `path` the request
 * path (needed by TLV, text, opaque and CBOR), `title` names the editor tab.
 */
export function openPayloadInInspector(bytes: Uint8Array, options: PayloadHints = {}): Promise<vscode.Uri> {
  if (!current) return Promise.reject(new Error('the payload inspector is not registered (the extension is not active)'));
  return current.openPayload(bytes, options);
}
