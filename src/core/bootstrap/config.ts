/**
 * Bootstrap server configuration: what each endpoint is provisioned with (lwm2m-protocol.md
 * §6.1, §17.2, §17.3, §18), loaded from JSON files and validated with file and field.
 *
 * File format (JSON; `BOOTSTRAP_CONFIG_SCHEMA` is the same thing as a JSON Schema):
 *
 * ```json
 * {
 *   "version": 1,
 *   "default": {                                   // endpoints without an entry of their own
 *     "delete": ["/0", "/1"],                      // Bootstrap-Delete paths, default ["/"]
 *     "discover": true,                            // Bootstrap-Discover `/` first (optional)
 *     "read": ["/1"],                              // Bootstrap-Read after writing (optional, /1 or /2 only)
 *     "format": "senml-cbor",                      // tlv | senml-cbor | senml-json; default from the client's `pct`
 *     "servers": [{
 *       "shortServerId": 101,                      // 1..65534
 *       "uri": "coap://192.0.2.1:5683",            // coap:// for NoSec, coaps:// for PSK
 *       "lifetime": 300,                           // seconds, default 300
 *       "binding": "U",                            // default U
 *       "defaultMinPeriod": 0, "defaultMaxPeriod": 60,   // /1/x/2, /1/x/3 (optional)
 *       "notificationStoring": true,               // /1/x/6, default true
 *       "muteSend": false,                         // /1/x/23, default false (Send allowed)
 *       "securityInstanceId": 1, "serverInstanceId": 0,  // default 1+index and index
 *       "security": { "mode": "NoSec" }            // or { "mode": "PSK", "identity": "dev1", "keyRef": "psk/dev1" }
 *     }]
 *   },
 *   "endpoints": { "urn:imei:490154203237518": { "servers": [ … ] } }
 * }
 * ```
 *
 * A PSK key is never in the file: `keyRef` names it, and the bootstrap server asks a resolver
 * callback for the bytes (in VS Code, SecretStorage).
 */

import { readFile } from 'node:fs/promises';
import { Lwm2mPath, PathError } from '../path';

export type SecurityModeName = 'NoSec' | 'PSK';
export type WriteFormatName = 'tlv' | 'senml-cbor' | 'senml-json';

export interface SecurityConfig {
  mode: SecurityModeName;
  /** PSK identity (UTF-8), written to `/0/x/3`. */
  identity?: string;
  /** Reference of the PSK, resolved by the bootstrap server's key resolver; written to `/0/x/5`. */
  keyRef?: string;
}

export interface ServerConfig {
  shortServerId: number;
  uri: string;
  lifetime: number;
  binding: string;
  defaultMinPeriod?: number;
  defaultMaxPeriod?: number;
  notificationStoring: boolean;
  muteSend: boolean;
  securityInstanceId: number;
  serverInstanceId: number;
  security: SecurityConfig;
}

export interface EndpointConfig {
  /** Bootstrap-Delete paths, in order. */
  delete: string[];
  discover: boolean;
  /** Bootstrap-Read paths. */
  read: string[];
  format: WriteFormatName | undefined;
  servers: ServerConfig[];
  /** Where this entry came from (file). */
  source: string;
}

/** Configurations by endpoint name, plus the default. */
export interface BootstrapConfig {
  endpoints: Map<string, EndpointConfig>;
  default: EndpointConfig | undefined;
}

/** One thing wrong in a configuration file. `field` is a JSON pointer (`/endpoints/dev1/servers/0/uri`), '' for the whole file. */
export interface ConfigProblem {
  file: string;
  field: string;
  message: string;
}

