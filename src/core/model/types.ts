import type { ValueType } from '../node';

/** Operations of a resource as in the DDF `Operations` element; '' = none (bootstrap only). */
export type Operations = '' | 'R' | 'W' | 'RW' | 'E';

/** DDF spelling of resource types (the `Type` element); '' for executables. */
export type DdfType =
  | 'String'
  | 'Integer'
  | 'Unsigned Integer'
  | 'Float'
  | 'Boolean'
  | 'Opaque'
  | 'Time'
  | 'Objlnk'
  | 'Corelnk'
  | '';

export interface RangeSpec {
  /** The free text of `RangeEnumeration`, as written. */
  text: string;
  min?: number;
  max?: number;
  /** Enumerated values, when the text lists them (e.g. `16,32,48` or `0=off;1=on`). */
  enumeration?: { value: string; label?: string }[];
  /** Range applies to the length in bytes (e.g. `0..255 bytes`). */
  bytes?: boolean;
}

export interface ResourceModel {
  id: number;
  name: string;
  operations: Operations;
  multiple: boolean;
  mandatory: boolean;
  type: ValueType;
  range?: RangeSpec;
  units?: string;
  description?: string;
}

export interface ObjectModel {
  id: number;
  name: string;
  /** `X.Y`; '1.0' when the DDF has no ObjectVersion. */
  version: string;
  /** Minimum LwM2M enabler version, `1.0`/`1.1`/`1.2`, when given. */
  lwm2mVersion?: string;
  urn: string;
  multiple: boolean;
  mandatory: boolean;
  description?: string;
  resources: ResourceModel[];
  /** Where the model came from: `bundled`, or a file path. */
  source?: string;
}

/** Converts between the DDF `Type` spelling and our lower-case `ValueType`. */
export function ddfTypeToValueType(t: string): ValueType | undefined {
  const s = t.trim().toLowerCase();
  if (s === '') return 'none';
  const map: Record<string, ValueType> = {
    string: 'string',
    integer: 'integer',
    'unsigned integer': 'unsigned integer',
    unsignedinteger: 'unsigned integer',
    float: 'float',
    boolean: 'boolean',
    opaque: 'opaque',
    time: 'time',
    objlnk: 'objlnk',
    corelnk: 'corelnk',
  };
  return map[s];
}

export function valueTypeToDdf(t: ValueType): DdfType {
  const map: Record<ValueType, DdfType> = {
    string: 'String',
    integer: 'Integer',
    'unsigned integer': 'Unsigned Integer',
    float: 'Float',
    boolean: 'Boolean',
    opaque: 'Opaque',
    time: 'Time',
    objlnk: 'Objlnk',
    corelnk: 'Corelnk',
    none: '',
  };
  return map[t];
}

/**
 * What codecs need from a model source: the resource model for a path.
 * Implemented by the ModelRegistry.
 */
export interface ModelLookup {
  getObject(objectId: number, version?: string): ObjectModel | undefined;
  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined;
}
