/**
 * JSON helpers for the JSON formats: JSON pointers, strict UTF-8 decoding and, for payloads
 * read with `JSON.parse` (LwM2M JSON), a linear scanner (RFC 8259 grammar) that finds where a
 * syntax error is, or where the value at a JSON pointer starts.
 */

import { DecodeError } from '../../errors';
import { firstInvalidUtf8, utf8Length } from '../bytes';

/** Keeps a byte-order mark in the text (JSON may not start with one; the parser then says so). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes the payload as UTF-8; a DecodeError names the first invalid byte. */
export function decodeJsonText(bytes: Uint8Array, format: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    throw new DecodeError({ format, offset, expected: 'UTF-8 text', found: `byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}` });
  }
}

/** The JSON pointer (RFC 6901) of a path of keys and indexes. */
export function jsonPointer(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Describes the character at `i` for error messages. */
function foundAt(text: string, i: number): string {
  return i < text.length ? JSON.stringify(text[i]) : 'end of text';
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Escapes after a backslash: " \ / b f n r t (u is handled apart). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/**
 * Scans the JSON string whose opening quote is at `i`. Returns the index after the closing
 * quote, or `-1 - k` where k is the index of the first character that breaks the grammar.
 */
function jsonStringEnd(text: string, i: number): number {
  const n = text.length;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const e = text.charCodeAt(i + 1);
      if (e === 0x75) {
        for (let k = i + 2; k < i + 6; k++) if (!isHex(text.charCodeAt(k))) return -1 - k;
        i += 5;
      } else if (SIMPLE_ESCAPES.has(e)) i++;
      else return -2 - i;
    } else if (c < 0x20) return -1 - i;
  }
  return -1 - n;
}

/** Scans the JSON number starting at `i`; returns its end, or `-1 - k` for a bad character at k. */
function jsonNumberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d) i++;
  if (text.charCodeAt(i) === 0x30) i++;
  else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
  else return -1 - i;
  if (text.charCodeAt(i) === 0x2e) {
    if (!isDigit(text.charCodeAt(++i))) return -1 - i;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    const sign = text.charCodeAt(++i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) return -1 - i;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/** `JSON.parse`, turning a SyntaxError into a DecodeError with byte offset and JSON pointer. */
export function parseJson(text: string, format: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const problem = scanJson(text);
    if (!problem) throw new DecodeError({ format, offset: 0, expected: 'JSON text', found: String(e) });
    throw new DecodeError({
      format,
      offset: utf8Length(text.slice(0, problem.index)),
      pointer: problem.pointer,
      expected: problem.expected,
      found: foundAt(text, problem.index),
    });
  }
}

/**
 * Where the value at `pointer` starts in valid JSON `text`: its byte offset (or that of its
 * nearest existing ancestor, for a missing member) together with the pointer itself.
 */
export function jsonLocation(text: string, pointer: string): { offset: number; pointer: string } {
  const candidates: string[] = [];
  for (let p = pointer; p !== ''; p = p.slice(0, p.lastIndexOf('/'))) candidates.push(p);
  candidates.push('');
  const ranges = locateJsonValues(text, new Set(candidates));
  const nearest = candidates.find((p) => ranges.has(p));
  const start = nearest === undefined ? 0 : ranges.get(nearest)![0];
  return { offset: utf8Length(text.slice(0, start)), pointer };
}

/** Character ranges [start, end) of the values at the given pointers, in one pass over valid JSON. */
export function locateJsonValues(text: string, pointers: ReadonlySet<string>): Map<string, [number, number]> {
  const found = new Map<string, [number, number]>();
  scanJson(text, (pointer, start, end) => {
    if (pointers.has(pointer)) found.set(pointer, [start, end]);
  });
  return found;
}

interface JsonProblem {
  /** Character index of the problem. */
  index: number;
  pointer: string;
  expected: string;
}

/**
 * Walks JSON text (iteratively, so nesting depth cannot overflow the stack), calling `visit`
 * for every value with its pointer and range. Returns the first syntax problem, if any.
 */
function scanJson(text: string, visit?: (pointer: string, start: number, end: number) => void): JsonProblem | undefined {
  const n = text.length;
  const keys: string[] = [];
  const containers: { array: boolean; start: number; index: number }[] = [];
  let i = 0;
  const ws = () => {
    while (i < n && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d || text.charCodeAt(i) === 0x09)) i++;
  };
  const problem = (expected: string, at = i): JsonProblem => ({ index: at, pointer: jsonPointer(...keys), expected });
  /** Scans `"key" :` and pushes the key; returns a problem instead when malformed. */
  const key = (expected: string): JsonProblem | undefined => {
    if (text[i] !== '"') return problem(expected);
    const end = jsonStringEnd(text, i);
    if (end < 0) return problem('a valid string character', -1 - end);
    keys.push(JSON.parse(text.slice(i, end)) as string);
    i = end;
    ws();
    if (text[i] !== ':') return problem('":"');
    i++;
    return undefined;
  };

  // Scan one value, then close the containers that end after it.
  for (;;) {
    ws();
    const start = i;
    const c = text[i];
    if (c === '[' || c === '{') {
      i++;
      ws();
      if (text[i] === (c === '[' ? ']' : '}')) {
        i++;
        visit?.(jsonPointer(...keys), start, i);
      } else {
        containers.push({ array: c === '[', start, index: 0 });
        if (c === '[') keys.push('0');
        else {
          const bad = key('a string key or "}"');
          if (bad) return bad;
        }
        continue;
      }
    } else {
      let end: number;
      if (c === '"') end = jsonStringEnd(text, i);
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) end = jsonNumberEnd(text, i);
      else if (text.startsWith('true', i) || text.startsWith('null', i)) end = i + 4;
      else if (text.startsWith('false', i)) end = i + 5;
      else return problem('a JSON value');
      if (end < 0) return problem(c === '"' ? 'a valid string character' : 'a digit', -1 - end);
      i = end;
      visit?.(jsonPointer(...keys), start, i);
    }

    // Close as many containers as end here, then move to the next value.
    for (;;) {
      const top = containers[containers.length - 1];
      ws();
      if (!top) return i < n ? problem('end of text') : undefined;
      if (text[i] === ',') {
        i++;
        keys.pop();
        if (top.array) keys.push(String(++top.index));
        else {
          ws();
          const bad = key('a string key');
          if (bad) return bad;
        }
        break;
      }
      const close = top.array ? ']' : '}';
      if (text[i] !== close) return problem(`"," or "${close}"`);
      i++;
      keys.pop();
      containers.pop();
      visit?.(jsonPointer(...keys), top.start, i);
    }
  }
}
