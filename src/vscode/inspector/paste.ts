/**
 * Bytes from pasted or selected text: hex (`C8 00 14`, `c80014`, `0xC8, 0x00`, `c8:00`) or
 * base64 / base64url. Hex wins when the text is both. Pure (no `vscode`).
 */
import { fromBase64, parseHex } from '../../core/codec/bytes';

export type PastedBytes = { bytes: Uint8Array; encoding: 'hex' | 'base64' } | { error: string };

/** Reads hex or base64 text; strips C/JS array syntax (`{ 0x01, 0x02 }`, `[1, 2]` is not hex). */
export function bytesFromText(input: string): PastedBytes {
  const text = input
    .trim()
    .replace(/^(const\s+)?(uint8_t|unsigned\s+char|char)\s+\w+\s*\[\s*\d*\s*\]\s*=\s*/, '')
    .replace(/^\{|\};?$/g, '')
    .replace(/^["'`]|["'`]$/g, '')
    .trim();
  if (text === '') return { error: 'nothing to decode: the text is empty' };
  const hex = parseHex(text);
  if (hex instanceof Uint8Array) {
    if (hex.length > 0) return { bytes: hex, encoding: 'hex' };
  }
  const compact = text.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    const b64 = fromBase64(compact);
    if (b64 instanceof Uint8Array && b64.length > 0) return { bytes: b64, encoding: 'base64' };
  }
  if (!(hex instanceof Uint8Array)) {
    return { error: `neither hex nor base64: ${hex.expected} at character ${hex.offset + 1}, found ${hex.found}` };
  }
  return { error: 'nothing to decode: no bytes in the text' };
}
