/**
 * SenML CBOR (CF 112) wire layer: bytes ⇄ SenmlRecord, hand-decoded on the CBOR reader
 * (integer labels per RFC 8428 §6, the text label "vlo"). Every record gets its byte span.
 */

import { ContentFormat } from '../../contentFormat';
import { CborReader, CborWriter } from '../cbor/wire';
import { CBOR_LABELS, clearSenmlRecord, newSenmlRecord, type SenmlRecord, type SenmlSink } from './record';

const FORMAT = ContentFormat.SenmlCbor;

/** Registered labels by their JSON names: as text keys in CBOR they are an encoder bug (pitfall 30). */
const JSON_LABELS = new Set([...Object.keys(CBOR_LABELS), 'bs']);

/** The code of "vlo"; the registered labels −5..8 have codes 0..13 (see readRecord). */
const VLO = 14;
/** Codes of v (2), vs (3), vb (4), vd (8) and vlo as bits: a record has at most one of them. */
const VALUE_BITS = (1 << 7) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << VLO);

/**
 * Reads a SenML CBOR pack (a CBOR array of maps, definite or indefinite), handing each record
 * to `sink` as soon as it is read (so after a DecodeError the sink has had the records before
 * the failing one; the record object is reused, see SenmlSink).
 */
export function readSenmlCbor(bytes: Uint8Array, sink: SenmlSink): void {
  const r = new CborReader(bytes, FORMAT);
  const rec = newSenmlRecord();
  const count = r.readArrayStart('a CBOR array (SenML pack)');
  for (let i = 0; count < 0 ? !r.atBreak() : i < count; i++) sink.record(readRecord(r, rec));
  r.expectEnd();
}

/** Reads one record into `rec` (cleared first) and returns it. */
function readRecord(r: CborReader, rec: SenmlRecord): SenmlRecord {
  const start = r.pos;
  const pairs = r.readMapStart('a CBOR map (SenML record)');
  clearSenmlRecord(rec);
  const bytes = r.bytes;
  let seen = 0;
  for (let i = 0; pairs < 0 ? !r.atBreak() : i < pairs; i++) {
    const keyAt = r.pos;
    const b = bytes[keyAt]!;
    let label: number | string;
    // Every registered label is a one-byte integer: 0x00..0x17 (0..23) or 0x20..0x37 (−1..−24).
    if (b < 0x18) {
      label = b;
      r.pos++;
    } else if (b >= 0x20 && b < 0x38) {
      label = 0x1f - b;
      r.pos++;
    } else if (b >> 5 === 3) {
      label = r.readText();
      if (label !== 'vlo') {
        if (label.endsWith('_')) r.fail('no labels ending in "_" (must-understand)', JSON.stringify(label), keyAt);
        if (JSON_LABELS.has(label) || /^-?\d+$/.test(label)) r.fail('an integer label (SenML CBOR keys are integers)', `the text key ${JSON.stringify(label)}`, keyAt);
        r.skip();
        continue;
      }
    } else {
      const major = r.readHead();
      if (major > 1) r.fail('an integer or text label', r.describe());
      r.skip(); // an integer label beyond the registered ones
      continue;
    }
    // A dense code per known label: integer label + 5 (−5..8 → 0..13), vlo = 14.
    const code = label === 'vlo' ? VLO : (label as number) >= -5 && (label as number) <= 8 ? (label as number) + 5 : -1;
    if (code < 0) {
      r.skip(); // unknown or unused label (e.g. bs = −6)
      continue;
    }
    const bit = 1 << code;
    if (seen & bit) r.fail('each label at most once', `a second ${labelName(label)}`, keyAt);
    if (bit & VALUE_BITS && seen & VALUE_BITS) r.fail('one value label per record (v, vs, vb, vd or vlo)', `${labelName(label)} as well`, keyAt);
    seen |= bit;
    readLabel(r, rec, code);
  }
  rec.span = [start, r.pos];
  return rec;
}

