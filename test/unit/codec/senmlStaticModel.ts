/**
 * A small static ModelLookup for the SenML / LwM2M JSON / LwM2M CBOR / CBOR codec tests:
 * the objects the spec vectors touch, plus object 9999 with one resource per value type;
 * and the few helpers those tests share.
 */
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/core/errors';
import type { ModelLookup, ObjectModel, ResourceModel } from '../../../src/core/model/types';
import type { Lwm2mRecord, ValueType } from '../../../src/core/node';
import { Lwm2mPath } from '../../../src/core/path';

function res(id: number, type: ValueType, multiple = false): ResourceModel {
  return { id, name: `r${id}`, operations: type === 'none' ? 'E' : 'RW', multiple, mandatory: false, type };
}

function obj(id: number, multiple: boolean, resources: ResourceModel[]): ObjectModel {
  return { id, name: `object ${id}`, version: '1.0', urn: `urn:oma:lwm2m:test:${id}`, multiple, mandatory: false, resources };
}

const OBJECTS: ObjectModel[] = [
  obj(1, true, [res(0, 'integer'), res(1, 'integer'), res(7, 'string'), res(8, 'none')]),
  obj(3, false, [
    res(0, 'string'),
    res(1, 'string'),
    res(2, 'string'),
    res(3, 'string'),
    res(4, 'none'),
    res(6, 'integer', true),
    res(7, 'integer', true),
    res(8, 'integer', true),
    res(9, 'integer'),
    res(10, 'integer'),
    res(11, 'integer', true),
    res(13, 'time'),
    res(14, 'string'),
    res(15, 'string'),
    res(16, 'string'),
    res(22, 'objlnk', true),
  ]),
  obj(5, false, [res(0, 'opaque'), res(1, 'string'), res(3, 'integer')]),
  obj(65, true, [res(0, 'objlnk', true)]),
  obj(3303, true, [res(5601, 'float'), res(5602, 'float'), res(5700, 'float'), res(5701, 'string')]),
  obj(3311, true, [res(5850, 'boolean'), res(5851, 'integer')]),
  obj(9999, true, [
    res(0, 'string'),
    res(1, 'integer'),
    res(2, 'unsigned integer'),
    res(3, 'float'),
    res(4, 'boolean'),
    res(5, 'opaque'),
    res(6, 'time'),
    res(7, 'objlnk'),
    res(8, 'corelnk'),
    res(9, 'none'),
    res(10, 'integer', true),
    res(11, 'string', true),
  ]),
];

/** The static models, as the codecs see them through CodecContext.models. */
export const senmlModels: ModelLookup = {
  getObject: (objectId) => OBJECTS.find((o) => o.id === objectId),
  getResource: (objectId, resourceId) => OBJECTS.find((o) => o.id === objectId)?.resources.find((r) => r.id === resourceId),
};

/** Bytes from hex text (spaces allowed). */
export const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** Upper-case hex of bytes. */
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** UTF-8 bytes of text. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Runs `fn`, asserts it throws a DecodeError, and returns it. */
export function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a DecodeError');
}

/** Runs `fn`; any exception other than a DecodeError fails the test. */
export function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

/** A fixed "now" for relative times: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000;

/** lwm2m-protocol.md §11.4: Read /3/0, the LwM2M spec example (Leshan test vector). */
export const DEVICE_JSON =
  '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},\n' +
  ' {"n":"1","vs":"Lightweight M2M Client"},{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},\n' +
  ' {"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},{"n":"7/1","v":5000},\n' +
  ' {"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},\n' +
  ' {"n":"11/0","v":0},{"n":"13","v":1367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]';

export const DEVICE_RECORDS: Lwm2mRecord[] = [
  { path: Lwm2mPath.parse('/3/0/0'), type: 'string', value: 'Open Mobile Alliance' },
  { path: Lwm2mPath.parse('/3/0/1'), type: 'string', value: 'Lightweight M2M Client' },
  { path: Lwm2mPath.parse('/3/0/2'), type: 'string', value: '345000123' },
  { path: Lwm2mPath.parse('/3/0/3'), type: 'string', value: '1.0' },
  { path: Lwm2mPath.parse('/3/0/6/0'), type: 'integer', value: 1 },
  { path: Lwm2mPath.parse('/3/0/6/1'), type: 'integer', value: 5 },
  { path: Lwm2mPath.parse('/3/0/7/0'), type: 'integer', value: 3800 },
  { path: Lwm2mPath.parse('/3/0/7/1'), type: 'integer', value: 5000 },
  { path: Lwm2mPath.parse('/3/0/8/0'), type: 'integer', value: 125 },
  { path: Lwm2mPath.parse('/3/0/8/1'), type: 'integer', value: 900 },
  { path: Lwm2mPath.parse('/3/0/9'), type: 'integer', value: 100 },
  { path: Lwm2mPath.parse('/3/0/10'), type: 'integer', value: 15 },
  { path: Lwm2mPath.parse('/3/0/11/0'), type: 'integer', value: 0 },
  { path: Lwm2mPath.parse('/3/0/13'), type: 'time', value: 1367491215 },
  { path: Lwm2mPath.parse('/3/0/14'), type: 'string', value: '+02:00' },
  { path: Lwm2mPath.parse('/3/0/16'), type: 'string', value: 'U' },
];
