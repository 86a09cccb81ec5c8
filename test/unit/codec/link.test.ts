import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatLinks, linkCodec, parseLinks, readDiscoverLinks, readRegistrationLinks } from '../../../src/core/codec/link';
import { DecodeError, EncodeError } from '../../../src/core/errors';
import { Lwm2mPath } from '../../../src/core/path';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const ROOT_CTX = { path: Lwm2mPath.ROOT };

function expectDecodeError(fn: () => unknown, offset: number, match?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DecodeError, String(e));
    assert.equal(e.format, 40);
    assert.equal(e.offset, offset, e.message);
    if (match) assert.match(e.message, match);
    return true;
  });
}

const REGISTER = '</>;rt="oma.lwm2m";ct=112,</1>;ver=1.1,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>,</3303/1>,</5>';
const DISCOVER = '</3>;pmin=10,</3/0>;pmax=60,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,</3/0/7>;dim=2;gt=50;lt=42.2,</3/0/8>;dim=2,</3/0/11>,</3/0/16>';

describe('link format parser (RFC 6690)', () => {
  it('parses the register payload of §7.3', () => {
    const links = parseLinks(REGISTER);
    assert.equal(links.length, 8);
    assert.deepEqual(links[0], { target: '/', params: { rt: 'oma.lwm2m', ct: '112' }, span: [0, 25] });
    assert.deepEqual(links[1], { target: '/1', params: { ver: '1.1' }, span: [26, 38] });
    assert.deepEqual(links[7]!.params, {});
    assert.equal(formatLinks(links), REGISTER);
  });

  it('parses value-less parameters, quoted values with commas and escapes', () => {
    const links = parseLinks('</a>;obs;title="x, \\"y\\"; z";ct="60 110",</b>');
    assert.deepEqual(links[0]!.params, { obs: true, title: 'x, "y"; z', ct: '60 110' });
    assert.equal(links[1]!.target, '/b');
    assert.equal(formatLinks(links), '</a>;obs;title="x, \\"y\\"; z";ct="60 110",</b>');
  });

  it('tolerates whitespace and newlines between links and parameters', () => {
    const links = parseLinks('  </1/0> ;\n ver = 1.1 ,\r\n\t</3/0>  \n');
    assert.deepEqual(
      links.map((l) => [l.target, l.params, l.span]),
      [
        ['/1/0', { ver: '1.1' }, [2, 21]],
        ['/3/0', {}, [26, 32]],
      ],
    );
    assert.deepEqual(parseLinks(''), []);
    assert.deepEqual(parseLinks(' \n '), []);
  });

  it('merges repeated ct values (§19.15) and keeps the last of others', () => {
    assert.deepEqual(parseLinks('</>;ct=110;ct=112;pmin=1;pmin=2')[0]!.params, { ct: '110 112', pmin: '2' });
  });

  it('throws DecodeError with the offset on garbage', () => {
    expectDecodeError(() => parseLinks('3/0'), 0, /"<"/);
    expectDecodeError(() => parseLinks('</3/0'), 5, /">"/);
    expectDecodeError(() => parseLinks('</3/0>,'), 7, /"<" starting a link after ","/);
    expectDecodeError(() => parseLinks('</3/0>;'), 7, /parameter name/);
    expectDecodeError(() => parseLinks('</3/0>;pmin='), 12, /value for "pmin"/);
    expectDecodeError(() => parseLinks('</3/0>;rt="abc'), 14, /closing/);
    expectDecodeError(() => parseLinks('</3/0> </3/1>'), 7, /"," or ";"/);
    expectDecodeError(() => parseLinks('</3 0>'), 3, /URI character/);
    expectDecodeError(() => parseLinks('</3/0>;ct=60 110'), 13, /"," or ";"/);
  });

  it('random and mutated input only ever throws DecodeError', () => {
    const seeds = [REGISTER, DISCOVER, '</a>;obs;title="x, y"'];
    const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.constantFrom('<', '>', ',', ';', '"', '=', ' ', '\\', 'a', '\n', '\u00e9')), { maxLength: 4 }), fc.nat()).map(([s, edits, cut]) => {
      const chars = [...s];
      for (const [at, c] of edits) chars[at % chars.length] = c;
      return chars.join('').slice(0, cut % 3 === 0 ? cut % (s.length + 1) : undefined);
    });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), mutated), (text) => {
        try {
          const links = parseLinks(text);
          // whatever parses formats to text that parses to the same links
          assert.deepEqual(
            parseLinks(formatLinks(links)).map((l) => [l.target, l.params]),
            links.map((l) => [l.target, l.params]),
          );
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          assert.ok(e.offset >= 0 && e.offset <= text.length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('LwM2M link readers', () => {
  it('reads a register payload: root, content formats, objects, versions, instances', () => {
    assert.deepEqual(readRegistrationLinks(REGISTER), {
      rootPath: '/',
      contentFormats: [112],
      objects: [
        { id: 1, version: '1.1', instances: [0] },
        { id: 3, instances: [0] },
        { id: 3303, version: '1.1', instances: [0, 1] },
        { id: 5, instances: [] },
      ],
      problems: [],
    });
  });

  it('strips an alternate path and reads a quoted ct list', () => {
    const r = readRegistrationLinks('</lwm2m>;rt="oma.lwm2m";ct="60 110 112 11542",</lwm2m/1/0>,</lwm2m/3/0>;ver=1.2,</other/4>,</lwm2m/3/0/1>');
    assert.equal(r.rootPath, '/lwm2m');
    assert.deepEqual(r.contentFormats, [60, 110, 112, 11542]);
    assert.deepEqual(r.objects, [
      { id: 1, instances: [0] },
      { id: 3, version: '1.2', instances: [0] },
    ]);
    assert.equal(r.problems.length, 2);
  });

  it('does not take the root link for an object (§19.17) and works without one', () => {
    const r = readRegistrationLinks('</1/0>,</3/0>');
    assert.equal(r.rootPath, '/');
    assert.deepEqual(
      r.objects.map((o) => o.id),
      [1, 3],
    );
    assert.deepEqual(readRegistrationLinks('</>;ct=110;ct=112').contentFormats, [110, 112]);
  });

  it('reads Discover attributes (§14.2)', () => {
    const { links, problems } = readDiscoverLinks(DISCOVER);
    assert.deepEqual(problems, []);
    assert.equal(links.length, 11);
    assert.deepEqual(links[0]!.attributes, { pmin: 10 });
    assert.equal(links[7]!.path.toString(), '/3/0/7');
    assert.deepEqual(links[7]!.attributes, { dim: 2, gt: 50, lt: 42.2 });
    const more = readDiscoverLinks('</3303/0/5700>;gt=-10.5;stp=0.5;epmin=1;epmax=5;edge=1;con=0;hqmax=3,</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://a.example:5684",</x>;pmin=abc,</3/0/1>;pmax=x');
    assert.deepEqual(more.links[0]!.attributes, { gt: -10.5, st: 0.5, epmin: 1, epmax: 5, edge: 1, con: 0, hqmax: 3 });
    assert.deepEqual(more.links[1]!.attributes, { lwm2m: '1.1' });
    assert.deepEqual(more.links[2]!.attributes, { ssid: 101, uri: 'coaps://a.example:5684' });
    assert.equal(more.links.length, 4);
    assert.equal(more.problems.length, 2);
  });
});

describe('link codec (CF 40)', () => {
  it('maps each link to a corelnk record with its own text, and back byte for byte', () => {
    const r = linkCodec.decode(utf8(DISCOVER), ROOT_CTX);
    assert.equal(r.records.length, 11);
    assert.deepEqual(r.records[7], { path: Lwm2mPath.parse('/3/0/7'), type: 'corelnk', value: '</3/0/7>;dim=2;gt=50;lt=42.2', span: [79, 107] });
    assert.deepEqual(linkCodec.encode(r.records, ROOT_CTX), utf8(DISCOVER));
  });

  it('strips the alternate path and keeps links that are not LwM2M paths at /', () => {
    const r = linkCodec.decode(utf8('</rd>;rt="oma.lwm2m",</rd/3/0>,</.well-known/core>'), ROOT_CTX);
    assert.deepEqual(
      r.records.map((x) => [x.path.toString(), x.value]),
      [
        ['/', '</rd>;rt="oma.lwm2m"'],
        ['/3/0', '</rd/3/0>'],
        ['/', '</.well-known/core>'],
      ],
    );
    assert.match(r.notes[0]!, /1 link without an LwM2M path/);
  });

  it('reports byte offsets for non-ASCII payloads', () => {
    const bytes = utf8('</a>;title="é",</b');
    expectDecodeError(() => linkCodec.decode(bytes, ROOT_CTX), bytes.length, /">"/);
    const ok = linkCodec.decode(utf8('</a>;title="é",</3>'), ROOT_CTX);
    assert.deepEqual(ok.records[1]!.span, [16, 20]);
    expectDecodeError(() => linkCodec.decode(new Uint8Array([0x3c, 0xff]), ROOT_CTX), 1, /UTF-8/);
  });

  it('encodes null values as bare links and refuses non-link values', () => {
    const recs = [
      { path: Lwm2mPath.parse('/3/0'), type: 'corelnk' as const, value: null },
      { path: Lwm2mPath.parse('/3/0/1'), type: 'corelnk' as const, value: '</3/0/1>;pmin=5' },
    ];
    assert.equal(new TextDecoder().decode(linkCodec.encode(recs, ROOT_CTX)), '</3/0>,</3/0/1>;pmin=5');
    assert.throws(() => linkCodec.encode([{ path: Lwm2mPath.parse('/3/0/1'), type: 'string', value: 'nope' }], ROOT_CTX), EncodeError);
    assert.throws(() => linkCodec.encode([{ path: Lwm2mPath.parse('/3/0/1'), type: 'integer', value: 1 }], ROOT_CTX), EncodeError);
  });
});
