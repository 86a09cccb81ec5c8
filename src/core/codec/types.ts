import type { Lwm2mRecord } from '../node';
import type { Lwm2mPath } from '../path';
import type { ModelLookup } from '../model/types';

export interface CodecContext {
  /**
   * The request path the payload belongs to (Read/Write target). Formats that are relative
   * (TLV, text, opaque, CBOR) need it; SenML and LwM2M JSON/CBOR carry names of their own.
   */
  path: Lwm2mPath;
  /** Object models; without them decoders guess types and mark records `modelled: false`. */
  models?: ModelLookup;
  /** Object versions announced by the client (object id → `X.Y`), to pick the right model. */
  objectVersions?: ReadonlyMap<number, string>;
}

export interface DecodeResult {
  format: number;
  records: Lwm2mRecord[];
  /** Remarks for people, e.g. "no model for /3303/0/5700: type guessed". */
  notes: string[];
}

/** One content format: bytes ⇄ records. */
export interface Codec {
  readonly format: number;
  readonly name: string;
  /** Throws only DecodeError. */
  decode(bytes: Uint8Array, ctx: CodecContext): DecodeResult;
  /** Throws EncodeError when records cannot be expressed in this format. */
  encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array;
}
