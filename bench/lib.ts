// A small benchmark kit. These machines are shared and noisy, so every figure is reported as a
// ratio to a baseline measured in the same run, interleaved round by round (subject, baseline,
// subject, …) and summarised by the median of the rounds.
import { writeFileSync } from 'node:fs';

export interface BenchRow {
  /** e.g. "codec". */
  suite: string;
  name: string;
  opsPerSec: number;
  /** Payload throughput, when the row has a payload size. */
  mbPerSec?: number;
  baseline?: string;
  baselineOpsPerSec?: number;
  /** opsPerSec / baselineOpsPerSec, or another figure the row explains in `note`. */
  ratio?: number;
  /** e.g. ">= 1.2". */
  target?: string;
  pass?: boolean;
  note?: string;
}

/** Runs fn in a batch sized to take about `batchMs`; returns operations per second. */
function timeBatch(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start);
  return (iterations * 1e9) / ns;
}

function calibrate(fn: () => unknown, batchMs: number): number {
  let n = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms >= batchMs / 4 || n > 1e8) return Math.max(1, Math.round((n * batchMs) / Math.max(ms, 0.001)));
    n *= 4;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface CompareOptions {
  rounds?: number;
  batchMs?: number;
  /** Calls of each function before measuring (JIT warm-up); default 200. */
  warmup?: number;
}

/** Measures subject and baseline interleaved; returns both medians in operations per second. */
export function compare(subject: () => unknown, baseline: () => unknown, opts: CompareOptions = {}): { subject: number; baseline: number } {
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 7);
  const batchMs = opts.batchMs ?? Number(process.env.BENCH_BATCH_MS ?? 60);
  // Warm up both (JIT) before calibrating.
  for (let i = 0; i < (opts.warmup ?? 200); i++) {
    subject();
    baseline();
  }
  const ns = calibrate(subject, batchMs);
  const nb = calibrate(baseline, batchMs);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(timeBatch(subject, ns));
    b.push(timeBatch(baseline, nb));
  }
  return { subject: median(a), baseline: median(b) };
}

/** Measures one function alone (operations per second, median of rounds). */
export function measure(fn: () => unknown, opts: CompareOptions = {}): number {
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 7);
  const batchMs = opts.batchMs ?? Number(process.env.BENCH_BATCH_MS ?? 60);
  for (let i = 0; i < (opts.warmup ?? 200); i++) fn();
  const n = calibrate(fn, batchMs);
  const xs: number[] = [];
  for (let r = 0; r < rounds; r++) xs.push(timeBatch(fn, n));
  return median(xs);
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? '' : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(digits);

/** Prints rows as a table on stdout and hands them to the aggregator (scripts/bench.mjs). */
export function report(rows: BenchRow[]): void {
  const header = ['suite', 'benchmark', 'ops/s', 'MB/s', 'baseline', 'baseline ops/s', 'ratio', 'target', ''];
  const lines = rows.map((r) => [
    r.suite,
    r.name,
    fmt(r.opsPerSec),
    r.mbPerSec === undefined ? '' : r.mbPerSec.toFixed(1),
    r.baseline ?? '',
    fmt(r.baselineOpsPerSec),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'ok' : 'BELOW TARGET',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out = process.stdout;
  const row = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  out.write(`${row(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) out.write(`${row(l)}\n`);
  for (const r of rows) if (r.note) out.write(`  note (${r.name}): ${r.note}\n`);
  if (process.env.LWM2M_BENCH_JSON_OUT) writeFileSync(process.env.LWM2M_BENCH_JSON_OUT, JSON.stringify(rows, null, 2));
}
