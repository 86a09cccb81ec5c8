/**
 * Opaque (CF 42, legacy 1544): the raw bytes of one Opaque resource or resource instance,
 * e.g. a firmware image written to `/5/0/0` (lwm2m-protocol.md §9).
 */
import { ContentFormat } from '../contentFormat';
import { EncodeError } from '../errors';
import type { Lwm2mRecord } from '../node';
import { lookupResource } from './common';
import { requireSingleRecord, requireSingleValuePath } from './text';
import type { Codec, CodecContext, DecodeResult } from './types';

const FORMAT = ContentFormat.Opaque;

/**
 * The opaque codec. Decoding needs `ctx.path` to be a resource or resource instance and always
 * yields one `opaque` record (a copy of the bytes); when the model gives the resource another
 * type, a note says so. Encoding takes one record whose value is bytes.
 */
export const opaqueCodec: Codec = {
  format: FORMAT,
  name: 'opaque',
  decode(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
    const path = requireSingleValuePath(ctx, FORMAT);
    const model = lookupResource(ctx, path);
    const notes: string[] = [];
    if (!model) notes.push(`no model for ${path.toString()}: bytes taken as opaque`);
    else if (model.type !== 'opaque') notes.push(`${path.toString()} (${model.name}) is ${model.type} in its model, but opaque format carries raw bytes`);
    const record: Lwm2mRecord = { path, type: 'opaque', value: bytes.slice(), span: [0, bytes.length] };
    if (!model) record.modelled = false;
    return { format: FORMAT, records: [record], notes };
  },
  encode(records: readonly Lwm2mRecord[], ctx: CodecContext): Uint8Array {
    const r = requireSingleRecord(records, ctx, FORMAT);
    if (!(r.value instanceof Uint8Array)) throw new EncodeError(FORMAT, `${r.path.toString()} is ${r.type}; opaque format carries only bytes`);
    return r.value;
  },
};
