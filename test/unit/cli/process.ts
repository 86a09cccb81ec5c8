/**
 * A CLI process for the tests (node --import tsx src/cli/main.ts …): its JSON lines, waiting for
 * a matching one, its output for failure messages, its exit code. The caller kills `children`
 * after its tests.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const root = join(__dirname, '..', '..', '..');
export type Line = Record<string, unknown> & { event?: string };

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  lines: Line[];
  /** The first line (seen or to come) matching `pred`; rejects after `ms` with the output so far. */
  wait: (pred: (l: Line) => boolean, ms?: number) => Promise<Line>;
  output: () => string;
  exited: Promise<number | null>;
}

export function spawnCli(args: string[], children: ChildProcessWithoutNullStreams[]): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, stdio: 'pipe' });
  children.push(child);
  const lines: Line[] = [];
  let stderr = '';
  const waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  child.stderr.on('data', (d) => (stderr += String(d)));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of [...waiters]) if (w.pred(line)) w.resolve(line);
  });
  const output = (): string => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr}`;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const wait = (pred: (l: Line) => boolean, ms = 30_000): Promise<Line> => {
    const seen = lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${ms} ms:\n${output()}`)), ms);
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };
  return { child, lines, wait, output, exited };
}
