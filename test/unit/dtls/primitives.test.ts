import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CookieJar } from '../../../src/core/dtls/cookie';
import { ContentType, DTLS_1_2 } from '../../../src/core/dtls/constants';
import { fragmentMessage, parseClientHello, parseHandshakeFragments, encodeClientHello, type HandshakeFragment } from '../../../src/core/dtls/handshake';
import { finishedVerifyData, keyBlock, masterSecret, prf, pskPremasterSecret } from '../../../src/core/dtls/prf';
import { HandshakeReassembler } from '../../../src/core/dtls/reassembly';
import { ReplayWindow, parseRecords, serializeRecord } from '../../../src/core/dtls/record';
import { CIPHER_SUITES, createProtection, resolveSuites } from '../../../src/core/dtls/suites';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Expected values computed independently with OpenSSL 3: `openssl kdf -kdfopt digest:SHA256 … TLS1-PRF`.
describe('TLS 1.2 PRF and key derivation', () => {
  it('matches P_SHA256 of OpenSSL', () => {
    const out = prf(hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    assert.equal(
      out.toString('hex'),
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  const psk = hex('0102030405060708090a0b0c0d0e0f10');
  const clientRandom = Buffer.alloc(32, 0xaa);
  const serverRandom = Buffer.alloc(32, 0xbb);

  it('builds the PSK premaster secret of RFC 4279 §2', () => {
    assert.equal(pskPremasterSecret(psk).toString('hex'), `0010${'00'.repeat(16)}0010${psk.toString('hex')}`);
  });

  it('derives the master secret, the extended master secret, the key block and verify_data', () => {
    const premaster = pskPremasterSecret(psk);
    const master = masterSecret(premaster, clientRandom, serverRandom);
    assert.equal(master.toString('hex'), '707db1c947ba9f80ba7d1997f882d1916f8e1f29d6a2565d4a514a82ec5fede99845784039df7058259858342550470c');
    const extended = masterSecret(premaster, clientRandom, serverRandom, Buffer.alloc(32, 0xcc));
    assert.equal(extended.toString('hex'), '056daa9d610735d800dba87497a7c902a8708255e8f4018231af701aeaa17c1f448b34a30943106c8782b4966c1466cf');
    const keys = keyBlock(master, clientRandom, serverRandom, { macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4 });
    assert.equal(
      Buffer.concat([keys.client.encKey, keys.server.encKey, keys.client.fixedIv, keys.server.fixedIv]).toString('hex'),
      '3f6c3dc12719689092c5879bbdee945386ed32b826a693b9526612ac73ef4fbf34c2ebb984979f40',
    );
    assert.equal(finishedVerifyData(master, 'client', Buffer.alloc(32, 0xcc)).toString('hex'), '4056edfbacd0ea1dd404374f');
  });
});

describe('record protection', () => {
  for (const suite of CIPHER_SUITES) {
    it(`${suite.name}: seals and opens; any changed bit, header field or length fails`, () => {
      const keys = { macKey: Buffer.alloc(suite.macKeyLength, 1), encKey: Buffer.alloc(16, 2), fixedIv: Buffer.alloc(suite.fixedIvLength, 3) };
      const sealer = createProtection(suite, keys);
      const opener = createProtection(suite, keys);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 2 ** 48 - 1 }), fc.nat(), (data, seq, flip) => {
          const plain = Buffer.from(data);
          const sealed = sealer.seal(ContentType.ApplicationData, DTLS_1_2, 1, seq, plain);
          assert.ok(sealed.length <= plain.length + suite.overhead);
          assert.deepEqual(opener.open(ContentType.ApplicationData, DTLS_1_2, 1, seq, sealed), plain);
          const garbled = Buffer.from(sealed);
          garbled[flip % garbled.length]! ^= 1 << flip % 8;
          assert.equal(opener.open(ContentType.ApplicationData, DTLS_1_2, 1, seq, garbled), undefined);
          assert.equal(opener.open(ContentType.ApplicationData, DTLS_1_2, 1, (seq + 1) % 2 ** 48, sealed), undefined, 'sequence number is authenticated');
          assert.equal(opener.open(ContentType.Handshake, DTLS_1_2, 1, seq, sealed), undefined, 'type is authenticated');
          assert.equal(opener.open(ContentType.ApplicationData, DTLS_1_2, 2, seq, sealed), undefined, 'epoch is authenticated');
          assert.equal(opener.open(ContentType.ApplicationData, DTLS_1_2, 1, seq, sealed.subarray(0, sealed.length - 1)), undefined);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('resolves suites by name or number and refuses unknown ones', () => {
    assert.deepEqual(resolveSuites(['TLS_PSK_WITH_AES_128_CBC_SHA256', 0xc0a8]).map((s) => s.id), [0x00ae, 0xc0a8]);
    assert.equal(resolveSuites(undefined)[0]!.name, 'TLS_PSK_WITH_AES_128_CCM_8');
    assert.throws(() => resolveSuites([0x002f]), /unsupported cipher suite 0x002f/);
    assert.throws(() => resolveSuites([]), /at least one/);
  });
});

describe('record framing', () => {
  it('splits a datagram into records and stops at a truncated or foreign one', () => {
    const a = serializeRecord(ContentType.ApplicationData, DTLS_1_2, 1, 5, Buffer.from('abc'));
    const b = serializeRecord(ContentType.Alert, DTLS_1_2, 1, 6, Buffer.from([1, 0]));
    const both = parseRecords(Buffer.concat([a, b]));
    assert.equal(both.malformed, false);
    assert.deepEqual(
      both.records.map((r) => [r.type, r.epoch, r.seq, r.fragment.toString('hex')]),
      [
        [23, 1, 5, '616263'],
        [21, 1, 6, '0100'],
      ],
    );
    assert.deepEqual(parseRecords(Buffer.concat([a, b.subarray(0, b.length - 1)])), { records: [both.records[0]], malformed: true });
    assert.equal(parseRecords(Buffer.from('GET / HTTP/1.1\r\n\r\n')).malformed, true);
    const tls = Buffer.from(a);
    tls.writeUInt16BE(0x0303, 1); // TLS 1.2, not DTLS
    assert.deepEqual(parseRecords(tls), { records: [], malformed: true });
  });
});

describe('ReplayWindow', () => {
  it('accepts each sequence number once, within 64 of the newest', () => {
    const w = new ReplayWindow();
    for (const seq of [0, 1, 5, 3]) {
      assert.ok(w.isFresh(seq));
      w.mark(seq);
      assert.ok(!w.isFresh(seq));
    }
    assert.ok(w.isFresh(2) && w.isFresh(4));
    w.mark(100);
    assert.ok(!w.isFresh(36), '64 behind the newest is outside the window');
    assert.ok(w.isFresh(37) && w.isFresh(99));
    assert.ok(!w.isFresh(5), 'long gone');
    w.mark(2 ** 48 - 1);
    assert.ok(!w.isFresh(100));
  });

  it('behaves like a set restricted to the last 64 (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 400 }), { maxLength: 200 }), (seqs) => {
        const w = new ReplayWindow();
        const seen = new Set<number>();
        let newest = -1;
        for (const seq of seqs) {
          const expected = !seen.has(seq) && seq > newest - 64;
          assert.equal(w.isFresh(seq), expected, `seq ${seq} after ${[...seen]}`);
          if (expected) {
            w.mark(seq);
            seen.add(seq);
            newest = Math.max(newest, seq);
          }
        }
      }),
    );
  });
});

describe('handshake fragmentation and reassembly', () => {
  const body = Buffer.from(Array.from({ length: 700 }, (_, i) => i & 0xff));

  function fragmentsOf(maxData: number): HandshakeFragment[] {
    return fragmentMessage(11, 3, body, maxData).flatMap((f) => parseHandshakeFragments(f));
  }

  it('reassembles fragments in any order, duplicated or overlapping', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 800 }), fc.integer({ min: 1, max: 800 }), fc.nat(), (a, b, seed) => {
        const all = [...fragmentsOf(a), ...fragmentsOf(b)];
        // Fisher–Yates with a small LCG: any order, reproducible from the seed.
        for (let i = all.length - 1, x = seed; i > 0; i--) {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          const j = x % (i + 1);
          [all[i], all[j]] = [all[j]!, all[i]!];
        }
        const r = new HandshakeReassembler(3);
        for (const f of all.slice(0, -1)) r.add(f);
        const last = all[all.length - 1]!;
        r.add(last);
        const m = r.next();
        assert.ok(m);
        assert.equal(m.msgType, 11);
        assert.equal(m.messageSeq, 3);
        assert.deepEqual(m.body, body);
        assert.equal(r.next(), undefined);
        assert.equal(r.add(last), 'old');
      }),
      { numRuns: 50 },
    );
  });

  it('delivers in message_seq order, holds later messages, ignores far-future and inconsistent fragments', () => {
    const r = new HandshakeReassembler(0);
    const msg = (seq: number, type = 14): HandshakeFragment => ({ msgType: type, length: 0, messageSeq: seq, offset: 0, data: Buffer.alloc(0) });
    assert.equal(r.add(msg(1)), 'accepted');
    assert.equal(r.next(), undefined, 'message 0 is missing');
    assert.equal(r.add(msg(9)), 'ignored');
    assert.equal(r.add(msg(0)), 'accepted');
    assert.equal(r.next()?.messageSeq, 0);
    assert.equal(r.next()?.messageSeq, 1);
    const first: HandshakeFragment = { msgType: 2, length: 10, messageSeq: 2, offset: 0, data: Buffer.alloc(5) };
    assert.equal(r.add(first), 'accepted');
    assert.equal(r.add({ ...first, msgType: 3, offset: 5 }), 'ignored');
    assert.equal(r.add({ ...first, length: 11, offset: 5 }), 'ignored');
  });

  it('bounds the memory of messages under reassembly', () => {
    const r = new HandshakeReassembler(0);
    const big = (seq: number): HandshakeFragment => ({ msgType: 1, length: 8000, messageSeq: seq, offset: 0, data: Buffer.alloc(10) });
    assert.equal(r.add(big(0)), 'accepted');
    assert.equal(r.add(big(1)), 'accepted');
    assert.equal(r.add(big(2)), 'ignored');
  });

  it('rejects fragments that run past their message', () => {
    const bad = fragmentMessage(1, 0, Buffer.alloc(10), 100)[0]!;
    bad.writeUIntBE(5, 1, 3); // length 5 < fragment_length 10
    assert.throws(() => parseHandshakeFragments(bad), /past its message/);
  });

  it('round-trips a ClientHello', () => {
    const hello = {
      version: DTLS_1_2,
      random: Buffer.alloc(32, 1),
      sessionId: Buffer.alloc(0),
      cookie: Buffer.alloc(32, 2),
      cipherSuites: [0xc0a8, 0x00ae],
      compressionMethods: Buffer.from([0]),
      extensions: [{ type: 0x17, data: Buffer.alloc(0) }],
    };
    assert.deepEqual(parseClientHello(encodeClientHello(hello)), hello);
    assert.throws(() => parseClientHello(encodeClientHello(hello).subarray(0, 50)), /truncated/);
  });
});

describe('CookieJar', () => {
  const hello = parseClientHello(
    encodeClientHello({ version: DTLS_1_2, random: Buffer.alloc(32, 1), sessionId: Buffer.alloc(0), cookie: Buffer.alloc(0), cipherSuites: [0xc0a8], compressionMethods: Buffer.from([0]), extensions: [] }),
  );

  it('accepts its cookie for the same peer and ClientHello, for one to two rotation periods', () => {
    let now = 0;
    const jar = new CookieJar(1000, () => now);
    const cookie = jar.make('10.0.0.1:5000', hello);
    assert.ok(jar.verify('10.0.0.1:5000', { ...hello, cookie }));
    assert.ok(!jar.verify('10.0.0.1:5001', { ...hello, cookie }), 'another port');
    assert.ok(!jar.verify('10.0.0.1:5000', { ...hello, cookie, random: Buffer.alloc(32, 9) }), 'another ClientHello');
    now = 1500;
    assert.ok(jar.verify('10.0.0.1:5000', { ...hello, cookie }), 'previous secret still accepted');
    now = 2600;
    assert.ok(!jar.verify('10.0.0.1:5000', { ...hello, cookie }), 'two rotations later');
  });
});
