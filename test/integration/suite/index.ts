// The @vscode/test-electron contract: VS Code loads this module in the extension host and
// calls run(); mocha runs every bundled *.test.js beside it (LWM2M_TEST_GREP=regexp runs only the
// tests whose full title matches, e.g. to time one test again and again).
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const grep = process.env.LWM2M_TEST_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 20_000, reporter: 'spec', ...(grep ? { grep: new RegExp(grep) } : {}) });
  const dir = __dirname;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(dir, file));
  console.log('[lwm2m-extension-tests] start');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(`${runner.stats?.passes ?? mocha.suite.total() - failures} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
  });
}
