/**
 * LwM2M JSON (CF 11543; pre-1.0 devices label it 1543, which the registry maps here),
 * lwm2m-protocol.md §12: `{"bn":"/3/0/","bt":…,"e":[{"n":"0","sv":"…"},{"n":"9","v":100},…]}`.
 * Values: `v` numbers, `bv` booleans, `sv` strings and opaque (standard base64), `ov` objlnk.
 * Times: `bt + t` (either may be absent); below 2^28 they are relative to now, as in SenML.
 */

import { ContentFormat } from '../contentFormat';
import { DecodeError, EncodeError } from '../errors';
import type { Lwm2mRecord, ObjectLink, Value, ValueType } from '../node';
import { fromBase64, toBase64, utf8Encode } from './bytes';
import { parseObjlnk } from './common';
import { jsonNumber } from './senml/json';
import { decodeJsonText, jsonLocation, jsonPointer, locateJsonValues, parseJson } from './senml/jsonText';
import { resolveSenmlName } from './senml/node';
import { basePath, GuessNotes, objlnkText, RELATIVE_TIME_LIMIT, ResourceModels, systemNow, toInteger, valueProblem } from './senml/values';
import type { Codec, CodecContext, DecodeResult } from './types';

const FORMAT = ContentFormat.Lwm2mJson;

type ValueLabel = 'v' | 'sv' | 'bv' | 'ov';

/** The JSON type of each entry label (a Map: entry keys such as "toString" must find nothing). */
const LABEL_TYPES = new Map<string, 'string' | 'number' | 'boolean'>([
  ['n', 'string'],
  ['v', 'number'],
  ['sv', 'string'],
  ['bv', 'boolean'],
  ['ov', 'string'],
  ['t', 'number'],
]);

/** The value label each LwM2M type uses. */
const LABEL_FOR: Record<ValueType, ValueLabel | undefined> = {
  string: 'sv',
  corelnk: 'sv',
  opaque: 'sv',
  integer: 'v',
  'unsigned integer': 'v',
  float: 'v',
  time: 'v',
  boolean: 'bv',
  objlnk: 'ov',
  none: undefined,
};

export interface Lwm2mJsonCodecOptions {
  /** Clock for relative times (below 2^28 s), in seconds since 1970. Default: the system clock. */
  now?: () => number;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads `raw` (the content of `label`) as `type`; undefined when label or value does not fit. */
function typedValue(raw: unknown, label: ValueLabel, type: ValueType): Value | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return label === 'sv' ? (raw as string) : undefined;
    case 'opaque': {
      const bytes = label === 'sv' ? fromBase64(raw as string) : undefined;
      return bytes instanceof Uint8Array ? bytes : undefined;
    }
    case 'integer':
    case 'unsigned integer':
      return label === 'v' ? toInteger(raw as number | bigint, type) : undefined;
    case 'float':
    case 'time':
      return label === 'v' ? Number(raw) : undefined;
    case 'boolean':
      return label === 'bv' ? (raw as boolean) : undefined;
    case 'objlnk':
      return label === 'ov' || label === 'sv' ? parseObjlnk(raw as string) : undefined;
    case 'none':
      return undefined;
  }
}

/** The type and value suggested by the label alone; undefined for a malformed `ov`. */
function guessedValue(raw: unknown, label: ValueLabel): { type: ValueType; value: Value } | undefined {
  switch (label) {
    case 'v':
      return { type: typeof raw === 'bigint' || Number.isInteger(raw) ? 'integer' : 'float', value: raw as number | bigint };
    case 'sv':
      return { type: 'string', value: raw as string };
    case 'bv':
      return { type: 'boolean', value: raw as boolean };
    case 'ov': {
      const link = parseObjlnk(raw as string);
      return link && { type: 'objlnk', value: link };
    }
  }
}

function fail(text: string, partial: Lwm2mRecord[], pointer: string, expected: string, found: string): never {
  throw new DecodeError({ format: FORMAT, ...jsonLocation(text, pointer), expected, found, partial });
}

