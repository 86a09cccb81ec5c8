import * as vscode from 'vscode';
import { Commands } from './commands';

/** A DTLS pre-shared key of one client endpoint. */
export interface PskCredential {
  endpoint: string;
  identity: string;
  /** The key as lowercase hex. */
  keyHex: string;
}

const PREFIX = 'lwm2m.psk.';
const INDEX = 'lwm2m.psk.endpoints';

/**
 * PSK credentials for DTLS, kept in VS Code's SecretStorage (never in settings). The endpoint list
 * lives in SecretStorage too, so nothing about the keys lands in settings or workspace state.
 */
export class PskCredentials {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async endpoints(): Promise<string[]> {
    const raw = await this.secrets.get(INDEX);
    try {
      const list: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string').sort() : [];
    } catch {
      return [];
    }
  }

  async get(endpoint: string): Promise<PskCredential | undefined> {
    const raw = await this.secrets.get(PREFIX + endpoint);
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as { identity: string; keyHex: string };
      return { endpoint, identity: v.identity, keyHex: v.keyHex };
    } catch {
      return undefined;
    }
  }

  /**
   * The key of a DTLS handshake's PSK identity and the endpoint it may register as (CoAPS lookup).
   * Undefined refuses the identity.
   */
  async lookupIdentity(identity: string): Promise<{ key: Uint8Array; endpoint: string } | undefined> {
    for (const endpoint of await this.endpoints()) {
      const c = await this.get(endpoint);
      if (c?.identity === identity) return { key: Buffer.from(c.keyHex, 'hex'), endpoint };
    }
    return undefined;
  }

  /**
   * A bootstrap configuration's `keyRef`: the stored credential whose identity, else whose
   * endpoint, is `keyRef`. The key leaves SecretStorage only to be written to the client.
   */
  async resolveKeyRef(keyRef: string): Promise<Uint8Array | undefined> {
    const byIdentity = await this.lookupIdentity(keyRef);
    if (byIdentity) return byIdentity.key;
    const byEndpoint = await this.get(keyRef);
    return byEndpoint ? Buffer.from(byEndpoint.keyHex, 'hex') : undefined;
  }

  async set(c: PskCredential): Promise<void> {
    const key = normalizeKey(c.keyHex);
    if (key === undefined) throw new Error('The PSK must be hex (e.g. 0123456789abcdef), 1 to 64 bytes.');
    if (!c.identity) throw new Error('The PSK identity must not be empty.');
    await this.secrets.store(PREFIX + c.endpoint, JSON.stringify({ identity: c.identity, keyHex: key }));
    const list = new Set(await this.endpoints());
    list.add(c.endpoint);
    await this.secrets.store(INDEX, JSON.stringify([...list]));
  }

  async remove(endpoint: string): Promise<boolean> {
    const had = (await this.secrets.get(PREFIX + endpoint)) !== undefined;
    await this.secrets.delete(PREFIX + endpoint);
    const list = (await this.endpoints()).filter((e) => e !== endpoint);
    await this.secrets.store(INDEX, JSON.stringify(list));
    return had;
  }

  register(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
    context.subscriptions.push(
      vscode.commands.registerCommand(Commands.setPskCredential, async (arg?: Partial<PskCredential>) => {
        const endpoint =
          arg?.endpoint ??
          (await vscode.window.showInputBox({ title: 'PSK credential (1/3)', prompt: 'Endpoint name of the client', validateInput: (v) => (v.trim() ? undefined : 'Required') }))?.trim();
        if (!endpoint) return undefined;
        const identity =
          arg?.identity ??
          (await vscode.window.showInputBox({ title: 'PSK credential (2/3)', prompt: `PSK identity of "${endpoint}"`, value: endpoint, validateInput: (v) => (v ? undefined : 'Required') }));
        if (!identity) return undefined;
        const keyHex =
          arg?.keyHex ??
          (await vscode.window.showInputBox({
            title: 'PSK credential (3/3)',
            prompt: 'Pre-shared key as hex (stored in VS Code SecretStorage)',
            password: true,
            validateInput: (v) => (normalizeKey(v) !== undefined ? undefined : 'Hex digits, an even number, 1 to 64 bytes'),
          }));
        if (!keyHex) return undefined;
        await this.set({ endpoint, identity, keyHex });
        log.info(`PSK credential stored for "${endpoint}" (identity "${identity}")`);
        void vscode.window.showInformationMessage(`PSK credential for "${endpoint}" stored in SecretStorage: it can now register over CoAPS (DTLS) with identity "${identity}".`);
        return endpoint;
      }),
      vscode.commands.registerCommand(Commands.removePskCredential, async (arg?: { endpoint?: string } | string) => {
        let endpoint = typeof arg === 'string' ? arg : arg?.endpoint;
        if (!endpoint) {
          const list = await this.endpoints();
          if (list.length === 0) {
            void vscode.window.showInformationMessage('No PSK credentials are stored.');
            return false;
          }
          endpoint = await vscode.window.showQuickPick(list, { title: 'Remove PSK credential', placeHolder: 'Endpoint' });
        }
        if (!endpoint) return false;
        const removed = await this.remove(endpoint);
        log.info(`PSK credential of "${endpoint}" removed`);
        return removed;
      }),
      vscode.commands.registerCommand(Commands.listPskCredentials, async (arg?: { quiet?: boolean }) => {
        const list = await this.endpoints();
        const items = await Promise.all(list.map(async (e) => ({ endpoint: e, identity: (await this.get(e))?.identity ?? '?' })));
        if (!arg?.quiet) {
          if (items.length === 0) void vscode.window.showInformationMessage('No PSK credentials are stored. Add one with "LwM2M: Add PSK Credential…".');
          else void vscode.window.showQuickPick(items.map((i) => ({ label: i.endpoint, description: `identity ${i.identity} · key hidden` })), { title: 'Stored PSK credentials' });
        }
        return items;
      }),
    );
  }
}

/** Hex key text → lowercase hex, or undefined when not 1..64 bytes of hex. */
export function normalizeKey(text: string): string | undefined {
  const hex = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '').toLowerCase();
  return /^([0-9a-f]{2}){1,64}$/.test(hex) ? hex : undefined;
}
