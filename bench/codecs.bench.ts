// Codec throughput (issue "LwM2M data core", benchmarks): decode and encode payloads/s and MB/s,
// each as a ratio to a bare parser measured in the same run:
//   - JSON.parse of the equivalent SenML JSON text,
//   - cbor-x `decode` with default options of the equivalent CBOR bytes.
// Payloads: Device /3/0 (the spec example) in TLV, SenML JSON, SenML CBOR and LwM2M CBOR; a
// 1,000-instance multiple resource; 100 timestamped SenML CBOR records (a Send).
import { decode as cborxDecode, encode as cborxEncode } from 'cbor-x';
import { codecRegistry } from '../src/core/codec/registry';
import type { CodecContext } from '../src/core/codec/types';
import { createModelRegistry } from '../src/core/model/bundled';
import type { Lwm2mRecord } from '../src/core/node';
import { Lwm2mPath } from '../src/core/path';
import { compare, report, type BenchRow } from './lib';

const TLV = 11542;
const SENML_JSON = 110;
const SENML_CBOR = 112;
const LWM2M_CBOR = 11544;
const NAMES: Record<number, string> = { [TLV]: 'TLV', [SENML_JSON]: 'SenML JSON', [SENML_CBOR]: 'SenML CBOR', [LWM2M_CBOR]: 'LwM2M CBOR' };

const models = createModelRegistry();
const p = (...ids: number[]) => new Lwm2mPath(ids);

/** Device /3/0 as in the LwM2M spec example (lwm2m-protocol.md §10.4). */
const device: Lwm2mRecord[] = [
  { path: p(3, 0, 0), type: 'string', value: 'Open Mobile Alliance' },
  { path: p(3, 0, 1), type: 'string', value: 'Lightweight M2M Client' },
  { path: p(3, 0, 2), type: 'string', value: '345000123' },
  { path: p(3, 0, 3), type: 'string', value: '1.0' },
  { path: p(3, 0, 6, 0), type: 'integer', value: 1 },
  { path: p(3, 0, 6, 1), type: 'integer', value: 5 },
  { path: p(3, 0, 7, 0), type: 'integer', value: 3800 },
  { path: p(3, 0, 7, 1), type: 'integer', value: 5000 },
  { path: p(3, 0, 8, 0), type: 'integer', value: 125 },
  { path: p(3, 0, 8, 1), type: 'integer', value: 900 },
  { path: p(3, 0, 9), type: 'integer', value: 100 },
  { path: p(3, 0, 10), type: 'integer', value: 15 },
  { path: p(3, 0, 11, 0), type: 'integer', value: 0 },
  { path: p(3, 0, 13), type: 'time', value: 1367491215 },
  { path: p(3, 0, 14), type: 'string', value: '+02:00' },
  { path: p(3, 0, 16), type: 'string', value: 'U' },
];

/** /3/0/7 (Power Source Voltage, Integer) with 1,000 resource instances. */
const many: Lwm2mRecord[] = Array.from({ length: 1000 }, (_, i) => ({ path: p(3, 0, 7, i), type: 'integer' as const, value: 3000 + ((i * 37) % 2000) }));

/** 100 timestamped temperature readings, as a client's Send carries them. */
const series: Lwm2mRecord[] = Array.from({ length: 100 }, (_, i) => ({
  path: p(3303, 0, 5700),
  type: 'float' as const,
  value: 20 + ((i * 7) % 50) / 10,
  time: 1_700_000_000 + i * 10,
}));

interface Payload {
  name: string;
  records: Lwm2mRecord[];
  ctx: CodecContext;
}
const payloads: Payload[] = [
  { name: 'Device /3/0', records: device, ctx: { path: p(3, 0), models } },
  { name: '1,000-instance /3/0/7', records: many, ctx: { path: p(3, 0, 7), models } },
  { name: '100 timestamped /3303/0/5700', records: series, ctx: { path: p(), models } },
];

