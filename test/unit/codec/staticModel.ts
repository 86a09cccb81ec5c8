/**
 * A small static ModelLookup for codec tests (Leshan's StaticModel idea): the core objects the
 * spec vectors use, plus a test object 9999 with one resource per value type.
 */
import type { ModelLookup, ObjectModel, Operations, ResourceModel } from '../../../src/core/model/types';
import type { ValueType } from '../../../src/core/node';

function res(id: number, name: string, type: ValueType, operations: Operations = 'R', multiple = false, units?: string): ResourceModel {
  return { id, name, operations, multiple, mandatory: false, type, ...(units ? { units } : {}) };
}

function obj(id: number, name: string, multiple: boolean, resources: ResourceModel[], version = '1.0'): ObjectModel {
  return { id, name, version, urn: `urn:oma:lwm2m:oma:${id}`, multiple, mandatory: false, resources, source: 'test' };
}

export const OBJECTS: ObjectModel[] = [
  obj(1, 'LwM2M Server', true, [
    res(0, 'Short Server ID', 'integer'),
    res(1, 'Lifetime', 'integer', 'RW', false, 's'),
    res(2, 'Default Minimum Period', 'integer', 'RW'),
    res(3, 'Default Maximum Period', 'integer', 'RW'),
    res(6, 'Notification Storing When Disabled or Offline', 'boolean', 'RW'),
    res(7, 'Binding', 'string', 'RW'),
    res(8, 'Registration Update Trigger', 'none', 'E'),
  ]),
  obj(2, 'LwM2M Access Control', true, [
    res(0, 'Object ID', 'integer'),
    res(1, 'Object Instance ID', 'integer'),
    res(2, 'ACL', 'integer', 'RW', true),
    res(3, 'Access Control Owner', 'integer', 'RW'),
  ]),
  obj(3, 'Device', false, [
    res(0, 'Manufacturer', 'string'),
    res(1, 'Model Number', 'string'),
    res(2, 'Serial Number', 'string'),
    res(3, 'Firmware Version', 'string'),
    res(4, 'Reboot', 'none', 'E'),
    res(5, 'Factory Reset', 'none', 'E'),
    res(6, 'Available Power Sources', 'integer', 'R', true),
    res(7, 'Power Source Voltage', 'integer', 'R', true, 'mV'),
    res(8, 'Power Source Current', 'integer', 'R', true, 'mA'),
    res(9, 'Battery Level', 'integer', 'R', false, '%'),
    res(10, 'Memory Free', 'integer', 'R', false, 'KB'),
    res(11, 'Error Code', 'integer', 'R', true),
    res(12, 'Reset Error Code', 'none', 'E'),
    res(13, 'Current Time', 'time', 'RW'),
    res(14, 'UTC Offset', 'string', 'RW'),
    res(15, 'Timezone', 'string', 'RW'),
    res(16, 'Supported Binding and Modes', 'string'),
    res(22, 'ExtDevInfo', 'objlnk', 'R', true),
  ]),
  obj(9999, 'Type Test', true, [
    res(0, 'Links', 'objlnk', 'RW', true),
    res(1, 'String', 'string', 'RW'),
    res(2, 'Integer', 'integer', 'RW'),
    res(3, 'Unsigned', 'unsigned integer', 'RW'),
    res(4, 'Float', 'float', 'RW'),
    res(5, 'Boolean', 'boolean', 'RW'),
    res(6, 'Opaque', 'opaque', 'RW'),
    res(7, 'Time', 'time', 'RW'),
    res(8, 'Objlnk', 'objlnk', 'RW'),
    res(9, 'Corelnk', 'corelnk', 'RW'),
    res(10, 'Run', 'none', 'E'),
    res(11, 'Integers', 'integer', 'RW', true),
  ]),
];

/** A ModelLookup over `OBJECTS` (or the objects given); versions are ignored. */
export function staticModels(objects: ObjectModel[] = OBJECTS): ModelLookup {
  const byId = new Map(objects.map((o) => [o.id, o]));
  const resources = new Map<number, Map<number, ResourceModel>>();
  for (const o of objects) resources.set(o.id, new Map(o.resources.map((r) => [r.id, r])));
  return {
    getObject: (objectId) => byId.get(objectId),
    getResource: (objectId, resourceId) => resources.get(objectId)?.get(resourceId),
  };
}

/** Bytes from hex text with any whitespace. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lowercase hex of bytes. */
export function toHexString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