export class BootstrapConfigError extends Error {
  override readonly name = 'BootstrapConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid bootstrap configuration:\n${problems.map(formatProblem).join('\n')}`);
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.field || '/'}: ${p.message}`;
}

// ----- the schema ----------------------------------------------------------------------------

/** The subset of JSON Schema (draft-07) the validator below interprets. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  enum?: readonly (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  minLength?: number;
  default?: unknown;
}

const PATH_PATTERN = '^/(\\d{1,5}(/\\d{1,5}){0,2})?$';

const SECURITY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'How the client secures its connection to this server. PSK needs identity and keyRef.',
  properties: {
    mode: { type: 'string', enum: ['NoSec', 'PSK'], description: 'Security Mode /0/x/2: NoSec (3) or PSK (0).' },
    identity: { type: 'string', minLength: 1, description: 'PSK identity, written to /0/x/3.' },
    keyRef: { type: 'string', minLength: 1, description: 'Reference of the pre-shared key, resolved at run time (never the key itself).' },
  },
  required: ['mode'],
  additionalProperties: false,
};

const SERVER_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    shortServerId: { type: 'integer', minimum: 1, maximum: 65534, description: 'Short Server ID (/0/x/10, /1/x/0).' },
    uri: { type: 'string', pattern: '^coaps?://[^\\s]+$', description: 'LwM2M Server URI (/0/x/0).' },
    lifetime: { type: 'integer', minimum: 1, default: 300, description: 'Registration lifetime in seconds (/1/x/1).' },
    binding: { type: 'string', pattern: '^[UQSNT]+$', default: 'U', description: 'Binding (/1/x/7).' },
    defaultMinPeriod: { type: 'integer', minimum: 0, description: 'Default pmin (/1/x/2).' },
    defaultMaxPeriod: { type: 'integer', minimum: 0, description: 'Default pmax (/1/x/3).' },
    notificationStoring: { type: 'boolean', default: true, description: 'Notification Storing When Disabled or Offline (/1/x/6).' },
    muteSend: { type: 'boolean', default: false, description: 'Mute Send (/1/x/23); false lets the client Send.' },
    securityInstanceId: { type: 'integer', minimum: 0, maximum: 65534, description: 'Security instance to write, default 1 + the index of this server.' },
    serverInstanceId: { type: 'integer', minimum: 0, maximum: 65534, description: 'Server instance to write, default the index of this server.' },
    security: SECURITY_SCHEMA,
  },
  required: ['shortServerId', 'uri', 'security'],
  additionalProperties: false,
};

const ENTRY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    delete: { type: 'array', items: { type: 'string', pattern: PATH_PATTERN }, default: ['/'], description: 'Bootstrap-Delete paths, in order.' },
    discover: { type: 'boolean', default: false, description: 'Send Bootstrap-Discover on / before writing.' },
    read: { type: 'array', items: { type: 'string', pattern: PATH_PATTERN }, description: 'Bootstrap-Read paths after writing (/1… or /2… only).' },
    format: { type: 'string', enum: ['tlv', 'senml-cbor', 'senml-json'], description: 'Format of Bootstrap-Write payloads; default from the client’s pct (TLV without one).' },
    servers: { type: 'array', items: SERVER_SCHEMA, minItems: 1, description: 'LwM2M servers to provision.' },
  },
  required: ['servers'],
  additionalProperties: false,
};

/** The configuration file format as a JSON Schema (draft-07). */
export const BOOTSTRAP_CONFIG_SCHEMA: JsonSchema & { $schema: string; title: string } = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'LwM2M Workbench bootstrap server configuration',
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    version: { type: 'integer', enum: [1] },
    default: ENTRY_SCHEMA,
    endpoints: { type: 'object', additionalProperties: ENTRY_SCHEMA, description: 'Configurations by Endpoint Client Name.' },
  },
  additionalProperties: false,
};

// ----- validation ----------------------------------------------------------------------------

function pointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Checks `value` against the schema subset; appends problems with JSON pointers. */
export function validateSchema(value: unknown, schema: JsonSchema, file: string, at: string, problems: ConfigProblem[]): void {
  const add = (field: string, message: string) => problems.push({ file, field, message });
  const actual = typeOf(value);
  if (schema.type) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      add(at, `expected ${schema.type === 'integer' ? 'an integer' : schema.type === 'array' || schema.type === 'object' ? `an ${schema.type}` : `a ${schema.type}`}, found ${actual === 'number' && schema.type === 'integer' ? `the number ${String(value)}` : actual}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value as string)) add(at, `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(value)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) add(at, `must be at least ${schema.minimum}, found ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) add(at, `must be at most ${schema.maximum}, found ${value}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) add(at, `must not be empty`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) add(at, `${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) add(at, `needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
    if (schema.items) value.forEach((item, i) => validateSchema(item, schema.items!, file, pointer(at, i), problems));
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in obj)) add(pointer(at, name), 'is required');
    for (const [k, v] of Object.entries(obj)) {
      const prop = schema.properties?.[k];
      if (prop) validateSchema(v, prop, file, pointer(at, k), problems);
      else if (schema.additionalProperties === false) add(pointer(at, k), `unknown field (expected ${Object.keys(schema.properties ?? {}).join(', ')})`);
      else if (typeof schema.additionalProperties === 'object') validateSchema(v, schema.additionalProperties, file, pointer(at, k), problems);
    }
  }
}

interface RawServer {
  shortServerId: number;
  uri: string;
  lifetime?: number;
  binding?: string;
  defaultMinPeriod?: number;
  defaultMaxPeriod?: number;
  notificationStoring?: boolean;
  muteSend?: boolean;
  securityInstanceId?: number;
  serverInstanceId?: number;
  security: SecurityConfig;
}

interface RawEntry {
  delete?: string[];
  discover?: boolean;
  read?: string[];
  format?: WriteFormatName;
  servers: RawServer[];
}

interface RawFile {
  default?: RawEntry;
  endpoints?: Record<string, RawEntry>;
}

/** Rules beyond the schema: PSK fields, schemes, unique ids, pmin ≤ pmax, paths. */
function checkEntry(entry: RawEntry, file: string, at: string, problems: ConfigProblem[]): void {
  const add = (field: string, message: string) => problems.push({ file, field, message });
  const ssids = new Map<number, number>();
  const secIds = new Map<number, number>();
  const srvIds = new Map<number, number>();
  entry.servers.forEach((s, i) => {
    const here = pointer(pointer(at, 'servers'), i);
    const sec = s.security;
    if (sec.mode === 'PSK') {
      if (sec.identity === undefined) add(pointer(pointer(here, 'security'), 'identity'), 'is required for PSK');
      if (sec.keyRef === undefined) add(pointer(pointer(here, 'security'), 'keyRef'), 'is required for PSK (a reference to the key, resolved at run time)');
      if (!s.uri.startsWith('coaps://')) add(pointer(here, 'uri'), 'PSK needs a coaps:// URI');
    } else {
      if (sec.identity !== undefined) add(pointer(pointer(here, 'security'), 'identity'), 'only applies to PSK');
      if (sec.keyRef !== undefined) add(pointer(pointer(here, 'security'), 'keyRef'), 'only applies to PSK');
      if (!s.uri.startsWith('coap://')) add(pointer(here, 'uri'), 'NoSec needs a coap:// URI');
    }
    const prev = ssids.get(s.shortServerId);
    if (prev !== undefined) add(pointer(here, 'shortServerId'), `${s.shortServerId} is already used by servers/${prev}`);
    ssids.set(s.shortServerId, i);
    const secId = s.securityInstanceId ?? i + 1;
    const srvId = s.serverInstanceId ?? i;
    if (secIds.has(secId)) add(pointer(here, 'securityInstanceId'), `Security instance ${secId} is already used by servers/${secIds.get(secId)}`);
    if (srvIds.has(srvId)) add(pointer(here, 'serverInstanceId'), `Server instance ${srvId} is already used by servers/${srvIds.get(srvId)}`);
    secIds.set(secId, i);
    srvIds.set(srvId, i);
    if (s.defaultMinPeriod !== undefined && s.defaultMaxPeriod !== undefined && s.defaultMaxPeriod > 0 && s.defaultMinPeriod > s.defaultMaxPeriod) {
      add(pointer(here, 'defaultMinPeriod'), `${s.defaultMinPeriod} is greater than defaultMaxPeriod ${s.defaultMaxPeriod}`);
    }
    try {
      new URL(s.uri);
    } catch {
      add(pointer(here, 'uri'), `${JSON.stringify(s.uri)} is not a URI`);
    }
  });
  const checkPaths = (name: 'delete' | 'read', list: string[] | undefined) =>
    list?.forEach((p, i) => {
      try {
        const path = Lwm2mPath.parse(p);
        if (name === 'read' && path.objectId !== 1 && path.objectId !== 2) add(pointer(pointer(at, name), i), `Bootstrap-Read is only allowed on /1 and /2, not ${p}`);
      } catch (err) {
        if (err instanceof PathError) add(pointer(pointer(at, name), i), err.message);
        else throw err;
      }
    });
  checkPaths('delete', entry.delete);
  checkPaths('read', entry.read);
}

function toEntry(raw: RawEntry, source: string): EndpointConfig {
  return {
    delete: raw.delete ?? ['/'],
    discover: raw.discover ?? false,
    read: raw.read ?? [],
    format: raw.format,
    source,
    servers: raw.servers.map((s, i) => ({
      shortServerId: s.shortServerId,
      uri: s.uri,
      lifetime: s.lifetime ?? 300,
      binding: s.binding ?? 'U',
      defaultMinPeriod: s.defaultMinPeriod,
      defaultMaxPeriod: s.defaultMaxPeriod,
      notificationStoring: s.notificationStoring ?? true,
      muteSend: s.muteSend ?? false,
      securityInstanceId: s.securityInstanceId ?? i + 1,
      serverInstanceId: s.serverInstanceId ?? i,
      security: { ...s.security },
    })),
  };
}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

/** Validates one parsed file (every entry, so that all problems are reported); returns its entries when it has none. */
export function checkConfigValue(value: unknown, file: string): { problems: ConfigProblem[]; default?: EndpointConfig; endpoints: Map<string, EndpointConfig> } {
  const problems: ConfigProblem[] = [];
  const endpoints = new Map<string, EndpointConfig>();
  // The file's shape without its entries, then each entry: its rules run once its shape is right.
  const outer: JsonSchema = {
    ...BOOTSTRAP_CONFIG_SCHEMA,
    properties: { ...BOOTSTRAP_CONFIG_SCHEMA.properties, default: { type: 'object' }, endpoints: { type: 'object', additionalProperties: { type: 'object' } } },
  };
  validateSchema(value, outer, file, '', problems);
  if (problems.length > 0) return { problems, endpoints };
  const raw = value as RawFile;
  if (raw.default === undefined && Object.keys(raw.endpoints ?? {}).length === 0) problems.push({ file, field: '', message: 'configures nothing: add "default" or "endpoints"' });
  const entries: [string, RawEntry][] = [];
  if (raw.default) entries.push(['/default', raw.default]);
  for (const [ep, entry] of Object.entries(raw.endpoints ?? {})) {
    if (ep === '') problems.push({ file, field: '/endpoints/', message: 'an endpoint name must not be empty' });
    entries.push([pointer('/endpoints', ep), entry]);
  }
  for (const [at, entry] of entries) {
    const own: ConfigProblem[] = [];
    validateSchema(entry, ENTRY_SCHEMA, file, at, own);
    if (own.length === 0) checkEntry(entry, file, at, own);
    problems.push(...own);
  }
  if (problems.length > 0) return { problems, endpoints };
  for (const [ep, entry] of Object.entries(raw.endpoints ?? {})) endpoints.set(ep, toEntry(entry, file));
  return { problems, default: raw.default ? toEntry(raw.default, file) : undefined, endpoints };
}

/** Parses and validates one file's text. */
export function parseConfigText(text: string, file: string): { problems: ConfigProblem[]; default?: EndpointConfig; endpoints: Map<string, EndpointConfig> } {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const where = m ? ` at ${lineColumn(text, Number(m[1]))}` : '';
    return { problems: [{ file, field: '', message: `not valid JSON${where}: ${(err as Error).message}` }], endpoints: new Map() };
  }
  return checkConfigValue(value, file);
}

/**
 * Merges validated files: an endpoint defined in two files and a second `default` are problems.
 * Throws BootstrapConfigError listing every problem of every file.
 */
export function mergeConfigs(parts: readonly { file: string; problems: ConfigProblem[]; default?: EndpointConfig; endpoints: Map<string, EndpointConfig> }[]): BootstrapConfig {
  const problems: ConfigProblem[] = parts.flatMap((p) => p.problems);
  const config: BootstrapConfig = { endpoints: new Map(), default: undefined };
  for (const part of parts) {
    if (part.default) {
      if (config.default) problems.push({ file: part.file, field: '/default', message: `a default is already defined in ${config.default.source}` });
      else config.default = part.default;
    }
    for (const [ep, entry] of part.endpoints) {
      const prev = config.endpoints.get(ep);
      if (prev) problems.push({ file: part.file, field: pointer('/endpoints', ep), message: `endpoint already defined in ${prev.source}` });
      else config.endpoints.set(ep, entry);
    }
  }
  if (problems.length > 0) throw new BootstrapConfigError(problems);
  return config;
}

/** Loads, validates and merges configuration files. Throws BootstrapConfigError (file + field for each problem). */
export async function loadBootstrapConfig(files: readonly string[]): Promise<BootstrapConfig> {
  const parts = await Promise.all(
    files.map(async (file) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        return { file, problems: [{ file, field: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], endpoints: new Map<string, EndpointConfig>() };
      }
      return { file, ...parseConfigText(text, file) };
    }),
  );
  return mergeConfigs(parts);
}

/** A configuration from an object (e.g. built by the extension), validated; `source` names it in problems. */
export function bootstrapConfigFrom(value: unknown, source = '<config>'): BootstrapConfig {
  return mergeConfigs([{ file: source, ...checkConfigValue(value, source) }]);
}

/** The entry for an endpoint: its own, else the default. */
export function configFor(config: BootstrapConfig, endpoint: string): EndpointConfig | undefined {
  return config.endpoints.get(endpoint) ?? config.default;
}
