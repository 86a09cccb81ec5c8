/**
 * CF 60, application/cbor: one resource or resource-instance value (lwm2m-protocol.md §9),
 * and the typed LwM2M value items that LwM2M CBOR (11544) reuses for its leaves.
 */

import { ContentFormat } from '../../contentFormat';
import { EncodeError } from '../../errors';
import type { Lwm2mRecord, ObjectLink, Value, ValueType } from '../../node';
import type { Lwm2mPath } from '../../path';
import { lookupResource, parseObjlnk } from '../common';
import { GuessNotes, objlnkText, toInteger, valueProblem } from '../senml/values';
import type { Codec, CodecContext, DecodeResult } from '../types';
import { CborReader, CborWriter } from './wire';

export * from './wire';

const TAG_DATE_TIME = 0xc0; // tag 0: RFC 3339 text
const TAG_EPOCH = 0xc1; // tag 1: seconds since 1970

/** Reads an objlnk text item `"O:I"`. */
function readObjlnk(r: CborReader): ObjectLink {
  const text = r.readText('an objlnk text "O:I"');
  return parseObjlnk(text) ?? r.fail('an objlnk text "O:I"', JSON.stringify(text));
}

/** Reads a time: tag 1 + number, a bare integer, or tag 0 + RFC 3339 text. */
function readTime(r: CborReader): number {
  const at = r.pos;
  const first = r.bytes[at];
  if (first === TAG_DATE_TIME) {
    r.pos++;
    const text = r.readText('an RFC 3339 date-time text (tag 0)');
    const ms = /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : NaN;
    return Number.isNaN(ms) ? r.fail('an RFC 3339 date-time', JSON.stringify(text), at) : ms / 1000;
  }
  if (first === TAG_EPOCH) r.pos++;
  const v = r.readNumeric('a time (tag 1 + seconds, or an integer)');
  if (r.isFloat && first !== TAG_EPOCH) r.fail('a time (tag 1 + seconds, or an integer)', `float ${v}`, at);
  return Number(v);
}

function readInteger(r: CborReader, type: 'integer' | 'unsigned integer'): number | bigint {
  const expected = type === 'integer' ? 'an integer' : 'an unsigned integer';
  const major = r.readHead();
  if (major > 1 || (type === 'unsigned integer' && major === 1)) r.fail(expected, r.describe());
  const v = r.intValue();
  return toInteger(v, type) ?? r.fail(`${expected} in 64 bits`, String(v));
}

/**
 * Reads one value item for a resource of a known type (§9 / §13.1): floats also accept
 * integers and decimal fractions, times accept tag 1, bare integers and tag 0 text.
 * `null` (0xF6) reads as null (a Write-Composite deletion in LwM2M CBOR).
 */
export function readTypedValue(r: CborReader, type: ValueType): Value | null {
  if (r.readNull()) return null;
  switch (type) {
    case 'string':
    case 'corelnk':
      return r.readText();
    case 'integer':
    case 'unsigned integer':
      return readInteger(r, type);
    case 'float':
      return Number(r.readNumeric('a float'));
    case 'boolean':
      return r.readBoolean();
    case 'opaque':
      return r.readBytes();
    case 'time':
      return readTime(r);
    case 'objlnk':
      return readObjlnk(r);
    case 'none':
      return r.fail('no value (executable resource)', 'a value', r.pos);
  }
}

/** Reads one value item without a model: the CBOR type decides the LwM2M type. */
export function readGuessedValue(r: CborReader): { type: ValueType; value: Value | null } {
  if (r.readNull()) return { type: 'none', value: null };
  const first = r.bytes[r.pos];
  if (first === TAG_EPOCH || first === TAG_DATE_TIME) return { type: 'time', value: readTime(r) };
  switch (r.peekMajor()) {
    case 0:
    case 1:
      return { type: 'integer', value: r.readNumeric() };
    case 2:
      return { type: 'opaque', value: r.readBytes() };
    case 3:
      return { type: 'string', value: r.readText() };
    case 7:
      if (first === 0xf4 || first === 0xf5) return { type: 'boolean', value: r.readBoolean() };
  }
  return { type: 'float', value: Number(r.readNumeric('a value (number, string, bytes, boolean or time)')) };
}

/** Writes one value item of a given type; throws EncodeError when `value` does not fit it. */
export function writeTypedValue(w: CborWriter, type: ValueType, value: Value, path: Lwm2mPath, format: number): void {
  const problem = valueProblem(type, value);
  if (problem) throw new EncodeError(format, `${path}: ${problem}`);
  switch (type) {
    case 'string':
    case 'corelnk':
      w.text(value as string);
      return;
    case 'integer':
    case 'unsigned integer':
      w.int(value as number | bigint);
      return;
    case 'float':
      w.float(Number(value));
      return;
    case 'boolean':
      w.boolean(value as boolean);
      return;
    case 'opaque':
      w.bytes(value as Uint8Array);
      return;
    case 'time':
      w.tag(1);
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) w.int(value as number);
      else w.float(value as number);
      return;
    case 'objlnk':
      w.text(objlnkText(value as ObjectLink));
  }
}

/** The CF 60 codec: the request path (ctx.path) names the resource or resource instance. */
export const cborCodec: Codec = {
  format: ContentFormat.Cbor,
  name: 'cbor',

  decode(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
    const r = new CborReader(bytes, ContentFormat.Cbor);
    const path = ctx.path;
    if (path.length < 3) r.fail('a request path to a resource or resource instance', `request path ${path}`, 0);
    const model = lookupResource(ctx, path);
    const guesses = new GuessNotes();
    let record: Lwm2mRecord;
    if (model) record = { path, type: model.type, value: readTypedValue(r, model.type) };
    else {
      const { type, value } = readGuessedValue(r);
      record = { path, type, value, modelled: false };
      guesses.add(path, 'the CBOR item');
    }
    r.expectEnd();
    record.span = [0, bytes.length];
    return { format: ContentFormat.Cbor, records: [record], notes: guesses.notes };
  },

  encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
    if (records.length !== 1) {
      throw new EncodeError(ContentFormat.Cbor, `CBOR carries exactly one value, got ${records.length} records (for ${ctx.path})`);
    }
    const rec = records[0]!;
    if (rec.value === null) throw new EncodeError(ContentFormat.Cbor, `${rec.path}: no value to encode`);
    const w = new CborWriter();
    writeTypedValue(w, rec.type, rec.value, rec.path, ContentFormat.Cbor);
    return w.finish();
  },
};
