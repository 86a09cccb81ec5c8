/**
 * The PSK cipher suites and their record protection.
 *
 *   TLS_PSK_WITH_AES_128_CCM_8       0xC0A8  RFC 6655; mandatory for CoAP/LwM2M PSK (RFC 7252 §9.1.3.1)
 *   TLS_PSK_WITH_AES_128_CCM         0xC0A4  RFC 6655
 *   TLS_PSK_WITH_AES_128_GCM_SHA256  0x00A8  RFC 5487
 *   TLS_PSK_WITH_AES_128_CBC_SHA256  0x00AE  RFC 5487; LwM2M servers must accept it
 *
 * AEAD records (RFC 5246 §6.2.3.3 with RFC 6655 §3 / RFC 5288 §3): the 8-byte explicit nonce is
 * the record's epoch and sequence number, the nonce is salt ‖ explicit, the additional data is
 * epoch ‖ seq ‖ type ‖ version ‖ plaintext length. CBC records (§6.2.3.2): a random IV, then
 * AES-CBC over plaintext ‖ HMAC-SHA256 ‖ padding.
 */

import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DirectionKeys } from './prf';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly kind: 'aead' | 'cbc';
  readonly macKeyLength: number;
  readonly encKeyLength: number;
  readonly fixedIvLength: number;
  /** Authentication tag length of an AEAD suite. */
  readonly tagLength: number;
  /** Node's cipher name. */
  readonly cipher: 'aes-128-ccm' | 'aes-128-gcm' | 'aes-128-cbc';
  /** The most a record's fragment grows by when protected. */
  readonly overhead: number;
}

function aead(id: number, name: string, cipher: 'aes-128-ccm' | 'aes-128-gcm', tagLength: number): CipherSuite {
  return { id, name, kind: 'aead', macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4, tagLength, cipher, overhead: 8 + tagLength };
}

/** Every suite we implement, in our order of preference. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  aead(0xc0a8, 'TLS_PSK_WITH_AES_128_CCM_8', 'aes-128-ccm', 8),
  aead(0xc0a4, 'TLS_PSK_WITH_AES_128_CCM', 'aes-128-ccm', 16),
  aead(0x00a8, 'TLS_PSK_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 16),
  // IV 16 + MAC 32 + at most 16 bytes of padding.
  { id: 0x00ae, name: 'TLS_PSK_WITH_AES_128_CBC_SHA256', kind: 'cbc', macKeyLength: 32, encKeyLength: 16, fixedIvLength: 0, tagLength: 0, cipher: 'aes-128-cbc', overhead: 64 },
];

export type CipherSuiteName = 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CCM' | 'TLS_PSK_WITH_AES_128_GCM_SHA256' | 'TLS_PSK_WITH_AES_128_CBC_SHA256';

/** Resolves names or IANA numbers to suites; throws on one we do not implement. */
export function resolveSuites(wanted: readonly (CipherSuiteName | number)[] | undefined): CipherSuite[] {
  if (!wanted) return [...CIPHER_SUITES];
  if (wanted.length === 0) throw new RangeError('at least one cipher suite is needed');
  return wanted.map((w) => {
    const s = CIPHER_SUITES.find((c) => c.id === w || c.name === w);
    if (!s) throw new RangeError(`unsupported cipher suite ${typeof w === 'number' ? `0x${w.toString(16).padStart(4, '0')}` : w}`);
    return s;
  });
}

