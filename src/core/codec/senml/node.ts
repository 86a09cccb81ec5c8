/**
 * SenML records ⇄ LwM2M records (lwm2m-protocol.md §11).
 *
 * Decoding (`SenmlMapper`) resolves base name, base time and base value in record order
 * (§11.2), turns times below 2^28 into "now + t", takes the LwM2M type from the object model
 * (or guesses it from the value label and marks the record `modelled: false`), and keeps every
 * record, so time series with repeated paths survive in order. Records without a value
 * (Read-Composite requests) and `v: null` (Write-Composite deletion) get value null.
 */

import { DecodeError, EncodeError } from '../../errors';
import type { Lwm2mRecord, ObjectLink, Value, ValueType } from '../../node';
import type { Lwm2mPath } from '../../path';
import { parseObjlnk } from '../common';
import type { CodecContext, DecodeResult } from '../types';
import { internPath } from './paths';
import { jsonPointer } from './jsonText';
import type { SenmlRecord, SenmlSink } from './record';
import { basePath, GuessNotes, objlnkText, RELATIVE_TIME_LIMIT, ResourceModels, toInteger, valueProblem } from './values';

/** The codec's fixed settings for the mapping. */
export interface SenmlDecodeOptions {
  format: number;
  /** Seconds since 1970, for relative times. Called at most once per decode. */
  now: () => number;
  /** Whether DecodeErrors carry JSON pointers (`/3/v`): for SenML JSON. */
  pointers?: boolean;
}

/** How the encoder writes records whose value is null. */
export type NullValueStyle =
  /** A name-only record: a Read-/Observe-Composite request path. */
  | 'omit'
  /** `v: null`: a Write-Composite deletion (LwM2M 1.2). */
  | 'null';

type ValueLabel = 'v' | 'vs' | 'vb' | 'vd' | 'vlo';

/** The value label each LwM2M type uses (§11.3); objlnk also accepts `vs` (pitfall 29). */
const LABEL_FOR: Record<ValueType, ValueLabel | undefined> = {
  string: 'vs',
  corelnk: 'vs',
  integer: 'v',
  'unsigned integer': 'v',
  float: 'v',
  time: 'v',
  boolean: 'vb',
  opaque: 'vd',
  objlnk: 'vlo',
  none: undefined,
};

/** Parses a resolved SenML name into `ids`; returns the id count, or -1 when it is no LwM2M path. */
function parseName(name: string, ids: number[]): number {
  const len = name.length;
  if (len === 0 || name.charCodeAt(0) !== 0x2f) return -1;
  let count = 0;
  let id = 0;
  let digits = 0;
  for (let i = 1; i <= len; i++) {
    const c = i < len ? name.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      if (digits === 0) {
        if (i === len) break; // a trailing '/', or the root "/"
        return -1;
      }
      if (id >= 65535 || count === 4) return -1;
      ids[count++] = id;
      id = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 5) {
      id = id * 10 + (c - 0x30);
      digits++;
    } else return -1;
  }
  return count;
}

/**
 * Resolved names, cached as base name → name → path (null: not a path). Two levels, so a hit
 * never concatenates `bn + n`; the readers hand out the same string objects for repeated names,
 * so the lookups hash nothing new either.
 */
const nameCache = new Map<string, Map<string, Lwm2mPath | null>>();
const NAME_CACHE_LIMIT = 8192;
let cachedNames = 0;
const scratchIds = [0, 0, 0, 0];

function namesUnder(bn: string): Map<string, Lwm2mPath | null> {
  let names = nameCache.get(bn);
  if (!names) {
    if (cachedNames >= NAME_CACHE_LIMIT) {
      nameCache.clear();
      cachedNames = 0;
    }
    nameCache.set(bn, (names = new Map()));
  }
  return names;
}

function nameUnder(names: Map<string, Lwm2mPath | null>, bn: string, n: string): Lwm2mPath | null {
  let path = names.get(n);
  if (path === undefined) {
    const count = parseName(bn + n, scratchIds);
    path = count < 0 ? null : internPath(scratchIds, count);
    names.set(n, path);
    cachedNames++;
  }
  return path;
}

/**
 * The path named by base name `bn` and name `n` (plain concatenation, §11.2): `/`, `/O`, …
 * `/O/I/R/RI` with ids of 1–5 digits below 65535, a trailing `/` allowed. Undefined otherwise.
 */
export function resolveSenmlName(bn: string, n: string): Lwm2mPath | undefined {
  return nameUnder(namesUnder(bn), bn, n) ?? undefined;
}

function describeValue(rec: SenmlRecord, label: ValueLabel): string {
  const v = rec[label];
  if (v instanceof Uint8Array) return `"${label}" (${v.length} bytes)`;
  return `"${label}": ${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`;
}

