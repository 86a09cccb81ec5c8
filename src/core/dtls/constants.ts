/** Protocol numbers of DTLS 1.2 (RFC 6347, RFC 5246) used by this implementation. */

/** Record content types (RFC 5246 §6.2.1). */
export enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
}

/** Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2). */
export enum HandshakeType {
  HelloRequest = 0,
  ClientHello = 1,
  ServerHello = 2,
  HelloVerifyRequest = 3,
  ServerKeyExchange = 12,
  ServerHelloDone = 14,
  ClientKeyExchange = 16,
  Finished = 20,
}

/** Alert levels (RFC 5246 §7.2). */
export enum AlertLevel {
  Warning = 1,
  Fatal = 2,
}

/** Alert descriptions (RFC 5246 §7.2, RFC 4279 §2). */
export enum AlertDescription {
  CloseNotify = 0,
  UnexpectedMessage = 10,
  BadRecordMac = 20,
  HandshakeFailure = 40,
  IllegalParameter = 47,
  DecodeError = 50,
  DecryptError = 51,
  ProtocolVersion = 70,
  InternalError = 80,
  NoRenegotiation = 100,
  UnknownPskIdentity = 115,
}

const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  47: 'illegal_parameter',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  90: 'user_canceled',
  100: 'no_renegotiation',
  110: 'unsupported_extension',
  115: 'unknown_psk_identity',
};

/** `bad_record_mac`, or `alert 123` for a description we do not name. */
export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? `alert ${description}`;
}

/** DTLS 1.2 on the wire ({254, 253}). */
export const DTLS_1_2 = 0xfefd;
/** DTLS 1.0 ({254, 255}): accepted in record headers of a first ClientHello, sent in HelloVerifyRequest. */
export const DTLS_1_0 = 0xfeff;

/** Extension numbers we understand. */
export enum ExtensionType {
  /** RFC 7627. */
  ExtendedMasterSecret = 0x0017,
  /** RFC 5746. */
  RenegotiationInfo = 0xff01,
}

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3): a client's way to say "secure renegotiation". */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/** Largest plaintext of one record (RFC 5246 §6.2.1). */
export const MAX_PLAINTEXT = 1 << 14;
/** Record header: type, version, epoch, 48-bit sequence number, length. */
export const RECORD_HEADER_LENGTH = 13;
/** Handshake header: type, length, message_seq, fragment_offset, fragment_length. */
export const HANDSHAKE_HEADER_LENGTH = 12;
