/** Content-format codecs: bytes ⇄ `Lwm2mRecord[]`, one module per format, and their registry. */
export * from './types';
export { lookupResource, parseObjlnk } from './common';
export { toHex, parseHex, toBase64, fromBase64, utf8Decode, utf8Encode, type HexProblem } from './bytes';
export { tlvCodec, decodeTlv, encodeTlv, tlvHeaderLength, tlvKindLabel, type TlvInput, type TlvKind, type TlvRecord } from './tlv';
export { textCodec, formatText } from './text';
export { opaqueCodec } from './opaque';
export {
  linkCodec,
  parseLinks,
  formatLink,
  formatLinks,
  linkPath,
  findRootLink,
  readRegistrationLinks,
  readDiscoverLinks,
  readAttributes,
  type Link,
  type RegisteredObject,
  type RegistrationLinks,
  type Lwm2mAttributes,
  type DiscoveredLink,
} from './link';
export { cborCodec } from './cbor';
export { senmlJsonCodec, senmlCborCodec } from './senml';
export { lwm2mJsonCodec } from './lwm2mJson';
export { lwm2mCborCodec } from './lwm2mCbor';
export * from './registry';
