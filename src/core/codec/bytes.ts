/**
 * Small byte helpers shared by the codecs: hex, UTF-8 and base64 without `Buffer`, so the
 * codecs also run in a browser (webview) bundle.
 */

const HEX_DIGITS = '0123456789abcdef';
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4]! + HEX_DIGITS[i & 15]!);

/** Lowercase hex, two digits per byte, no separators. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) parts[i - start] = HEX_TABLE[bytes[i]!]!;
  return parts.join('');
}

function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Why `parseHex` rejected its input: the character offset and what was there. */
export interface HexProblem {
  offset: number;
  found: string;
  expected: string;
}

/**
 * Parses hex text. Whitespace, `:` and `-` between bytes and `0x` prefixes are ignored, so
 * `C8 00 14`, `c80014`, `0xC8,0x00` (commas too) all work. Returns a problem on anything else.
 */
export function parseHex(text: string): Uint8Array | HexProblem {
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let i = 0;
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x3a || c === 0x2d || c === 0x2c) {
      i++;
      continue;
    }
    if (c === 0x30 && (text.charCodeAt(i + 1) | 0x20) === 0x78) {
      i += 2;
      continue;
    }
    const hi = hexNibble(c);
    if (hi < 0) return { offset: i, found: JSON.stringify(text[i]), expected: 'a hex digit' };
    if (i + 1 >= len) return { offset: i + 1, found: 'end of input', expected: 'a second hex digit' };
    const lo = hexNibble(text.charCodeAt(i + 1));
    if (lo < 0) return { offset: i + 1, found: JSON.stringify(text[i + 1]), expected: 'a second hex digit' };
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

const textEncoder = new TextEncoder();

const lenientDecoder = new TextDecoder('utf-8');

/**
 * Decodes UTF-8 in `bytes[start, end)`; returns undefined on invalid UTF-8 (never throws).
 * Short ASCII strings are built with `String.fromCharCode` in blocks of eight: for the short
 * strings typical of LwM2M this is several times cheaper than a TextDecoder call.
 */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string | undefined {
  if (end - start <= 128) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return asciiString(bytes, start, end);
  }
  if (firstInvalidUtf8(bytes, start, end) >= 0) return undefined;
  return lenientDecoder.decode(bytes.subarray(start, end));
}

/** Bytes below 0x80 as a string (no checks). */
function asciiString(b: Uint8Array, p: number, e: number): string {
  let s = '';
  while (e - p >= 8) {
    s += String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    p += 8;
  }
  while (p < e) s += String.fromCharCode(b[p++]!);
  return s;
}

/** Offset (relative to `start`) of the first byte that makes `bytes[start,end)` invalid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i - start;
    if (i + need >= end) return i - start;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i - start;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i - start;
    i += need + 1;
  }
  return -1;
}

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** Byte length of the UTF-8 encoding of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUES[B64.charCodeAt(i)] = i;
B64_VALUES[0x2d] = 62; // '-' (base64url)
B64_VALUES[0x5f] = 63; // '_' (base64url)

/** Standard base64 with `=` padding. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
    if (chunk.length >= 4096) {
      parts.push(chunk);
      chunk = '';
    }
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | ((i + 1 < n ? bytes[i + 1]! : 0) << 8);
    chunk += B64[v >> 18]! + B64[(v >> 12) & 63]! + (i + 1 < n ? B64[(v >> 6) & 63]! : '=') + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

/**
 * Decodes base64 in either alphabet (standard or url), padding optional.
 * Returns the offset of the first bad character instead when the text is not base64.
 */
export function fromBase64(text: string): Uint8Array | { offset: number; found: string } {
  let len = text.length;
  let padStart = len;
  while (padStart > 0 && text.charCodeAt(padStart - 1) === 0x3d) padStart--;
  if (len - padStart > 2) return { offset: padStart, found: 'too much "=" padding' };
  len = padStart;
  if (len % 4 === 1) return { offset: len - 1, found: 'a lone last character (length is not valid base64)' };
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64_VALUES[c]! : -1;
    if (v < 0) return { offset: i, found: JSON.stringify(text[i]) };
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (padStart !== text.length && (len + (text.length - padStart)) % 4 !== 0) {
    return { offset: padStart, found: 'padding that does not complete a 4-character group' };
  }
  return out.subarray(0, o);
}
