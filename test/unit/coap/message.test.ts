import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as coapPacket from 'coap-packet';
import { MessageFormatError } from '../../../src/core/coap/errors';
import { Code, codeToString, parseCode, parseMessage, serializeMessage, type CoapMessage } from '../../../src/core/coap/message';
import {
  OptionNumber as Opt,
  blockSize,
  decodeBlock,
  decodeUint,
  encodeBlock,
  encodeUint,
  firstBadCriticalOption,
  getStringOptions,
  getUintOption,
} from '../../../src/core/coap/options';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** lwm2m-protocol.md §1.12. */
const REGISTER = Buffer.concat([
  hex('44 02 12 34 A1 B2 C3 D4 B2 72 64 11 28 37 65 70 3D 64 65 76 31 06 6C 74 3D 33 30 30 09 6C 77 6D 32 6D 3D 31 2E 31 03 62 3D 55 FF'),
  Buffer.from('</>;rt="oma.lwm2m";ct=112,</1/0>,</3/0>,</3303/0>'),
]);
const REGISTER_RESPONSE = hex('64 41 12 34 A1 B2 C3 D4 82 72 64 04 35 61 33 66');
const READ = hex('42 01 00 42 01 02 B4 33 33 30 33 01 30 04 35 37 30 30 61 70');
const OBSERVE = hex('42 01 00 43 0A 0B 60 54 33 33 30 33 01 30 04 35 37 30 30');
const NOTIFY = hex('52 45 70 01 0A 0B 61 0C 60 FF 32 32 2E 35');

function formatError(bytes: Buffer): MessageFormatError {
  try {
    parseMessage(bytes);
  } catch (err) {
    assert.ok(err instanceof MessageFormatError);
    return err;
  }
  assert.fail(`parsed ${bytes.toString('hex')} without error`);
}

