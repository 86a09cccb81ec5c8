/**
 * CoAP-over-UDP messages (RFC 7252 §3): a strict parser and a serializer.
 *
 * Strict where `coap-packet` is lenient: a token longer than 8 bytes, a payload marker with no
 * payload, a truncated option, a reserved code class, an Empty message with bytes after the
 * Message ID, a NON or RST that is not what its type allows — all are message format errors
 * (lwm2m-protocol.md §1.1, §1.6, §19.3).
 */

import { MessageFormatError } from './errors';

export type MessageType = 'CON' | 'NON' | 'ACK' | 'RST';

const TYPES: readonly MessageType[] = ['CON', 'NON', 'ACK', 'RST'];
const TYPE_BITS: Record<MessageType, number> = { CON: 0, NON: 1, ACK: 2, RST: 3 };

/** One option; `value` is the raw option value. */
export interface CoapOption {
  number: number;
  value: Buffer;
}

/** A parsed or to-be-sent CoAP message. `options` are in ascending option-number order. */
export interface CoapMessage {
  type: MessageType;
  /** Code byte: class × 32 + detail (0x01 GET, 0x45 2.05 Content, …). 0 = Empty. */
  code: number;
  /** Message ID, 0..65535. */
  mid: number;
  /** 0..8 bytes. */
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

/** Request method codes (class 0). */
export const Method = {
  GET: 0x01,
  POST: 0x02,
  PUT: 0x03,
  DELETE: 0x04,
  FETCH: 0x05,
  PATCH: 0x06,
  iPATCH: 0x07,
} as const;

export type MethodName = keyof typeof Method;

/** Response codes used by this project (class 2, 4, 5). */
export const Code = {
  Empty: 0x00,
  Created: 0x41,
  Deleted: 0x42,
  Valid: 0x43,
  Changed: 0x44,
  Content: 0x45,
  Continue: 0x5f,
  BadRequest: 0x80,
  Unauthorized: 0x81,
  BadOption: 0x82,
  Forbidden: 0x83,
  NotFound: 0x84,
  MethodNotAllowed: 0x85,
  NotAcceptable: 0x86,
  RequestEntityIncomplete: 0x88,
  PreconditionFailed: 0x8c,
  RequestEntityTooLarge: 0x8d,
  UnsupportedContentFormat: 0x8f,
  InternalServerError: 0xa0,
  NotImplemented: 0xa1,
  ServiceUnavailable: 0xa3,
} as const;

export const EMPTY: Buffer = Buffer.alloc(0);

/** `0x45` → `"2.05"`. */
export function codeToString(code: number): string {
  const detail = code & 0x1f;
  return `${code >> 5}.${detail < 10 ? '0' : ''}${detail}`;
}

/** `"2.05"` → `0x45`. Throws on anything that is not `c.dd`. */
export function parseCode(text: string): number {
  const m = /^([0-7])\.(\d\d)$/.exec(text);
  if (!m || Number(m[2]) > 31) throw new Error(`"${text}" is not a CoAP code`);
  return (Number(m[1]) << 5) | Number(m[2]);
}

export function isRequestCode(code: number): boolean {
  return code > 0 && code < 0x20;
}

export function isResponseCode(code: number): boolean {
  const cls = code >> 5;
  return cls === 2 || cls === 4 || cls === 5;
}

export function isSuccessCode(code: number): boolean {
  return code >> 5 === 2;
}

/**
 * Parses one datagram. Throws MessageFormatError; its `header` is set when the fixed header
 * was readable (so a CON can be rejected with RST), and left unset when the datagram must be
 * dropped silently (shorter than 4 bytes, version ≠ 1).
 */
export function parseMessage(buf: Buffer): CoapMessage {
  if (buf.length < 4) throw new MessageFormatError(`datagram of ${buf.length} bytes is shorter than a CoAP header`);
  const b0 = buf[0]!;
  if (b0 >> 6 !== 1) throw new MessageFormatError(`unsupported CoAP version ${b0 >> 6}`);
  const type = TYPES[(b0 >> 4) & 3]!;
  const tkl = b0 & 0x0f;
  const code = buf[1]!;
  const mid = (buf[2]! << 8) | buf[3]!;

  if (tkl > 8) throw formatError(`token length ${tkl} > 8`, type, mid);
  if (code === 0) {
    if (tkl !== 0 || buf.length !== 4) throw formatError('an Empty message has bytes after the Message ID', type, mid);
    if (type === 'NON') throw formatError('a NON message cannot be Empty', type, mid);
    return { type, code, mid, token: EMPTY, options: [], payload: EMPTY };
  }
  const cls = code >> 5;
  if (cls !== 0 && !isResponseCode(code)) throw formatError(`reserved code class in ${codeToString(code)}`, type, mid);
  if (type === 'RST') throw formatError('a RST message must be Empty', type, mid);
  if (type === 'ACK' && cls === 0) throw formatError('an ACK cannot carry a request', type, mid);
  if (buf.length < 4 + tkl) throw formatError('token truncated', type, mid);

  const token = tkl === 0 ? EMPTY : buf.subarray(4, 4 + tkl);
  const options: CoapOption[] = [];
  let payload: Buffer = EMPTY;
  let i = 4 + tkl;
  let number = 0;
  while (i < buf.length) {
    const byte = buf[i++]!;
    if (byte === 0xff) {
      if (i === buf.length) throw formatError('payload marker without payload', type, mid);
      payload = buf.subarray(i);
      break;
    }
    let delta = byte >> 4;
    let length = byte & 0x0f;
    if (delta === 15 || length === 15) throw formatError(`reserved option nibble 15 at byte ${i - 1}`, type, mid);
    if (delta >= 13) {
      const ext = delta - 12;
      if (i + ext > buf.length) throw formatError('option delta truncated', type, mid);
      delta = ext === 1 ? buf[i]! + 13 : ((buf[i]! << 8) | buf[i + 1]!) + 269;
      i += ext;
    }
    if (length >= 13) {
      const ext = length - 12;
      if (i + ext > buf.length) throw formatError('option length truncated', type, mid);
      length = ext === 1 ? buf[i]! + 13 : ((buf[i]! << 8) | buf[i + 1]!) + 269;
      i += ext;
    }
    if (i + length > buf.length) throw formatError(`option ${number + delta} value truncated`, type, mid);
    number += delta;
    options.push({ number, value: buf.subarray(i, i + length) });
    i += length;
  }
  return { type, code, mid, token, options, payload };
}

function formatError(why: string, type: MessageType, mid: number): MessageFormatError {
  return new MessageFormatError(why, { type, mid });
}

function extendedSize(n: number): number {
  return n < 13 ? 0 : n < 269 ? 1 : 2;
}

function nibble(n: number): number {
  return n < 13 ? n : n < 269 ? 13 : 14;
}

function writeExtended(buf: Buffer, pos: number, n: number): number {
  if (n >= 269) {
    buf.writeUInt16BE(n - 269, pos);
    return pos + 2;
  }
  if (n >= 13) buf[pos++] = n - 13;
  return pos;
}

/** Serializes a message. Options are written in ascending number order (stable for repeats). */
export function serializeMessage(msg: CoapMessage): Buffer {
  if (msg.token.length > 8) throw new RangeError(`token of ${msg.token.length} bytes is longer than 8`);
  const options = isSorted(msg.options) ? msg.options : [...msg.options].sort((a, b) => a.number - b.number);
  let size = 4 + msg.token.length + (msg.payload.length > 0 ? 1 + msg.payload.length : 0);
  let prev = 0;
  for (const o of options) {
    const delta = o.number - prev;
    size += 1 + extendedSize(delta) + extendedSize(o.value.length) + o.value.length;
    prev = o.number;
  }
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x40 | (TYPE_BITS[msg.type] << 4) | msg.token.length;
  buf[1] = msg.code;
  buf.writeUInt16BE(msg.mid, 2);
  let pos = 4 + msg.token.copy(buf, 4);
  prev = 0;
  for (const o of options) {
    const delta = o.number - prev;
    buf[pos++] = (nibble(delta) << 4) | nibble(o.value.length);
    pos = writeExtended(buf, pos, delta);
    pos = writeExtended(buf, pos, o.value.length);
    pos += o.value.copy(buf, pos);
    prev = o.number;
  }
  if (msg.payload.length > 0) {
    buf[pos++] = 0xff;
    msg.payload.copy(buf, pos);
  }
  return buf;
}

function isSorted(options: readonly CoapOption[]): boolean {
  for (let i = 1; i < options.length; i++) if (options[i - 1]!.number > options[i]!.number) return false;
  return true;
}
