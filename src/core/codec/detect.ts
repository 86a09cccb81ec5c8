/**
 * Guessing the content format of a payload that arrived without one (a pasted hex dump, a file).
 * Heuristics, in order:
 * 1. JSON: an array of objects with SenML labels (`bn`, `n`, `v`, …) → SenML JSON (110);
 *    an object with an `e` array → LwM2M JSON (11543).
 * 2. CBOR that is one complete array of maps → SenML CBOR (112).
 * 3. TLV that parses completely (and is not just printable text) → TLV (11542).
 * 4. One complete CBOR map → LwM2M CBOR (11544).
 * 5. Text starting with `<` that parses as link format → link (40).
 * 6. Printable UTF-8 → text (0); anything else → opaque (42).
 */
import { ContentFormat } from '../contentFormat';
import { utf8Decode } from './bytes';
import { parseLinks } from './link';
import { decodeTlv } from './tlv/wire';

export interface DetectedFormat {
  format: number;
  /** Why this format was chosen, for people. */
  reason: string;
}

const SENML_LABELS = new Set(['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 'vlo', 's', 't', 'ut']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function detectJson(text: string): DetectedFormat | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(doc) && doc.length > 0 && doc.every(isPlainObject) && doc.every((r) => Object.keys(r).some((k) => SENML_LABELS.has(k)))) {
    return { format: ContentFormat.SenmlJson, reason: 'JSON array of records with SenML labels (bn/n/v…)' };
  }
  if (isPlainObject(doc) && Array.isArray(doc.e)) {
    return { format: ContentFormat.Lwm2mJson, reason: 'JSON object with an "e" array (LwM2M JSON)' };
  }
  return undefined;
}

/**
 * Skips one well-formed CBOR item at `p`; returns the offset after it, or -1.
 * `kinds` collects the major type of the top item's direct children when given.
 */
function skipCbor(b: Uint8Array, p: number, depth: number, kinds?: number[]): number {
  if (p >= b.length || depth > 32) return -1;
  const ib = b[p++]!;
  const major = ib >> 5;
  const ai = ib & 31;
  let arg: number;
  if (ai < 24) arg = ai;
  else if (ai === 24) {
    if (p + 1 > b.length) return -1;
    arg = b[p]!;
    p += 1;
  } else if (ai === 25) {
    if (p + 2 > b.length) return -1;
    arg = (b[p]! << 8) | b[p + 1]!;
    p += 2;
  } else if (ai === 26) {
    if (p + 4 > b.length) return -1;
    arg = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    p += 4;
  } else if (ai === 27) {
    if (p + 8 > b.length) return -1;
    const hi = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    arg = hi > 0 ? Number.MAX_SAFE_INTEGER : ((b[p + 4]! << 24) >>> 0) + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
    p += 8;
  } else if (ai === 31 && major >= 2 && major <= 5) {
    // indefinite length: items until the break byte 0xFF
    for (;;) {
      if (p >= b.length) return -1;
      if (b[p] === 0xff) return p + 1;
      if (kinds) kinds.push(b[p]! >> 5);
      p = skipCbor(b, p, depth + 1);
      if (p < 0) return -1;
      if (major === 5) {
        p = skipCbor(b, p, depth + 1);
        if (p < 0) return -1;
      }
    }
  } else return -1;
  switch (major) {
    case 0:
    case 1:
    case 7:
      return p;
    case 2:
    case 3:
      return p + arg <= b.length ? p + arg : -1;
    case 4:
    case 5: {
      const n = major === 5 ? arg * 2 : arg;
      if (n > b.length - p) return -1;
      for (let i = 0; i < n; i++) {
        if (kinds && (major === 4 || i % 2 === 1)) kinds.push(b[p]! >> 5);
        p = skipCbor(b, p, depth + 1);
        if (p < 0) return -1;
      }
      return p;
    }
    case 6:
      return skipCbor(b, p, depth + 1);
  }
  return -1;
}

function isPrintableText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

/** Guesses the content format of `bytes` (see the module comment for the rules). */
export function detectFormat(bytes: Uint8Array): DetectedFormat {
  if (bytes.length === 0) return { format: ContentFormat.Opaque, reason: 'empty payload' };
  const text = utf8Decode(bytes);
  const printable = text !== undefined && isPrintableText(text);
  const trimmed = printable ? text.trim() : '';
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const json = detectJson(trimmed);
    if (json) return json;
  }
  const first = bytes[0]!;
  if (first >> 5 === 4) {
    const kinds: number[] = [];
    if (skipCbor(bytes, 0, 0, kinds) === bytes.length && kinds.length > 0 && kinds.every((k) => k === 5)) {
      return { format: ContentFormat.SenmlCbor, reason: 'CBOR array of maps (SenML CBOR)' };
    }
  }
  if (!printable) {
    try {
      const records = decodeTlv(bytes);
      return { format: ContentFormat.Tlv, reason: `TLV that parses completely (${records.length} top-level record${records.length === 1 ? '' : 's'})` };
    } catch {
      // not TLV
    }
  }
  if (first >> 5 === 5 && skipCbor(bytes, 0, 0) === bytes.length) {
    return { format: ContentFormat.Lwm2mCbor, reason: 'one complete CBOR map (LwM2M CBOR)' };
  }
  if (printable && trimmed.startsWith('<')) {
    try {
      const links = parseLinks(text);
      return { format: ContentFormat.Link, reason: `link format (${links.length} link${links.length === 1 ? '' : 's'})` };
    } catch {
      // not link format
    }
  }
  if (printable) return { format: ContentFormat.Text, reason: 'printable UTF-8 text' };
  return { format: ContentFormat.Opaque, reason: 'binary data in no recognised structure' };
}
