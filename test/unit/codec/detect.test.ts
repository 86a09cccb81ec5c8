import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { detectFormat } from '../../../src/core/codec/detect';
import { fromBase64, parseHex, toBase64, toHex, utf8Decode } from '../../../src/core/codec/bytes';
import { hex } from './staticModel';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('detectFormat', () => {
  const cases: [string, Uint8Array, number][] = [
    ['SenML JSON', utf8('[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":100}]'), 110],
    ['SenML JSON with whitespace', utf8(' \n[ {"n":"/3/0/9", "v":100} ]\n'), 110],
    ['LwM2M JSON', utf8('{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"}]}'), 11543],
    ['SenML CBOR', hex('81 a2 21 66 2f 33 2f 30 2f 39 02 18 64'), 112],
    ['TLV /3/0', hex('C800144F70656E204D6F62696C6520416C6C69616E6365 C10964'), 11542],
    ['LwM2M CBOR', hex('a1 03 a1 00 a1 09 18 64'), 11544],
    ['link format', utf8('</>;rt="oma.lwm2m",</1/0>,</3/0>'), 40],
    ['text', utf8('Open Mobile Alliance'), 0],
    ['JSON of another shape', utf8('{"a":1}'), 0],
    ['binary', hex('ff fe 00 01'), 42],
    ['empty', new Uint8Array(0), 42],
  ];
  for (const [name, bytes, format] of cases) {
    it(`${name} → ${format}`, () => {
      const d = detectFormat(bytes);
      assert.equal(d.format, format, d.reason);
      assert.ok(d.reason.length > 0);
    });
  }

  it('never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void detectFormat(b)), { numRuns: 1000 });
  });
});

describe('byte helpers', () => {
  it('hex and base64 agree with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        assert.equal(toHex(b), Buffer.from(b).toString('hex'));
        assert.equal(toBase64(b), Buffer.from(b).toString('base64'));
        assert.deepEqual(fromBase64(toBase64(b)), b);
        assert.deepEqual(fromBase64(Buffer.from(b).toString('base64url')), b);
        assert.deepEqual(parseHex(toHex(b).toUpperCase()), b);
      }),
    );
  });

  it('decodes UTF-8 strictly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        let expected: string | undefined;
        try {
          expected = new TextDecoder('utf-8', { fatal: true }).decode(b);
        } catch {
          expected = undefined;
        }
        assert.equal(utf8Decode(b), expected);
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => assert.equal(utf8Decode(utf8(s)), s)));
  });

  it('parses tolerant hex and reports the bad character', () => {
    assert.deepEqual(parseHex('C8 00:14\n0x4F,0x70'), new Uint8Array([0xc8, 0, 0x14, 0x4f, 0x70]));
    assert.deepEqual(parseHex('c8 0g'), { offset: 4, found: '"g"', expected: 'a second hex digit' });
    assert.deepEqual(parseHex('c8 0'), { offset: 4, found: 'end of input', expected: 'a second hex digit' });
  });
});
