/**
 * Content-format number → codec (legacy numbers 1541–1544 map to their current codecs),
 * with decode / encode / convert helpers and format detection.
 */
import { canonicalFormat, formatName } from '../contentFormat';
import type { Lwm2mRecord } from '../node';
import { cborCodec } from './cbor';
import { linkCodec } from './link';
import { lwm2mCborCodec } from './lwm2mCbor';
import { lwm2mJsonCodec } from './lwm2mJson';
import { opaqueCodec } from './opaque';
import { senmlCborCodec, senmlJsonCodec } from './senml';
import { textCodec } from './text';
import { tlvCodec } from './tlv';
import type { Codec, CodecContext, DecodeResult } from './types';

export { detectFormat, type DetectedFormat } from './detect';

/** Thrown when no codec handles a content format. */
export class UnsupportedFormatError extends Error {
  override readonly name = 'UnsupportedFormatError';
  constructor(readonly format: number) {
    super(`content format ${format} (${formatName(format)}) is not supported`);
  }
}

/** The outcome of `convert`: the new bytes and the records they were made from. */
export interface ConvertResult {
  bytes: Uint8Array;
  records: Lwm2mRecord[];
  /** Notes from decoding (e.g. values without a model). */
  notes: string[];
}

/** A set of codecs keyed by content format. */
export class CodecRegistry {
  private readonly byFormat = new Map<number, Codec>();

  constructor(codecs: Iterable<Codec> = []) {
    for (const c of codecs) this.register(c);
  }

  /** Adds or replaces the codec for `codec.format`. */
  register(codec: Codec): void {
    this.byFormat.set(codec.format, codec);
  }

  /** The codec for a format number (legacy numbers included), if any. */
  get(format: number): Codec | undefined {
    return this.byFormat.get(canonicalFormat(format));
  }

  /** Like `get`, but throws UnsupportedFormatError. */
  require(format: number): Codec {
    const codec = this.get(format);
    if (!codec) throw new UnsupportedFormatError(format);
    return codec;
  }

  /** Supported (canonical) format numbers, ascending. */
  formats(): number[] {
    return [...this.byFormat.keys()].sort((a, b) => a - b);
  }

  /** Decodes with the codec for `format`. Throws DecodeError or UnsupportedFormatError. */
  decode(format: number, bytes: Uint8Array, ctx: CodecContext): DecodeResult {
    return this.require(format).decode(bytes, ctx);
  }

  /** Encodes with the codec for `format`. Throws EncodeError or UnsupportedFormatError. */
  encode(format: number, records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
    return this.require(format).encode(records, ctx);
  }

  /** Decodes `bytes` as `from` and encodes the records as `to`, with the same context. */
  convert(from: number, to: number, bytes: Uint8Array, ctx: CodecContext): ConvertResult {
    const target = this.require(to);
    const decoded = this.decode(from, bytes, ctx);
    return { bytes: target.encode(decoded.records, ctx), records: decoded.records, notes: decoded.notes };
  }
}

/** Every codec of the core, one per content format. */
export const defaultCodecs: readonly Codec[] = [
  textCodec,
  linkCodec,
  opaqueCodec,
  cborCodec,
  senmlJsonCodec,
  senmlCborCodec,
  tlvCodec,
  lwm2mJsonCodec,
  lwm2mCborCodec,
];

/** The registry of `defaultCodecs`. */
export const codecRegistry = new CodecRegistry(defaultCodecs);

/** The codec for a format number (legacy numbers included), if any. */
export function getCodec(format: number): Codec | undefined {
  return codecRegistry.get(format);
}

/** Decodes with the default registry. Throws DecodeError or UnsupportedFormatError. */
export function decode(format: number, bytes: Uint8Array, ctx: CodecContext): DecodeResult {
  return codecRegistry.decode(format, bytes, ctx);
}

/** Encodes with the default registry. Throws EncodeError or UnsupportedFormatError. */
export function encode(format: number, records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
  return codecRegistry.encode(format, records, ctx);
}

/** Converts between two formats with the default registry. */
export function convert(from: number, to: number, bytes: Uint8Array, ctx: CodecContext): ConvertResult {
  return codecRegistry.convert(from, to, bytes, ctx);
}