function decode(bytes: Uint8Array, ctx: CodecContext, now: () => number): DecodeResult {
  const text = decodeJsonText(bytes, FORMAT);
  const root = parseJson(text, FORMAT);
  const records: Lwm2mRecord[] = [];
  if (!isObject(root)) fail(text, records, '', 'a JSON object with an "e" array', describe(root));
  const { bn = '', bt, e } = root;
  if (typeof bn !== 'string') fail(text, records, '/bn', 'a string', describe(bn));
  if (bt !== undefined && typeof bt !== 'number') fail(text, records, '/bt', 'a number', describe(bt));
  if (!Array.isArray(e)) fail(text, records, '/e', 'an array of entries', describe(e));
  const base = bn.startsWith('/') ? bn : '/' + bn;

  const entries: unknown[] = e;
  const bigLiterals = readBigIntegers(text, entries);
  const guesses = new GuessNotes();
  const models = new ResourceModels(ctx);
  let clock: number | undefined;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!isObject(entry)) fail(text, records, jsonPointer('e', i), 'an entry object', describe(entry));
    let label: ValueLabel | undefined;
    for (const key in entry) {
      const type = LABEL_TYPES.get(key);
      if (type === undefined) continue;
      if (typeof entry[key] !== type) fail(text, records, jsonPointer('e', i, key), `a ${type}`, describe(entry[key]));
      if (key === 'n' || key === 't') continue;
      if (label) fail(text, records, jsonPointer('e', i, key), 'one value label per entry', `both "${label}" and "${key}"`);
      label = key as ValueLabel;
    }
    const n = (entry.n as string | undefined) ?? '';
    const path = resolveSenmlName(base, n);
    if (!path) return fail(text, records, jsonPointer('e', i, 'n'), 'a name that makes an LwM2M path like /3/0/1', JSON.stringify(bn + n));
    const model = models.get(path);
    let out: Lwm2mRecord;
    if (label === undefined) out = { path, type: model?.type ?? 'none', value: null };
    else {
      const pointer = jsonPointer('e', i, label);
      if (path.length < 3) fail(text, records, pointer, 'a resource or resource-instance name for a value', JSON.stringify(bn + n));
      const raw = bigLiterals.get(i) ?? entry[label];
      if (model) {
        const want = LABEL_FOR[model.type];
        const expected = want ? `"${want}" with a ${model.type} for ${path}` : `no value: ${path} is executable`;
        const value = typedValue(raw, label, model.type) ?? fail(text, records, pointer, expected, `"${label}": ${String(raw)}`);
        out = { path, type: model.type, value };
      } else {
        const guess = guessedValue(raw, label) ?? fail(text, records, pointer, 'an objlnk "O:I"', JSON.stringify(raw));
        out = { path, type: guess.type, value: guess.value, modelled: false };
        guesses.add(path, `the "${label}" label`);
      }
    }
    if (bt !== undefined || entry.t !== undefined) {
      let time = ((bt as number | undefined) ?? 0) + ((entry.t as number | undefined) ?? 0);
      if (time < RELATIVE_TIME_LIMIT) time += clock ??= now();
      out.time = time;
    }
    records.push(out);
  }
  return { format: FORMAT, records, notes: guesses.notes };
}

/** JSON.parse rounds integers beyond 2^53: re-read those `v` literals exactly (entry index → bigint). */
function readBigIntegers(text: string, entries: unknown[]): Map<number, bigint> {
  const out = new Map<number, bigint>();
  const big = entries.flatMap((entry, i) => {
    const v = isObject(entry) ? entry.v : undefined;
    return typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? [i] : [];
  });
  if (big.length === 0) return out;
  const ranges = locateJsonValues(text, new Set(big.map((i) => jsonPointer('e', i, 'v'))));
  for (const i of big) {
    const range = ranges.get(jsonPointer('e', i, 'v'));
    const literal = range && text.slice(range[0], range[1]);
    if (literal && /^-?\d+$/.test(literal)) out.set(i, BigInt(literal));
  }
  return out;
}

/** The entry JSON (`"sv":"…"` etc.) for a value of `type`. */
function valueJson(type: ValueType, value: Value, rec: Lwm2mRecord): string {
  const problem = valueProblem(type, value);
  if (problem) throw new EncodeError(FORMAT, `${rec.path}: ${problem}`);
  switch (type) {
    case 'string':
    case 'corelnk':
      return `"sv":${JSON.stringify(value)}`;
    case 'opaque':
      return `"sv":"${toBase64(value as Uint8Array)}"`;
    case 'boolean':
      return `"bv":${value}`;
    case 'objlnk':
      return `"ov":"${objlnkText(value as ObjectLink)}"`;
    default:
      return `"v":${jsonNumber(value as number | bigint, type === 'float', FORMAT)}`;
  }
}

/**
 * Encodes with one base name (`basePath`: the request path when it holds every record) and
 * names relative to it. One common time goes into `bt`; differing times go into each entry's `t`.
 */
function encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
  const base = basePath(records, ctx.path);
  const allAtBase = records.every((r) => r.path.length === base.length);
  const bn = base.isRoot() ? '/' : allAtBase ? base.toString() : base.toString() + '/';
  const timed = records.filter((r) => r.time !== undefined).length;
  if (timed !== 0 && timed !== records.length) throw new EncodeError(FORMAT, 'either every record has a time or none has');
  const time0 = records[0]?.time;
  const oneTime = time0 !== undefined && records.every((r) => r.time === time0);
  const entries = records.map((rec) => {
    const parts: string[] = [];
    if (rec.path.length > base.length) parts.push(`"n":"${rec.path.ids.slice(base.length).join('/')}"`);
    if (rec.value !== null) parts.push(valueJson(rec.type, rec.value, rec));
    if (rec.time !== undefined && !oneTime) parts.push(`"t":${jsonNumber(rec.time, false, FORMAT)}`);
    return `{${parts.join(',')}}`;
  });
  const bt = oneTime ? `,"bt":${jsonNumber(time0, false, FORMAT)}` : '';
  return utf8Encode(`{"bn":"${bn}"${bt},"e":[${entries.join(',')}]}`);
}

/** Creates an LwM2M JSON codec (CF 11543). */
export function createLwm2mJsonCodec(options: Lwm2mJsonCodecOptions = {}): Codec {
  const now = options.now ?? systemNow;
  return {
    format: FORMAT,
    name: 'lwm2m-json',
    decode: (bytes, ctx) => decode(bytes, ctx, now),
    encode,
  };
}

/** LwM2M JSON (CF 11543, also for legacy 1543) with the system clock. */
export const lwm2mJsonCodec: Codec = createLwm2mJsonCodec();