/**
 * Maps SenML records to LwM2M records as a reader hands them over, one at a time in pack order
 * (base fields carry over from record to record). Records are taken as the readers produce
 * them, with at most one value label. Throws DecodeError with the records mapped so far;
 * `records` holds them after a reader's DecodeError too.
 */
export class SenmlMapper implements SenmlSink {
  readonly records: Lwm2mRecord[] = [];
  private guesses: GuessNotes | undefined;
  private readonly models: ResourceModels;
  private now: number | undefined;
  private bn = '';
  private names = namesUnder('');
  private lastName: string | undefined;
  private lastNames: Map<string, Lwm2mPath | null> | undefined;
  private lastPath: Lwm2mPath | null = null;
  private bt = 0;
  private bv = 0;
  private timed = false;

  constructor(
    ctx: CodecContext,
    private readonly opts: SenmlDecodeOptions,
  ) {
    this.models = new ResourceModels(ctx);
  }

  private fail(rec: SenmlRecord, label: string | undefined, expected: string, found: string): never {
    const index = this.records.length;
    const pointer = !this.opts.pointers ? undefined : label === undefined ? jsonPointer(index) : jsonPointer(index, label);
    throw new DecodeError({ format: this.opts.format, offset: rec.span?.[0] ?? 0, pointer, expected, found, partial: this.records });
  }

  record(rec: SenmlRecord): void {
    if (rec.bver !== undefined && rec.bver > 10) this.fail(rec, 'bver', 'a base version of at most 10', String(rec.bver));
    if (rec.bn !== undefined && rec.bn !== this.bn) {
      this.bn = rec.bn;
      this.names = namesUnder(rec.bn);
    }
    if (rec.bt !== undefined) {
      this.bt = rec.bt;
      this.timed = true;
    }
    if (rec.bv !== undefined) this.bv = rec.bv;
    const n = rec.n ?? '';
    // A time series repeats one name: remember the last one.
    if (n !== this.lastName || this.names !== this.lastNames) {
      this.lastPath = nameUnder(this.names, this.bn, n);
      this.lastName = n;
      this.lastNames = this.names;
    }
    const path = this.lastPath ?? this.fail(rec, rec.n === undefined ? 'bn' : 'n', 'a name that is an LwM2M path like /3/0/1', JSON.stringify(this.bn + n));

    // The value label (readers allow at most one) and its content, by direct loads.
    let label: ValueLabel | undefined;
    let raw: RawValue | null | undefined;
    if ((raw = rec.v) !== undefined) label = 'v';
    else if ((raw = rec.vs) !== undefined) label = 'vs';
    else if ((raw = rec.vb) !== undefined) label = 'vb';
    else if ((raw = rec.vd) !== undefined) label = 'vd';
    else if ((raw = rec.vlo) !== undefined) label = 'vlo';
    const model = this.models.get(path);
    let type: ValueType;
    let value: Value | null = null;
    let modelled = true;
    if (label === undefined || raw === null || raw === undefined) type = model?.type ?? 'none';
    else {
      if (path.length < 3) this.fail(rec, label, 'a resource or resource-instance name for a value', JSON.stringify(this.bn + n));
      if (label === 'v' && this.bv !== 0) raw = withBaseValue(raw as number | bigint, this.bv);
      if (model) {
        type = model.type;
        value =
          // A safe integer for an Integer resource is by far the most common case.
          type === 'integer' && typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : (typedValue(raw, label, type) ?? null);
        if (value === null) {
          const want = LABEL_FOR[type];
          const expected = want ? `"${want}" with a ${type} for ${path}` : `no value: ${path} is executable`;
          this.fail(rec, label, expected, describeValue(rec, label));
        }
      } else {
        const guess = guessedValue(raw, label, rec.float) ?? this.fail(rec, label, 'an objlnk "O:I"', describeValue(rec, label));
        type = guess.type;
        value = guess.value;
        modelled = false;
        (this.guesses ??= new GuessNotes()).add(path, `the "${label}" label`);
      }
    }
    let time: number | undefined;
    if (this.timed || rec.t !== undefined) {
      time = this.bt + (rec.t ?? 0);
      if (!Number.isFinite(time)) this.fail(rec, rec.t !== undefined ? 't' : 'bt', 'a finite time', String(time));
      if (time < RELATIVE_TIME_LIMIT) time += this.now ??= this.opts.now();
    }
    // One object literal per shape: no property is added later, so no hidden-class transitions.
    const span = rec.span;
    const out: Lwm2mRecord =
      time === undefined
        ? span
          ? { path, type, value, span }
          : { path, type, value }
        : span
          ? { path, type, value, time, span }
          : { path, type, value, time };
    if (!modelled) out.modelled = false;
    this.records.push(out);
  }

