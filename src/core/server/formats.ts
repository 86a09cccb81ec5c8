/**
 * Which content format the server asks for and writes in, per client (lwm2m-protocol.md §8,
 * §19.38): LwM2M 1.0 clients must support TLV; 1.1+ clients should not be assumed to, so the
 * `ct` hint of their Register payload decides (SenML CBOR, else SenML JSON, else TLV, else
 * LwM2M CBOR), and without a hint SenML CBOR.
 */

import { ContentFormat } from '../contentFormat';
import type { Registration } from './registration';

/** The default format of multi-value payloads (Read Accept, Write, Create, Observe) for a client. */
export function preferredFormat(reg: Pick<Registration, 'lwm2mVersion' | 'contentFormats'>): number {
  if (reg.lwm2mVersion === '1.0') return ContentFormat.Tlv;
  const ct = reg.contentFormats;
  for (const f of [ContentFormat.SenmlCbor, ContentFormat.SenmlJson, ContentFormat.Tlv, ContentFormat.Lwm2mCbor]) if (ct.includes(f)) return f;
  if (ct.includes(ContentFormat.LegacyTlv)) return ContentFormat.Tlv;
  return ContentFormat.SenmlCbor;
}

/** Composite operations (FETCH/iPATCH) only speak SenML: JSON when that is what the client prefers, else CBOR. */
export function compositeFormat(preferred: number): number {
  return preferred === ContentFormat.SenmlJson ? ContentFormat.SenmlJson : ContentFormat.SenmlCbor;
}

const COMPOSITE_REQUEST_FORMATS: readonly number[] = [ContentFormat.SenmlJson, ContentFormat.SenmlCbor, ContentFormat.SenmlEtchJson, ContentFormat.SenmlEtchCbor];

/** Formats a Read-/Observe-Composite path list can be written in (the registry must have a codec too). */
export function isCompositeRequestFormat(format: number): boolean {
  return COMPOSITE_REQUEST_FORMATS.includes(format);
}
