// Opening a 1 MB TLV in the payload inspector, extension side (issue #6: "a 1 MB TLV opens in
// under 1 s"): decode + node table + byte annotations (`analyze`), then the state messages
// built and serialised (structured clone, as postMessage does). Every row is a ratio to
// JSON.parse of the same records as SenML JSON text, measured in the same run.
//   - "first message": what the host must do before the webview can show the first screen
//     (analyze, split, clone the first part).
//   - "both messages": also the rest of the rows and bytes.
//   - "one message (before parts)": the whole table packed into a single state, as before.
import { codecRegistry } from '../src/core/codec/registry';
import { temperatureTlv } from '../test/fixtures/largeTlv';
import { createModelRegistry } from '../src/core/model/bundled';
import { Lwm2mPath } from '../src/core/path';
import { packTable } from '../src/common/pack';
import { splitState, type StateHead } from '../src/common/parts';
import { analyze } from '../src/vscode/inspector/analyze';
import { compare, report, type BenchRow } from './lib';

const models = createModelRegistry();
const TLV = 11542;
const SENML_JSON = 110;

/** The payload of the integration test: Temperature (3303) instances until 1 MiB. */
function temperatures(): Uint8Array {
  return temperatureTlv().bytes;
}

const bytes = temperatures();
const basePath = Lwm2mPath.parse('/3303');
const head: StateHead = {
  revision: 1,
  title: 'temperature-1mb.tlv',
  format: TLV,
  formatName: 'LwM2M TLV (11542)',
  formatReason: 'from the file name (*.tlv)',
  formatChosen: false,
  formats: [],
  basePath: '/3303',
  usesBasePath: true,
  basePathReason: 'guessed',
  notes: [],
  editable: true,
  analyzeMs: 0,
  sentAt: 0,
};

const check = analyze({ bytes, format: TLV, basePath, models });
if (check.error) throw new Error(`the payload does not decode: ${check.error.message}`);
const jsonText = new TextDecoder().decode(codecRegistry.encode(SENML_JSON, check.records, { path: basePath, models }));
const baselineName = `JSON.parse SenML JSON (${(jsonText.length / 1e6).toFixed(1)} MB)`;
const baseline = () => JSON.parse(jsonText) as unknown;

const open = () => analyze({ bytes, format: TLV, basePath, models });
const firstMessage = () => {
  const a = open();
  return structuredClone(splitState(head, a.nodes, bytes, a.segments).state);
};
const bothMessages = () => {
  const a = open();
  const parts = splitState(head, a.nodes, bytes, a.segments);
  return [structuredClone(parts.state), structuredClone(parts.rest)];
};
const oneMessage = () => {
  const a = open();
  return structuredClone({ ...head, bytes, byteLength: bytes.length, nodes: packTable(a.nodes), segments: a.segments });
};

const parts = splitState(head, check.nodes, bytes, check.segments);
const size = (p: { bytes: Uint8Array; segments: Int32Array; nodes: { rows: Uint8Array; text: string; times: Float64Array } }) =>
  p.bytes.length + p.segments.byteLength + p.nodes.rows.length + p.nodes.text.length + p.nodes.times.byteLength;
const firstSize = size(parts.state);
const restSize = parts.rest ? size(parts.rest) : 0;

const opts = { warmup: 3, rounds: Number(process.env.BENCH_ROUNDS ?? 5), batchMs: 1 };
const rows: BenchRow[] = [];
const subjects: [string, () => unknown, string?][] = [
  [`analyze 1 MB TLV (${check.nodes.count} rows)`, open],
  ['open 1 MB TLV: analyze + first message', firstMessage, `first message ${(firstSize / 1024).toFixed(1)} KB (${parts.state.nodes.count} rows, ${parts.state.bytes.length} bytes)`],
  ['open 1 MB TLV: analyze + both messages', bothMessages, `rest ${(restSize / 1e6).toFixed(2)} MB`],
  ['open 1 MB TLV: analyze + one message (before parts)', oneMessage],
];
for (const [name, fn, note] of subjects) {
  const r = compare(fn, baseline, opts);
  rows.push({
    suite: 'inspector',
    name,
    opsPerSec: r.subject,
    mbPerSec: (r.subject * bytes.length) / 1e6,
    baseline: baselineName,
    baselineOpsPerSec: r.baseline,
    ratio: r.subject / r.baseline,
    note: `${(1000 / r.subject).toFixed(0)} ms per open${note ? `; ${note}` : ''}`,
  });
}
report(rows);