const rows: BenchRow[] = [];
const perElementNs = new Map<string, number>(); // "format|payload" → ns per record (decode)

for (const pl of payloads) {
  const jsonBytes = codecRegistry.encode(SENML_JSON, pl.records, pl.ctx);
  const jsonText = Buffer.from(jsonBytes).toString('utf8');
  const cborBytes = codecRegistry.encode(SENML_CBOR, pl.records, pl.ctx);
  const formats = pl.records === series ? [SENML_CBOR, SENML_JSON] : [TLV, SENML_JSON, SENML_CBOR, LWM2M_CBOR];
  for (const f of formats) {
    const bytes = codecRegistry.encode(f, pl.records, pl.ctx);
    const decodeOnce = () => codecRegistry.decode(f, bytes, pl.ctx);
    const check = decodeOnce();
    if (check.records.length !== pl.records.length) throw new Error(`${NAMES[f]} ${pl.name}: decoded ${check.records.length} records, expected ${pl.records.length}`);

    // Decode: TLV and SenML JSON against JSON.parse of the SenML JSON text; CBOR formats against
    // cbor-x's decode of their own bytes.
    const cbor = f === SENML_CBOR || f === LWM2M_CBOR;
    const baselineName = cbor ? `cbor-x decode (${bytes.length} B)` : `JSON.parse SenML JSON (${jsonText.length} B)`;
    const baseline = cbor ? () => cborxDecode(bytes) : () => JSON.parse(jsonText);
    const d = compare(decodeOnce, baseline);
    const ratio = d.subject / d.baseline;
    let target: string | undefined;
    if (pl.records === device || pl.records === series) {
      if (f === TLV) target = '>= 2';
      else if (f === SENML_JSON) target = '>= 0.8';
      else if (f === SENML_CBOR) target = '>= 1.2';
    }
    const min = target ? Number(target.slice(3)) : undefined;
    rows.push({
      suite: 'codec',
      name: `decode ${NAMES[f]} ${pl.name} (${bytes.length} B)`,
      opsPerSec: d.subject,
      mbPerSec: (d.subject * bytes.length) / 1e6,
      baseline: baselineName,
      baselineOpsPerSec: d.baseline,
      ratio,
      target,
      pass: min === undefined ? undefined : ratio >= min,
    });
    perElementNs.set(`${f}|${pl.name}`, 1e9 / d.subject / pl.records.length);

    // Encode: against JSON.stringify of the SenML JSON / cbor-x encode of the equivalent value.
    const parsed = JSON.parse(jsonText) as unknown;
    const cborValue = cborxDecode(cborBytes) as unknown;
    const e = compare(
      () => codecRegistry.encode(f, pl.records, pl.ctx),
      cbor ? () => cborxEncode(cborValue) : () => JSON.stringify(parsed),
    );
    rows.push({
      suite: 'codec',
      name: `encode ${NAMES[f]} ${pl.name}`,
      opsPerSec: e.subject,
      mbPerSec: (e.subject * bytes.length) / 1e6,
      baseline: cbor ? 'cbor-x encode' : 'JSON.stringify SenML JSON',
      baselineOpsPerSec: e.baseline,
      ratio: e.subject / e.baseline,
    });
  }
}

// Linearity: time per record on the 1,000-instance payload within 2× of that on /3/0.
for (const f of [TLV, SENML_JSON, SENML_CBOR, LWM2M_CBOR]) {
  const small = perElementNs.get(`${f}|Device /3/0`);
  const large = perElementNs.get(`${f}|1,000-instance /3/0/7`);
  if (small === undefined || large === undefined) continue;
  const ratio = large / small;
  rows.push({
    suite: 'codec',
    name: `linearity ${NAMES[f]}: ns/record 1,000-instance vs /3/0`,
    opsPerSec: 1e9 / large,
    ratio,
    target: '<= 2',
    pass: ratio <= 2,
    note: `${large.toFixed(0)} ns per record on 1,000 instances, ${small.toFixed(0)} ns on /3/0`,
  });
}

report(rows);
