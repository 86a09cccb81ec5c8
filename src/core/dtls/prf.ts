/**
 * Key derivation of TLS 1.2 as DTLS 1.2 uses it, with SHA-256 (every suite here has a SHA-256 PRF):
 * the PRF (RFC 5246 §5), the PSK premaster secret (RFC 4279 §2), the master secret (RFC 5246 §8.1)
 * or extended master secret (RFC 7627 §4), the key block (§6.3) and Finished verify_data (§7.4.9).
 */

import { createHash, createHmac } from 'node:crypto';

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** PRF(secret, label, seed) = P_SHA256(secret, label + seed), truncated to `length` bytes. */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let produced = 0;
  let a: Buffer = labelSeed; // A(0)
  while (produced < length) {
    a = hmac(secret, a); // A(i) = HMAC(secret, A(i-1))
    const block = hmac(secret, a, labelSeed);
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** The plain-PSK premaster secret: uint16 N, N zero bytes, uint16 N, the PSK. */
export function pskPremasterSecret(psk: Buffer): Buffer {
  const n = psk.length;
  const out = Buffer.alloc(4 + 2 * n);
  out.writeUInt16BE(n, 0);
  out.writeUInt16BE(n, 2 + n);
  psk.copy(out, 4 + n);
  return out;
}

/**
 * The 48-byte master secret: with `sessionHash` (the hash of the handshake up to and including
 * ClientKeyExchange) the extended master secret of RFC 7627, otherwise the classic one.
 */
export function masterSecret(premaster: Buffer, clientRandom: Buffer, serverRandom: Buffer, sessionHash?: Buffer): Buffer {
  return sessionHash
    ? prf(premaster, 'extended master secret', sessionHash, 48)
    : prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

/** Write keys of one direction. */
export interface DirectionKeys {
  macKey: Buffer;
  encKey: Buffer;
  /** The implicit part of the AEAD nonce (salt); empty for CBC suites. */
  fixedIv: Buffer;
}

/** Splits the key block into client and server write keys (RFC 5246 §6.3). */
export function keyBlock(
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
  sizes: { macKeyLength: number; encKeyLength: number; fixedIvLength: number },
): { client: DirectionKeys; server: DirectionKeys } {
  const { macKeyLength: m, encKeyLength: k, fixedIvLength: iv } = sizes;
  const block = prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (m + k + iv));
  let at = 0;
  const take = (n: number): Buffer => block.subarray(at, (at += n));
  const clientMac = take(m);
  const serverMac = take(m);
  const clientKey = take(k);
  const serverKey = take(k);
  return {
    client: { macKey: clientMac, encKey: clientKey, fixedIv: take(iv) },
    server: { macKey: serverMac, encKey: serverKey, fixedIv: take(iv) },
  };
}

/** verify_data of a Finished message: 12 bytes over the hash of the handshake so far. */
export function finishedVerifyData(master: Buffer, sender: 'client' | 'server', handshakeHash: Buffer): Buffer {
  return prf(master, `${sender} finished`, handshakeHash, 12);
}

/** SHA-256 of the concatenated handshake messages. */
export function transcriptHash(messages: readonly Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const m of messages) h.update(m);
  return h.digest();
}
