/**
 * Handshake messages of a PSK handshake (RFC 5246 §7.4, RFC 6347 §4.2–4.3, RFC 4279 §2) and
 * their DTLS framing:
 *
 *   msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3) fragment
 *
 * The transcript (Finished, extended master secret) hashes every message as if sent in one
 * fragment, DTLS header included (RFC 6347 §4.2.6).
 */

import { DecodeError, Reader, u16, u8, vector } from './wire';
import { HANDSHAKE_HEADER_LENGTH } from './constants';

export interface HandshakeFragment {
  msgType: number;
  /** Length of the whole message. */
  length: number;
  messageSeq: number;
  offset: number;
  data: Buffer;
}

/** Largest handshake message we accept; PSK handshakes stay far below (a ClientHello is ~300 bytes). */
const MAX_HANDSHAKE_MESSAGE = 8 * 1024;

/** The handshake fragments in one record's plaintext. Throws DecodeError. */
export function parseHandshakeFragments(plaintext: Buffer): HandshakeFragment[] {
  const r = new Reader(plaintext);
  const out: HandshakeFragment[] = [];
  while (r.remaining > 0) {
    const msgType = r.u8();
    const length = r.u24();
    const messageSeq = r.u16();
    const offset = r.u24();
    const data = r.vector(3);
    if (length > MAX_HANDSHAKE_MESSAGE) throw new DecodeError(`handshake message of ${length} bytes is too large`);
    if (offset + data.length > length) throw new DecodeError('handshake fragment runs past its message');
    out.push({ msgType, length, messageSeq, offset, data });
  }
  return out;
}

function header(msgType: number, length: number, messageSeq: number, offset: number, fragmentLength: number): Buffer {
  const h = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH);
  h[0] = msgType;
  h.writeUIntBE(length, 1, 3);
  h.writeUInt16BE(messageSeq, 4);
  h.writeUIntBE(offset, 6, 3);
  h.writeUIntBE(fragmentLength, 9, 3);
  return h;
}

/** A whole message in one fragment: what the transcript hashes. */
export function wholeMessage(msgType: number, messageSeq: number, body: Buffer): Buffer {
  return Buffer.concat([header(msgType, body.length, messageSeq, 0, body.length), body]);
}

/** Splits a message into fragments of at most `maxData` body bytes each (record plaintexts). */
export function fragmentMessage(msgType: number, messageSeq: number, body: Buffer, maxData: number): Buffer[] {
  if (body.length <= maxData) return [wholeMessage(msgType, messageSeq, body)];
  const out: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += maxData) {
    const data = body.subarray(offset, offset + maxData);
    out.push(Buffer.concat([header(msgType, body.length, messageSeq, offset, data.length), data]));
  }
  return out;
}

export interface Extension {
  type: number;
  data: Buffer;
}

function parseExtensions(r: Reader): Extension[] {
  if (r.remaining === 0) return [];
  const list = new Reader(r.vector(2));
  const out: Extension[] = [];
  while (list.remaining > 0) {
    const type = list.u16();
    if (out.some((e) => e.type === type)) throw new DecodeError(`extension ${type} appears twice`);
    out.push({ type, data: list.vector(2) });
  }
  return out;
}

function encodeExtensions(extensions: readonly Extension[]): Buffer {
  if (extensions.length === 0) return Buffer.alloc(0);
  return vector(2, Buffer.concat(extensions.map((e) => Buffer.concat([u16(e.type), vector(2, e.data)]))));
}

export interface ClientHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: Buffer;
  extensions: Extension[];
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new Reader(body);
  const version = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vector(1, 32);
  const cookie = r.vector(1);
  const suites = r.vector(2);
  if (suites.length < 2 || suites.length % 2) throw new DecodeError('bad cipher_suites length');
  const cipherSuites: number[] = [];
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  const compressionMethods = r.vector(1);
  if (compressionMethods.length < 1) throw new DecodeError('no compression method');
  const extensions = parseExtensions(r);
  r.end();
  return { version, random, sessionId, cookie, cipherSuites, compressionMethods, extensions };
}

export function encodeClientHello(h: ClientHello): Buffer {
  return Buffer.concat([
    u16(h.version),
    h.random,
    vector(1, h.sessionId),
    vector(1, h.cookie),
    vector(2, Buffer.concat(h.cipherSuites.map(u16))),
    vector(1, h.compressionMethods),
    encodeExtensions(h.extensions),
  ]);
}

export interface ServerHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[];
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body);
  const hello: ServerHello = {
    version: r.u16(),
    random: r.bytes(32),
    sessionId: r.vector(1, 32),
    cipherSuite: r.u16(),
    compressionMethod: r.u8(),
    extensions: [],
  };
  hello.extensions = parseExtensions(r);
  r.end();
  return hello;
}

export function encodeServerHello(h: ServerHello): Buffer {
  return Buffer.concat([u16(h.version), h.random, vector(1, h.sessionId), u16(h.cipherSuite), u8(h.compressionMethod), encodeExtensions(h.extensions)]);
}

/** HelloVerifyRequest: server_version and cookie. */
export function parseHelloVerifyRequest(body: Buffer): { version: number; cookie: Buffer } {
  const r = new Reader(body);
  const out = { version: r.u16(), cookie: r.vector(1) };
  r.end();
  return out;
}

export function encodeHelloVerifyRequest(version: number, cookie: Buffer): Buffer {
  return Buffer.concat([u16(version), vector(1, cookie)]);
}

/**
 * The body of a PSK ServerKeyExchange (psk_identity_hint) or ClientKeyExchange (psk_identity):
 * one opaque<0..2^16-1>.
 */
export function parsePskField(body: Buffer): Buffer {
  const r = new Reader(body);
  const v = r.vector(2);
  r.end();
  return v;
}

export function encodePskField(value: Buffer): Buffer {
  return vector(2, value);
}