/** Reads the value of the label with `code` (see readRecord) into the record. */
function readLabel(r: CborReader, rec: SenmlRecord, code: number): void {
  switch (code) {
    case 0: // bv (−5)
      rec.bv = Number(r.readNumeric('a number (bv)'));
      return;
    case 1: // bu (−4)
      rec.bu = r.readText('a text string (bu)');
      return;
    case 2: // bt (−3)
      rec.bt = Number(r.readNumeric('a number (bt)'));
      return;
    case 3: // bn (−2)
      rec.bn = r.readName('a text string (bn)');
      return;
    case 4: // bver (−1)
      rec.bver = Number(r.readNumeric('a number (bver)'));
      return;
    case 5: // n (0)
      rec.n = r.readName('a text string (n)');
      return;
    case 6: // u (1)
      rec.u = r.readText('a text string (u)');
      return;
    case 7: // v (2)
      if (r.readNull()) rec.v = null;
      else {
        rec.v = r.readNumeric('a number or null (v)');
        if (r.isFloat) rec.float = true;
      }
      return;
    case 8: // vs (3)
      rec.vs = r.readName('a text string (vs)');
      return;
    case 9: // vb (4)
      rec.vb = r.readBoolean('a boolean (vb)');
      return;
    case 10: // s (5)
      rec.s = Number(r.readNumeric('a number (s)'));
      return;
    case 11: // t (6)
      rec.t = Number(r.readNumeric('a number (t)'));
      return;
    case 12: // ut (7)
      rec.ut = Number(r.readNumeric('a number (ut)'));
      return;
    case 13: // vd (8)
      rec.vd = r.readBytes('a byte string (vd)');
      return;
    case VLO:
      rec.vlo = r.readName('a text string (vlo)');
  }
}

function labelName(label: number | string): string {
  return typeof label === 'string' ? label : (Object.keys(CBOR_LABELS).find((k) => CBOR_LABELS[k as keyof typeof CBOR_LABELS] === label) ?? String(label));
}

function writeNumber(w: CborWriter, v: number | bigint, float: boolean | undefined): void {
  if (typeof v === 'bigint' || (!float && Number.isSafeInteger(v) && !Object.is(v, -0))) w.int(v);
  else w.float(v);
}

/** Writes a SenML CBOR pack: integer labels, shortest numbers. */
export function writeSenmlCbor(pack: readonly SenmlRecord[]): Uint8Array {
  const w = new CborWriter();
  w.array(pack.length);
  for (const r of pack) {
    const pairs =
      +(r.bver !== undefined) + +(r.bn !== undefined) + +(r.bt !== undefined) + +(r.bu !== undefined) + +(r.bv !== undefined) +
      +(r.n !== undefined) + +(r.u !== undefined) + +(r.v !== undefined) + +(r.vs !== undefined) + +(r.vb !== undefined) +
      +(r.vd !== undefined) + +(r.vlo !== undefined) + +(r.s !== undefined) + +(r.t !== undefined) + +(r.ut !== undefined);
    w.map(pairs);
    if (r.bver !== undefined) writeNumber(w.int(CBOR_LABELS.bver), r.bver, false);
    if (r.bn !== undefined) w.int(CBOR_LABELS.bn).text(r.bn);
    if (r.bt !== undefined) writeNumber(w.int(CBOR_LABELS.bt), r.bt, false);
    if (r.bu !== undefined) w.int(CBOR_LABELS.bu).text(r.bu);
    if (r.bv !== undefined) writeNumber(w.int(CBOR_LABELS.bv), r.bv, false);
    if (r.n !== undefined) w.int(CBOR_LABELS.n).text(r.n);
    if (r.u !== undefined) w.int(CBOR_LABELS.u).text(r.u);
    if (r.v === null) w.int(CBOR_LABELS.v).null();
    else if (r.v !== undefined) writeNumber(w.int(CBOR_LABELS.v), r.v, r.float);
    if (r.vs !== undefined) w.int(CBOR_LABELS.vs).text(r.vs);
    if (r.vb !== undefined) w.int(CBOR_LABELS.vb).boolean(r.vb);
    if (r.vd !== undefined) w.int(CBOR_LABELS.vd).bytes(r.vd);
    if (r.vlo !== undefined) w.text('vlo').text(r.vlo);
    if (r.s !== undefined) writeNumber(w.int(CBOR_LABELS.s), r.s, false);
    if (r.t !== undefined) writeNumber(w.int(CBOR_LABELS.t), r.t, false);
    if (r.ut !== undefined) writeNumber(w.int(CBOR_LABELS.ut), r.ut, false);
  }
  return w.finish();
}