describe('CoAP message codec', () => {
  it('parses the Register example of §1.12 and writes it back byte for byte', () => {
    const m = parseMessage(REGISTER);
    assert.equal(m.type, 'CON');
    assert.equal(m.code, 0x02);
    assert.equal(m.mid, 0x1234);
    assert.equal(m.token.toString('hex'), 'a1b2c3d4');
    assert.deepEqual(getStringOptions(m.options, Opt.UriPath), ['rd']);
    assert.deepEqual(getStringOptions(m.options, Opt.UriQuery), ['ep=dev1', 'lt=300', 'lwm2m=1.1', 'b=U']);
    assert.equal(getUintOption(m.options, Opt.ContentFormat), 40);
    assert.equal(m.payload.toString(), '</>;rt="oma.lwm2m";ct=112,</1/0>,</3/0>,</3303/0>');
    assert.deepEqual(serializeMessage(m), REGISTER);
  });

  it('round-trips the response, Read, Observe and NON notification examples', () => {
    for (const bytes of [REGISTER_RESPONSE, READ, OBSERVE, NOTIFY]) assert.deepEqual(serializeMessage(parseMessage(bytes)), bytes);
    const obs = parseMessage(OBSERVE);
    assert.equal(getUintOption(obs.options, Opt.Observe), 0);
    assert.equal(obs.options[0]!.value.length, 0, 'Observe=0 is a zero-length option');
    const n = parseMessage(NOTIFY);
    assert.equal(n.type, 'NON');
    assert.equal(codeToString(n.code), '2.05');
    assert.equal(getUintOption(n.options, Opt.Observe), 12);
    assert.equal(getUintOption(n.options, Opt.ContentFormat), 0);
    assert.equal(n.payload.toString(), '22.5');
  });

  it('encodes extended option deltas and lengths (13 and 14 nibbles)', () => {
    const msg: CoapMessage = {
      type: 'CON',
      code: 0x03,
      mid: 7,
      token: Buffer.alloc(0),
      options: [
        { number: Opt.UriPath, value: Buffer.alloc(20, 0x61) },
        { number: Opt.UriQuery, value: Buffer.alloc(300, 0x62) },
        { number: Opt.Size1, value: encodeUint(70000) },
        { number: 2053, value: Buffer.from([1]) },
      ],
      payload: Buffer.from('x'),
    };
    const bytes = serializeMessage(msg);
    assert.equal(bytes[4], 0xbd, 'delta 11, length 13+');
    assert.deepEqual(parseMessage(bytes), msg);
    const other = coapPacket.parse(bytes);
    assert.equal(other.options.length, 4);
    assert.equal(other.options[3]!.name, 'OCF-Content-Format-Version');
  });

  it('sorts options by number and keeps repeated options in order', () => {
    const bytes = serializeMessage({
      type: 'NON',
      code: 0x01,
      mid: 1,
      token: Buffer.from([1]),
      options: [
        { number: Opt.UriQuery, value: Buffer.from('a=1') },
        { number: Opt.UriPath, value: Buffer.from('x') },
        { number: Opt.UriPath, value: Buffer.from('y') },
      ],
      payload: Buffer.alloc(0),
    });
    const m = parseMessage(bytes);
    assert.deepEqual(
      m.options.map((o) => o.value.toString()),
      ['x', 'y', 'a=1'],
    );
  });

  it('agrees with coap-packet on arbitrary well-formed messages, both ways', () => {
    const option = fc
      .tuple(fc.constantFrom(1, 4, 6, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 60, 300, 2000), fc.uint8Array({ maxLength: 40 }))
      .map(([number, value]) => ({ number, value: Buffer.from(value) }));
    const message = fc.record({
      type: fc.constantFrom('CON' as const, 'NON' as const, 'ACK' as const),
      code: fc.constantFrom(0x01, 0x02, 0x45, 0x84, 0xa0),
      mid: fc.integer({ min: 0, max: 0xffff }),
      token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      options: fc.array(option, { maxLength: 6 }).map((os) => [...os].sort((a, b) => a.number - b.number)),
      payload: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(message, (msg) => {
        if (msg.type === 'ACK' && msg.code < 0x20) msg.code = 0x45;
        const ours = serializeMessage(msg);
        const theirs = coapPacket.parse(ours);
        assert.equal(theirs.messageId, msg.mid);
        assert.deepEqual(Buffer.from(theirs.payload), msg.payload);
        assert.deepEqual(
          theirs.options.map((o) => Buffer.from(o.value)),
          msg.options.map((o) => o.value),
        );
        assert.deepEqual(parseMessage(ours), { ...msg });
      }),
      { numRuns: 300 },
    );
  });

  it('parses Empty ACK, RST and CON (ping)', () => {
    assert.deepEqual(parseMessage(hex('60 00 12 34')), { type: 'ACK', code: 0, mid: 0x1234, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    assert.equal(parseMessage(hex('70 00 00 01')).type, 'RST');
    assert.equal(parseMessage(hex('40 00 00 01')).type, 'CON');
  });

  it('rejects format errors, keeping the header when it was readable', () => {
    assert.equal(formatError(hex('40 01 00')).header, undefined, 'shorter than a header');
    assert.equal(formatError(hex('80 01 00 01')).header, undefined, 'version 2');
    const cases: [string, string][] = [
      ['49 01 00 05 01 02 03 04 05 06 07 08 09', 'token length 9'],
      ['40 01 00 05 FF', 'payload marker without payload'],
      ['40 01 00 05 B5 72 64', 'option value truncated'],
      ['40 01 00 05 F1 00', 'reserved delta nibble'],
      ['40 01 00 05 BF 00', 'reserved length nibble'],
      ['40 01 00 05 D1', 'extended delta truncated'],
      ['40 21 00 05', 'class 1'],
      ['40 61 00 05', 'class 3'],
      ['40 C1 00 05', 'class 6'],
      ['40 E1 00 05', 'class 7'],
      ['41 00 00 05 01', 'Empty with a token'],
      ['40 00 00 05 00', 'Empty with a byte after the MID'],
      ['44 01 00 05 01 02', 'token truncated'],
    ];
    for (const [bytes, why] of cases) {
      const err = formatError(hex(bytes));
      assert.deepEqual(err.header, { type: 'CON', mid: 5 }, why);
    }
    assert.deepEqual(formatError(hex('50 00 00 09')).header, { type: 'NON', mid: 9 }, 'Empty NON');
    assert.deepEqual(formatError(hex('70 45 00 09')).header, { type: 'RST', mid: 9 }, 'RST with a code');
    assert.deepEqual(formatError(hex('60 01 00 09')).header, { type: 'ACK', mid: 9 }, 'ACK with a request');
  });

  it('refuses to serialize a token longer than 8 bytes', () => {
    assert.throws(
      () => serializeMessage({ type: 'CON', code: 1, mid: 1, token: Buffer.alloc(9), options: [], payload: Buffer.alloc(0) }),
      RangeError,
    );
  });

  it('formats and parses codes', () => {
    assert.equal(codeToString(Code.Content), '2.05');
    assert.equal(codeToString(Code.PreconditionFailed), '4.12');
    assert.equal(codeToString(0x01), '0.01');
    assert.equal(parseCode('2.31'), Code.Continue);
    assert.equal(parseCode('5.03'), Code.ServiceUnavailable);
    assert.throws(() => parseCode('2.5'));
    assert.throws(() => parseCode('2.32'));
  });
});

describe('CoAP option values', () => {
  it('encodes uints minimally and decodes leading zeros', () => {
    assert.deepEqual(encodeUint(0), Buffer.alloc(0));
    assert.deepEqual(encodeUint(40), Buffer.from([40]));
    assert.deepEqual(encodeUint(11542), Buffer.from([0x2d, 0x16]));
    assert.deepEqual(encodeUint(0x1000000), Buffer.from([1, 0, 0, 0]));
    assert.equal(decodeUint(Buffer.from([0, 0, 12])), 12);
    assert.equal(decodeUint(Buffer.from([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
    assert.throws(() => encodeUint(-1));
  });

  it('encodes and decodes Block options (§3 examples)', () => {
    assert.deepEqual(encodeBlock({ num: 0, more: true, szx: 6 }), Buffer.from([0x0e]));
    assert.deepEqual(encodeBlock({ num: 1, more: true, szx: 6 }), Buffer.from([0x1e]));
    assert.deepEqual(encodeBlock({ num: 0, more: false, szx: 0 }), Buffer.alloc(0));
    assert.deepEqual(decodeBlock(Buffer.from([0x01, 0x2b])), { num: 18, more: true, szx: 3 });
    assert.deepEqual(decodeBlock(encodeBlock({ num: 0xfffff, more: false, szx: 2 })), { num: 0xfffff, more: false, szx: 2 });
    assert.equal(blockSize(6), 1024);
    assert.equal(blockSize(0), 16);
  });

  it('finds critical options that make a request 4.02 Bad Option', () => {
    const v = (s: string) => Buffer.from(s);
    assert.equal(firstBadCriticalOption([{ number: Opt.UriPath, value: v('rd') }, { number: Opt.UriQuery, value: v('ep=1') }]), undefined);
    assert.equal(firstBadCriticalOption([{ number: Opt.ProxyUri, value: v('coap://x') }]), Opt.ProxyUri, 'unsupported critical');
    assert.equal(firstBadCriticalOption([{ number: 2048, value: v('x') }]), undefined, 'unknown elective is ignored');
    assert.equal(firstBadCriticalOption([{ number: 2051, value: v('x') }]), 2051, 'unknown critical');
    assert.equal(firstBadCriticalOption([{ number: Opt.Block2, value: Buffer.alloc(4) }]), Opt.Block2, 'too long');
    assert.equal(
      firstBadCriticalOption([
        { number: Opt.Accept, value: Buffer.from([0]) },
        { number: Opt.Accept, value: Buffer.from([40]) },
      ]),
      Opt.Accept,
      'non-repeatable repeated',
    );
    assert.equal(getUintOption([{ number: Opt.ContentFormat, value: Buffer.alloc(3) }], Opt.ContentFormat), undefined, 'out-of-range elective reads as absent');
  });
});
