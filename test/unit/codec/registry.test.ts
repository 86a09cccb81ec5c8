import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodecRegistry, codecRegistry, getCodec, UnsupportedFormatError } from '../../../src/core/codec/registry';
import { tlvCodec } from '../../../src/core/codec/tlv';
import { textCodec } from '../../../src/core/codec/text';
import { opaqueCodec } from '../../../src/core/codec/opaque';
import { linkCodec } from '../../../src/core/codec/link';
import { FORMATS } from '../../../src/core/contentFormat';
import { Lwm2mPath } from '../../../src/core/path';
import { hex, staticModels } from './staticModel';

const models = staticModels();

// Only this package's own codecs are exercised here; the SenML/CBOR/LwM2M JSON codecs have
// their own tests. The default registry is only checked for completeness.
const own = new CodecRegistry([textCodec, linkCodec, opaqueCodec, tlvCodec]);

describe('codec registry', () => {
  it('maps legacy numbers to the current codecs', () => {
    assert.equal(own.get(1542), tlvCodec);
    assert.equal(own.get(11542), tlvCodec);
    assert.equal(own.get(1541), textCodec);
    assert.equal(own.get(1544), opaqueCodec);
    assert.equal(own.get(110), undefined);
    assert.throws(() => own.require(110), UnsupportedFormatError);
    assert.throws(() => own.decode(4242, new Uint8Array(0), { path: Lwm2mPath.ROOT }), /content format 4242/);
    assert.deepEqual(own.formats(), [0, 40, 42, 11542]);
  });

  it('has a codec for every named format by default', () => {
    for (const f of FORMATS) {
      assert.equal(getCodec(f.number)?.format, f.number, f.name);
      assert.equal(codecRegistry.get(f.number)?.name, f.name);
    }
  });

  it('decodes, encodes and converts', () => {
    const ctx = { path: Lwm2mPath.parse('/3/0/9'), models };
    assert.deepEqual(own.decode(1542, hex('c1 09 64'), ctx).records[0]!.value, 100);
    const converted = own.convert(11542, 0, hex('c1 09 64'), ctx);
    assert.equal(new TextDecoder().decode(converted.bytes), '100');
    assert.deepEqual(own.convert(0, 11542, converted.bytes, ctx).bytes, hex('c1 09 64'));
    assert.deepEqual(own.encode(42, [{ path: Lwm2mPath.parse('/9999/0/6'), type: 'opaque', value: new Uint8Array([1]) }], { path: Lwm2mPath.parse('/9999/0/6') }), new Uint8Array([1]));
  });
});
