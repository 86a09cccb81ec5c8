#!/usr/bin/env node
// Builds the three bundles with esbuild and checks that src/core stays free of `vscode`:
//   dist/extension.js  (node, cjs, `vscode` external)  - the extension
//   dist/cli.js        (node, cjs, shebang)            - the `lwm2m-workbench` command
//   dist/webview/*.js  (browser, iife)                  - webview scripts
// Flags: --production (minify, no source maps), --watch, --tests (also bundle test suites).
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, statSync, existsSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const withTests = args.has('--tests') || !production;

/** cbor-x tries to load the native `cbor-extract` add-on; ship none (the host's Node ABI differs). */
const noNativeAddons = {
  name: 'no-native-addons',
  setup(build) {
    build.onResolve({ filter: /^cbor-extract$/ }, () => ({ path: 'cbor-extract', namespace: 'no-native' }));
    build.onLoad({ filter: /.*/, namespace: 'no-native' }, () => ({ contents: 'module.exports = undefined;', loader: 'js' }));
  },
};

function listFiles(dir, pred) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out;
}

/** Fails when anything under src/core imports `vscode` (even a type import). */
function checkCorePurity() {
  const offenders = [];
  for (const file of listFiles(join(root, 'src', 'core'), (p) => p.endsWith('.ts'))) {
    const text = readFileSync(file, 'utf8');
    if (/(from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/.test(text)) {
      offenders.push(relative(root, file));
    }
  }
  if (offenders.length) {
    throw new Error(`src/core must not import 'vscode' (it runs in plain Node and the CLI):\n  ${offenders.join('\n  ')}`);
  }
}

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  plugins: [noNativeAddons],
  // jsonc-parser's `main` is a UMD build whose lazy require()s esbuild cannot follow: use its ES modules.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

const webviewEntries = listFiles(join(root, 'src', 'webview'), (p) => /[\\/]src[\\/]webview[\\/][^\\/]+[\\/]main\.ts$/.test(p));

const configs = [
  {
    ...common,
    entryPoints: { extension: 'src/vscode/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    // The core bundled on its own with no `vscode` external: a stray value import fails here.
    entryPoints: { core: 'src/core/index.ts' },
    outdir: join('out', 'purity'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
  },
];
if (webviewEntries.length) {
  configs.push({
    ...common,
    entryPoints: Object.fromEntries(webviewEntries.map((p) => [relative(join(root, 'src', 'webview'), p).split(/[\\/]/)[0], p])),
    outdir: join('dist', 'webview'),
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  });
}
if (withTests) {
  configs.push({
    ...common,
    sourcemap: 'inline',
    entryPoints: {
      index: 'test/integration/suite/index.ts',
      ...Object.fromEntries(
        listFiles(join(root, 'test', 'integration'), (p) => p.endsWith('.test.ts')).map((p) => [
          relative(join(root, 'test', 'integration'), p).replace(/\.ts$/, ''),
          p,
        ]),
      ),
    },
    outdir: join('out', 'test', 'integration'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
  });
}

/** The codicon font and its stylesheet ship beside the webview scripts (dist/webview/). */
function copyCodicons() {
  const from = join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  mkdirSync(join(root, 'dist', 'webview'), { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(from, f), join(root, 'dist', 'webview', f));
}

async function main() {
  const started = Date.now();
  checkCorePurity();
  if (!watch) rmSync(join(root, 'dist'), { recursive: true, force: true });
  copyCodicons();
  if (watch) {
    const contexts = await Promise.all(configs.map((c) => esbuild.context({ ...c, absWorkingDir: root })));
    await Promise.all(contexts.map((c) => c.watch()));
    console.log('[build] watching for changes…');
    return;
  }
  await Promise.all(configs.map((c) => esbuild.build({ ...c, absWorkingDir: root })));
  console.log(`[build] ${configs.length} bundles in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