  /** The records mapped so far, with the notes about guessed types. */
  result(): DecodeResult {
    return { format: this.opts.format, records: this.records, notes: this.guesses?.notes ?? [] };
  }
}

/** Maps a whole SenML pack to LwM2M records. Throws DecodeError (with the records before the failure). */
export function senmlToRecords(pack: readonly SenmlRecord[], ctx: CodecContext, opts: SenmlDecodeOptions): DecodeResult {
  const mapper = new SenmlMapper(ctx, opts);
  for (const rec of pack) mapper.record(rec);
  return mapper.result();
}

function withBaseValue(v: number | bigint, bv: number): number | bigint {
  return typeof v === 'bigint' && Number.isInteger(bv) ? v + BigInt(bv) : Number(v) + bv;
}

/** A value label's content (with the base value applied to `v`). */
type RawValue = number | bigint | string | boolean | Uint8Array;

/** The raw value of `label` read as `type`, or undefined when the label or value does not fit. */
function typedValue(raw: RawValue, label: ValueLabel, type: ValueType): Value | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return label === 'vs' ? raw : undefined;
    case 'integer':
    case 'unsigned integer':
      return label === 'v' ? toInteger(raw as number | bigint, type) : undefined;
    case 'float':
    case 'time':
      return label === 'v' ? Number(raw) : undefined;
    case 'boolean':
      return label === 'vb' ? raw : undefined;
    case 'opaque':
      return label === 'vd' ? raw : undefined;
    case 'objlnk':
      return label === 'vlo' || label === 'vs' ? parseObjlnk(raw as string) : undefined;
    case 'none':
      return undefined;
  }
}

/** The type and value suggested by the label alone. Undefined for a malformed `vlo`. */
function guessedValue(raw: RawValue, label: ValueLabel, float: boolean | undefined): { type: ValueType; value: Value } | undefined {
  switch (label) {
    case 'v':
      return { type: typeof raw === 'bigint' || (!float && Number.isInteger(raw)) ? 'integer' : 'float', value: raw };
    case 'vs':
      return { type: 'string', value: raw };
    case 'vb':
      return { type: 'boolean', value: raw };
    case 'vd':
      return { type: 'opaque', value: raw };
    case 'vlo': {
      const link = parseObjlnk(raw as string);
      return link && { type: 'objlnk', value: link };
    }
  }
}

/**
 * Maps LwM2M records to a SenML pack. The base name comes from `basePath` (the request path
 * when it holds every record, like Leshan: `bn="/3/0/"`, `n="0"`; a lone resource is all `bn`);
 * a composite gets absolute names in `n`. Times go into `bt` whenever they change; a record
 * without time cannot follow a timed one (SenML base time carries over).
 */
export function recordsToSenml(records: readonly Lwm2mRecord[], ctx: CodecContext, format: number, nullValue: NullValueStyle): SenmlRecord[] {
  const base = basePath(records, ctx.path);
  const allAtBase = records.every((r) => r.path.length === base.length);
  const prefix = base.isRoot() ? '/' : allAtBase ? base.toString() : base.toString() + '/';
  const pack: SenmlRecord[] = [];
  let bt: number | undefined;
  for (const rec of records) {
    const out: SenmlRecord = {};
    if (pack.length === 0 && !base.isRoot()) out.bn = prefix;
    if (rec.path.length > base.length) {
      const rest = rec.path.ids.slice(base.length).join('/');
      out.n = base.isRoot() ? prefix + rest : rest;
    } else if (base.isRoot()) out.n = '/';
    if (rec.time !== undefined) {
      if (rec.time !== bt) out.bt = bt = rec.time;
    } else if (bt !== undefined) {
      throw new EncodeError(format, `${rec.path}: a record without time cannot follow timed records (SenML base time carries over)`);
    }
    if (rec.value === null) {
      if (nullValue === 'null') out.v = null;
    } else setValue(out, rec.type, rec.value, rec, format);
    pack.push(out);
  }
  return pack;
}

function setValue(out: SenmlRecord, type: ValueType, value: Value, rec: Lwm2mRecord, format: number): void {
  const problem = valueProblem(type, value);
  if (problem) throw new EncodeError(format, `${rec.path}: ${problem}`);
  switch (type) {
    case 'string':
    case 'corelnk':
      out.vs = value as string;
      return;
    case 'integer':
    case 'unsigned integer':
    case 'time':
      out.v = value as number | bigint;
      return;
    case 'float':
      out.v = Number(value);
      out.float = true;
      return;
    case 'boolean':
      out.vb = value as boolean;
      return;
    case 'opaque':
      out.vd = value as Uint8Array;
      return;
    case 'objlnk':
      out.vlo = objlnkText(value as ObjectLink);
  }
}
