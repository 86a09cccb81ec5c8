/**
 * SenML JSON (CF 110) and SenML CBOR (CF 112) codecs: a wire layer (`json.ts`, `cbor.ts`:
 * bytes ⇄ SenmlRecord) composed with the LwM2M mapping (`node.ts`: SenmlRecord ⇄ Lwm2mRecord).
 * Decoding streams: the reader hands each record to the mapper as soon as it is read.
 */

import { ContentFormat } from '../../contentFormat';
import { DecodeError } from '../../errors';
import type { Lwm2mRecord } from '../../node';
import type { Codec, CodecContext, DecodeResult } from '../types';
import { readSenmlCbor, writeSenmlCbor } from './cbor';
import { readSenmlJson, writeSenmlJson } from './json';
import { recordsToSenml, SenmlMapper, type NullValueStyle, type SenmlDecodeOptions } from './node';
import type { SenmlSink } from './record';
import { systemNow } from './values';

export { CBOR_LABELS, SenmlCollector, newSenmlRecord, type SenmlRecord, type SenmlSink } from './record';
export { readSenmlJson, writeSenmlJson } from './json';
export { readSenmlCbor, writeSenmlCbor } from './cbor';
export { senmlToRecords, recordsToSenml, resolveSenmlName, SenmlMapper, type NullValueStyle, type SenmlDecodeOptions } from './node';
export { internPath } from './paths';

export interface SenmlCodecOptions {
  /** Clock for relative SenML times (below 2^28 s), in seconds since 1970. Default: the system clock. */
  now?: () => number;
  /**
   * How records with value null are encoded: `'omit'` (default) writes name-only records as in a
   * Read-/Observe-Composite request; `'null'` writes `v: null`, a Write-Composite deletion (1.2).
   */
  nullValue?: NullValueStyle;
}

/** Runs a wire reader into the mapper; a reader's DecodeError gets the records mapped before it. */
function decodeWith(read: (bytes: Uint8Array, sink: SenmlSink) => void, bytes: Uint8Array, ctx: CodecContext, opts: SenmlDecodeOptions): DecodeResult {
  const mapper = new SenmlMapper(ctx, opts);
  try {
    read(bytes, mapper);
  } catch (e) {
    if (!(e instanceof DecodeError) || e.partial === mapper.records) throw e;
    throw new DecodeError({ format: e.format, offset: e.offset, pointer: e.pointer, expected: e.expected, found: e.found, partial: mapper.records });
  }
  return mapper.result();
}

/** Creates a SenML JSON codec (CF 110). Decoded records carry their byte spans. */
export function createSenmlJsonCodec(options: SenmlCodecOptions = {}): Codec {
  const opts: SenmlDecodeOptions = { format: ContentFormat.SenmlJson, now: options.now ?? systemNow, pointers: true };
  const nullValue = options.nullValue ?? 'omit';
  return {
    format: opts.format,
    name: 'senml-json',
    decode: (bytes: Uint8Array, ctx: CodecContext): DecodeResult => decodeWith(readSenmlJson, bytes, ctx, opts),
    encode: (records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array => writeSenmlJson(recordsToSenml(records, ctx, opts.format, nullValue)),
  };
}

/** Creates a SenML CBOR codec (CF 112). Decoded records carry their byte spans. */
export function createSenmlCborCodec(options: SenmlCodecOptions = {}): Codec {
  const opts: SenmlDecodeOptions = { format: ContentFormat.SenmlCbor, now: options.now ?? systemNow };
  const nullValue = options.nullValue ?? 'omit';
  return {
    format: opts.format,
    name: 'senml-cbor',
    decode: (bytes: Uint8Array, ctx: CodecContext): DecodeResult => decodeWith(readSenmlCbor, bytes, ctx, opts),
    encode: (records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array => writeSenmlCbor(recordsToSenml(records, ctx, opts.format, nullValue)),
  };
}

/** SenML JSON (CF 110) with the system clock; null values written as name-only records. */
export const senmlJsonCodec: Codec = createSenmlJsonCodec();

/** SenML CBOR (CF 112) with the system clock; null values written as name-only records. */
export const senmlCborCodec: Codec = createSenmlCborCodec();
