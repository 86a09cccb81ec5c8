// Runs the extension-host tests through @vscode/test-electron's runTests(). Where desktop VS Code
// cannot be downloaded (these machines, CI), it is pointed at our launcher, which runs the same
// suite in code-server. Set VSCODE_EXECUTABLE to use a desktop VS Code you have instead.
import { runTests } from '@vscode/test-electron';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const workspace = mkdtempSync(join(tmpdir(), 'lwm2m-it-workspace-'));
  try {
    await runTests({
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || join(root, 'scripts', 'vscode-test-launcher.mjs'),
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out', 'test', 'integration', 'index.js'),
      launchArgs: [workspace, '--disable-extensions'],
    });
  } catch (err) {
    console.error(`extension-host tests failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

void main();
