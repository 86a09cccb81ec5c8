/** The inspector's commands (all in the LwM2M category). */
import * as vscode from 'vscode';
import { RequestError, type CopyKind } from '../../common/protocol';
import { bytesFromText } from './paste';
import { INSPECTOR_ANY_VIEW_TYPE, type PayloadInspectorProvider } from './provider';
import type { PayloadDocument } from './document';

export const InspectorCommands = {
  decodeHex: 'lwm2m.inspector.decodeHex',
  decodeSelection: 'lwm2m.inspector.decodeSelection',
  open: 'lwm2m.inspector.open',
  reopenAsText: 'lwm2m.inspector.reopenAsText',
  convert: 'lwm2m.inspector.convert',
  copyAsSenmlJson: 'lwm2m.inspector.copyAsSenmlJson',
  copyAsHex: 'lwm2m.inspector.copyAsHex',
  copyAsCArray: 'lwm2m.inspector.copyAsCArray',
  changeFormat: 'lwm2m.inspector.changeFormat',
  setBasePath: 'lwm2m.inspector.setBasePath',
} as const;

export function registerInspectorCommands(context: vscode.ExtensionContext, provider: PayloadInspectorProvider): void {
  const api = provider.api();
  const register = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  /** The inspector document a command is for: the URI a menu passed, else the active inspector. */
  const target = (arg: unknown): PayloadDocument | undefined => {
    const doc = arg instanceof vscode.Uri ? api.testing.document(arg) : provider.activeDocument;
    if (!doc) void vscode.window.showWarningMessage('Open a payload in the LwM2M Payload Inspector first.');
    return doc;
  };
  const report = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof RequestError && e.code === 'cancelled') return;
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    }
  };

  register(InspectorCommands.decodeHex, async (arg?: unknown) => {
    const text =
      typeof arg === 'string'
        ? arg
        : await vscode.window.showInputBox({
            title: 'LwM2M: Decode Hex',
            prompt: 'Payload bytes as hex (C8 00 14 …, 0xC8,0x00, c80014) or base64',
            placeHolder: 'c8 00 14 4f 70 65 6e …',
            ignoreFocusOut: true,
            validateInput: (v) => {
              const r = bytesFromText(v);
              return 'error' in r ? r.error : undefined;
            },
          });
    if (text === undefined) return undefined;
    const r = bytesFromText(text);
    if ('error' in r) {
      void vscode.window.showErrorMessage(`LwM2M: ${r.error}`);
      return undefined;
    }
    return provider.openPayload(r.bytes, { title: 'pasted payload' });
  });

  register(InspectorCommands.decodeSelection, async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage('Select hex or base64 text in an editor first.');
      return undefined;
    }
    const sel = editor.selections.filter((s) => !s.isEmpty);
    const text = sel.length > 0 ? sel.map((s) => editor.document.getText(s)).join('\n') : editor.document.lineAt(editor.selection.active.line).text;
    const r = bytesFromText(text);
    if ('error' in r) {
      void vscode.window.showErrorMessage(`LwM2M: cannot decode the selection: ${r.error}`);
      return undefined;
    }
    return provider.openPayload(r.bytes, { title: `selection (${r.encoding})` });
  });

  register(InspectorCommands.open, async (arg?: unknown) => {
    const uri = arg instanceof vscode.Uri ? arg : (vscode.window.activeTextEditor?.document.uri ?? undefined);
    if (!uri) {
      void vscode.window.showWarningMessage('Choose a file to open in the Payload Inspector.');
      return;
    }
    await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_ANY_VIEW_TYPE);
  });

  register(InspectorCommands.reopenAsText, async (arg?: unknown) => {
    const doc = target(arg);
    if (doc) await vscode.commands.executeCommand('vscode.openWith', doc.uri, 'default');
  });

  register(InspectorCommands.convert, async (arg?: unknown) => {
    const doc = target(arg);
    if (doc) await report(() => provider.convert(doc));
  });

  const copy = (as: CopyKind) => async (arg?: unknown) => {
    const doc = target(arg);
    if (doc) await report(() => provider.request(doc, 'copy', { as }));
  };
  register(InspectorCommands.copyAsSenmlJson, copy('senml-json'));
  register(InspectorCommands.copyAsHex, copy('hex'));
  register(InspectorCommands.copyAsCArray, copy('c-array'));

  register(InspectorCommands.changeFormat, async (arg?: unknown) => {
    const doc = target(arg);
    if (doc) await report(() => provider.pickFormat(doc));
  });
  register(InspectorCommands.setBasePath, async (arg?: unknown) => {
    const doc = target(arg);
    if (doc) await report(() => provider.pickBasePath(doc));
  });
}