/** Protects and unprotects the records of one epoch in one direction. */
export interface RecordProtection {
  /** Bytes added to a fragment, at most. */
  readonly overhead: number;
  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer;
  /** The plaintext, or undefined when the record does not authenticate. */
  open(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer | undefined;
}

/** Epoch 0: TLS_NULL_WITH_NULL_NULL. */
export const NULL_PROTECTION: RecordProtection = {
  overhead: 0,
  seal: (_type, _version, _epoch, _seq, plaintext) => plaintext,
  open: (_type, _version, _epoch, _seq, fragment) => fragment,
};

/** The 13 bytes every MAC and AEAD covers: epoch ‖ seq ‖ type ‖ version ‖ length. */
function additionalData(type: number, version: number, epoch: number, seq: number, length: number): Buffer {
  const ad = Buffer.allocUnsafe(13);
  ad.writeUInt16BE(epoch, 0);
  ad.writeUIntBE(seq, 2, 6);
  ad[8] = type;
  ad.writeUInt16BE(version, 9);
  ad.writeUInt16BE(length, 11);
  return ad;
}

export function createProtection(suite: CipherSuite, keys: DirectionKeys): RecordProtection {
  return suite.kind === 'aead' ? aeadProtection(suite, keys) : cbcProtection(keys);
}

function aeadProtection(suite: CipherSuite, { encKey, fixedIv }: DirectionKeys): RecordProtection {
  const tagLength = suite.tagLength;
  const name = suite.cipher as 'aes-128-gcm'; // CCM and GCM share the call shapes used here
  return {
    overhead: suite.overhead,
    seal(type, version, epoch, seq, plaintext) {
      const out = Buffer.allocUnsafe(8 + plaintext.length + tagLength);
      out.writeUInt16BE(epoch, 0);
      out.writeUIntBE(seq, 2, 6);
      const nonce = Buffer.concat([fixedIv, out.subarray(0, 8)]);
      const c = createCipheriv(name, encKey, nonce, { authTagLength: tagLength });
      c.setAAD(additionalData(type, version, epoch, seq, plaintext.length), { plaintextLength: plaintext.length });
      const body = c.update(plaintext);
      c.final();
      body.copy(out, 8);
      c.getAuthTag().copy(out, 8 + body.length);
      return out;
    },
    open(type, version, epoch, seq, fragment) {
      const length = fragment.length - 8 - tagLength;
      if (length < 0) return undefined;
      const nonce = Buffer.concat([fixedIv, fragment.subarray(0, 8)]);
      const d = createDecipheriv(name, encKey, nonce, { authTagLength: tagLength });
      d.setAuthTag(fragment.subarray(8 + length));
      d.setAAD(additionalData(type, version, epoch, seq, length), { plaintextLength: length });
      const plain = d.update(fragment.subarray(8, 8 + length));
      try {
        d.final();
      } catch {
        return undefined;
      }
      return plain;
    },
  };
}

const MAC_LENGTH = 32;
const BLOCK = 16;

function cbcProtection({ macKey, encKey }: DirectionKeys): RecordProtection {
  const mac = (type: number, version: number, epoch: number, seq: number, content: Buffer): Buffer =>
    createHmac('sha256', macKey).update(additionalData(type, version, epoch, seq, content.length)).update(content).digest();
  return {
    overhead: BLOCK + MAC_LENGTH + BLOCK,
    seal(type, version, epoch, seq, plaintext) {
      const unpadded = plaintext.length + MAC_LENGTH;
      const padLength = (BLOCK - ((unpadded + 1) % BLOCK)) % BLOCK;
      const iv = randomBytes(BLOCK);
      const c = createCipheriv('aes-128-cbc', encKey, iv).setAutoPadding(false);
      const parts = [iv, c.update(plaintext), c.update(mac(type, version, epoch, seq, plaintext)), c.update(Buffer.alloc(padLength + 1, padLength)), c.final()];
      return Buffer.concat(parts);
    },
    open(type, version, epoch, seq, fragment) {
      const bodyLength = fragment.length - BLOCK;
      if (bodyLength < MAC_LENGTH + 1 || bodyLength % BLOCK !== 0) return undefined;
      const d = createDecipheriv('aes-128-cbc', encKey, fragment.subarray(0, BLOCK)).setAutoPadding(false);
      const plain = Buffer.concat([d.update(fragment.subarray(BLOCK)), d.final()]);
      // Check the padding without an early exit, and compute the MAC even when the padding is
      // bad (as if there were none), so that both failures take about the same time.
      let padLength = plain[plain.length - 1]!;
      let bad = padLength + 1 + MAC_LENGTH > plain.length ? 1 : 0;
      if (bad) padLength = 0;
      for (let i = plain.length - 1 - padLength; i < plain.length; i++) bad |= plain[i]! ^ padLength;
      const contentLength = plain.length - 1 - padLength - MAC_LENGTH;
      const content = plain.subarray(0, contentLength);
      const expected = mac(type, version, epoch, seq, content);
      const ok = timingSafeEqual(expected, plain.subarray(contentLength, contentLength + MAC_LENGTH));
      return ok && bad === 0 ? content : undefined;
    },
  };
}
