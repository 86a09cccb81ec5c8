import type { ValueType } from '../node';
import type { RangeSpec } from './types';

const NUM = String.raw`[-+]?\d+(?:\.\d+)?`;
/** `a..b`, `a...b`, `a-b`, `a to b`, `a:b` (the brackets of `[a:b]` are stripped before). */
const RANGE = new RegExp(String.raw`^(${NUM})\s*(?:\.{2,3}|-|:|\s+to\s+)\s*(${NUM})$`, 'i');
const SINGLE = new RegExp(`^${NUM}$`);
/** One enumerated value, optionally labelled: `16`, `ON`, `0=off`, `0: off`. */
const ENUM_ITEM = new RegExp(String.raw`^(${NUM}|\w+)(?:\s*[=:]\s*(.+))?$`);
const ENUM_SEPARATOR = /\s*[,;\n]\s*|\s+or\s+/i;
const BYTES_SUFFIX = /\s*bytes?$/i;

/**
 * Parses a DDF `RangeEnumeration` leniently. Understood forms: ranges (`0..100`, `0-100`,
 * `1...63`, `-30..-120`, `[1:4]`), a single value (`6`), lists (`16,32,48`, `5, 10, 15`,
 * `ON;OFF`, `10 or 26`), labelled enumerations (`0=off;1=on`, or `0: off` one per line) and
 * a `bytes` suffix. Anything
 * else is kept as `text` only. For string and opaque resources a numeric range limits the
 * length, so `bytes` is set for them too. Returns undefined for empty text.
 */
export function parseRange(text: string, type?: ValueType): RangeSpec | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const spec: RangeSpec = { text: trimmed };
  const explicitBytes = BYTES_SUFFIX.test(trimmed);
  let body = trimmed.replace(BYTES_SUFFIX, '');
  if (/^\[.*\]$/.test(body)) body = body.slice(1, -1).trim();

  let numeric = false;
  const range = RANGE.exec(body);
  if (range) {
    const a = Number(range[1]);
    const b = Number(range[2]);
    spec.min = Math.min(a, b);
    spec.max = Math.max(a, b);
    numeric = true;
  } else if (SINGLE.test(body)) {
    spec.min = spec.max = Number(body);
    numeric = true;
  } else {
    const enumeration = parseEnumeration(body);
    if (enumeration) {
      spec.enumeration = enumeration;
      numeric = enumeration.every((e) => SINGLE.test(e.value));
    }
  }
  if (numeric && (explicitBytes || type === 'string' || type === 'opaque')) spec.bytes = true;
  return spec;
}

function parseEnumeration(body: string): RangeSpec['enumeration'] {
  const parts = body.split(ENUM_SEPARATOR).filter((p) => p !== '');
  if (parts.length < 2) return undefined;
  const items: NonNullable<RangeSpec['enumeration']> = [];
  for (const part of parts) {
    const m = ENUM_ITEM.exec(part);
    if (!m) return undefined;
    items.push(m[2] === undefined ? { value: m[1]! } : { value: m[1]!, label: m[2].trim() });
  }
  return items;
}
