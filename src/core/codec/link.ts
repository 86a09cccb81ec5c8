/**
 * CoRE Link Format (RFC 6690, CF 40) with the LwM2M attributes (lwm2m-protocol.md §7.3, §14):
 * a tolerant but strict parser, a formatter, and readers for Register/Update payloads and
 * Discover results.
 *
 * `linkCodec` maps a link-format payload to records for the CLI and the inspector: one record
 * per link, in payload order, with
 * - `path`: the link target as an LwM2M path, after removing the alternate path announced by a
 *   `rt="oma.lwm2m"` root link; `/` (root) for targets that are not LwM2M paths;
 * - `type: 'corelnk'` and `value`: the link's own text exactly as in the payload
 *   (e.g. `</3/0/7>;dim=2;gt=50`);
 * - `span`: the link's byte range.
 * Encoding joins the record values with `,` (a record with a null value becomes `<path>`), so
 * decode → encode reproduces a payload without stray whitespace byte for byte.
 */
import { ContentFormat } from '../contentFormat';
import { DecodeError, EncodeError } from '../errors';
import type { Lwm2mRecord } from '../node';
import { Lwm2mPath, MAX_ID } from '../path';
import { firstInvalidUtf8, utf8Decode, utf8Encode } from './bytes';
import type { Codec, CodecContext, DecodeResult } from './types';

const FORMAT = ContentFormat.Link;

/** One parsed link: `<target>;name=value;flag`. */
export interface Link {
  /** The URI reference between `<` and `>`. */
  target: string;
  /**
   * Parameters in payload order, values unquoted; `true` for a value-less parameter (`;obs`).
   * A repeated parameter keeps its last value, except `ct`, whose values are joined with spaces
   * (`</>;ct=110;ct=112` → `ct: "110 112"`, lwm2m-protocol.md §19.15).
   */
  params: Record<string, string | true>;
  /** [start, end) of the link in the parsed text (character offsets for `parseLinks`). */
  span: [number, number];
}

// ----- character classes -------------------------------------------------------------------

const PTOKEN = new Uint8Array(128);
for (const c of "!#$%&'()*+-./:<=>?@[]^_`{|}~") PTOKEN[c.charCodeAt(0)] = 1;
const PARMNAME = new Uint8Array(128);
for (const c of '!#$&+-.^_`|~') PARMNAME[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) PTOKEN[c] = PARMNAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) PTOKEN[c] = PARMNAME[c] = PTOKEN[c + 32] = PARMNAME[c + 32] = 1;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function show(text: string, p: number): string {
  if (p >= text.length) return 'end of payload';
  const c = text.charCodeAt(p);
  return c >= 0x20 && c !== 0x7f ? JSON.stringify(text[p]) : `character U+${c.toString(16).padStart(4, '0')}`;
}

function setParam(params: Record<string, string | true>, name: string, value: string | true): void {
  const prev = Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
  if (name === 'ct' && typeof prev === 'string' && typeof value === 'string') value = `${prev} ${value}`;
  if (name === '__proto__') Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true });
  else params[name] = value;
}

/**
 * Parses link-format text. Whitespace (including newlines) around `,`, `;` and `=` is
 * tolerated; commas inside quoted values are fine. Throws DecodeError (format 40) with the
 * character offset of the first thing that is not link format. Empty text → no links.
 */
export function parseLinks(text: string): Link[] {
  const len = text.length;
  const links: Link[] = [];
  const fail = (offset: number, expected: string): never => {
    throw new DecodeError({ format: FORMAT, offset, expected, found: show(text, offset) });
  };
  const skip = (p: number): number => {
    while (p < len && isWs(text.charCodeAt(p))) p++;
    return p;
  };
  let p = skip(0);
  if (p === len) return links;
  for (;;) {
    if (text.charCodeAt(p) !== 0x3c) fail(p, '"<" starting a link');
    const start = p++;
    const targetStart = p;
    for (;;) {
      if (p >= len) fail(p, '">" closing the link target');
      const c = text.charCodeAt(p);
      if (c === 0x3e) break;
      if (c <= 0x20 || c === 0x3c || c === 0x22 || c === 0x7f) fail(p, 'a URI character or ">"');
      p++;
    }
    const target = text.slice(targetStart, p);
    p++;
    let end = p;
    const params: Record<string, string | true> = {};
    for (;;) {
      let q = skip(end);
      if (q >= len || text.charCodeAt(q) !== 0x3b) break;
      q = skip(q + 1);
      const nameStart = q;
      while (q < len && text.charCodeAt(q) < 128 && PARMNAME[text.charCodeAt(q)]) q++;
      if (q === nameStart) fail(q, 'a parameter name');
      const name = text.slice(nameStart, q);
      const afterName = q;
      q = skip(q);
      if (q < len && text.charCodeAt(q) === 0x3d) {
        q = skip(q + 1);
        if (q < len && text.charCodeAt(q) === 0x22) {
          const open = q++;
          let value = '';
          let chunk = q;
          for (;;) {
            if (q >= len) fail(q, `a closing '"' for the value opened at ${open}`);
            const c = text.charCodeAt(q);
            if (c === 0x22) break;
            if (c === 0x5c) {
              if (q + 1 >= len) fail(q + 1, 'an escaped character');
              value += text.slice(chunk, q);
              chunk = q + 1;
              q += 2;
              continue;
            }
            q++;
          }
          value += text.slice(chunk, q);
          setParam(params, name, value);
          end = q + 1;
        } else {
          const vStart = q;
          while (q < len && text.charCodeAt(q) < 128 && PTOKEN[text.charCodeAt(q)]) q++;
          if (q === vStart) fail(q, `a value for "${name}"`);
          setParam(params, name, text.slice(vStart, q));
          end = q;
        }
      } else {
        setParam(params, name, true);
        end = afterName;
      }
    }
    links.push({ target, params, span: [start, end] });
    p = skip(end);
    if (p >= len) return links;
    if (text.charCodeAt(p) !== 0x2c) fail(p, '"," or ";"');
    p = skip(p + 1);
    if (p >= len) fail(p, '"<" starting a link after ","');
  }
}

/** Parameters always written quoted (RFC 6690 and LwM2M usage: `rt="oma.lwm2m"`). */
const QUOTED = new Set(['rt', 'if', 'uri', 'anchor', 'rel', 'rev', 'title', 'type', 'media']);

function isPtoken(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 128 || !PTOKEN[c]) return false;
  }
  return true;
}

/** Formats one link; values are quoted when needed or customary (`rt`, `if`, `uri`, …). */
export function formatLink(link: Pick<Link, 'target' | 'params'>): string {
  let s = `<${link.target}>`;
  for (const [name, value] of Object.entries(link.params)) {
    if (value === true) s += `;${name}`;
    else if (!QUOTED.has(name) && isPtoken(value)) s += `;${name}=${value}`;
    else s += `;${name}="${value.replace(/["\\]/g, (m) => '\\' + m)}"`;
  }
  return s;
}

/** Formats links separated by `,` without whitespace (the canonical form). */
export function formatLinks(links: readonly Pick<Link, 'target' | 'params'>[]): string {
  return links.map(formatLink).join(',');
}

// ----- LwM2M readings ------------------------------------------------------------------------

/** Parses `/3/0`-style numeric link targets; undefined when the target is not an LwM2M path. */
export function linkPath(target: string): Lwm2mPath | undefined {
  if (target === '/' || target === '') return Lwm2mPath.ROOT;
  if (!/^\/\d{1,5}(\/\d{1,5}){0,3}\/?$/.test(target)) return undefined;
  const ids = target.split('/').filter((s) => s !== '').map(Number);
  if (ids.some((id) => id >= MAX_ID)) return undefined;
  return new Lwm2mPath(ids);
}

/** The LwM2M root link (`rt` containing `oma.lwm2m`, else a `</>` link), if any. */
export function findRootLink(links: readonly Link[]): Link | undefined {
  const byRt = links.find((l) => typeof l.params.rt === 'string' && l.params.rt.split(/\s+/).includes('oma.lwm2m'));
  return byRt ?? links.find((l) => l.target === '/');
}

/** Alternate path of a root link without trailing `/`; '' for the default root. */
function rootPrefix(root: Link | undefined): string {
  if (!root) return '';
  const t = root.target.replace(/\/+$/, '');
  return t === '' ? '' : t.startsWith('/') ? t : `/${t}`;
}

/** Strips the alternate path `prefix` from a target; undefined when the target is outside it. */
function stripPrefix(target: string, prefix: string): string | undefined {
  if (prefix === '') return target;
  if (target === prefix) return '/';
  return target.startsWith(prefix + '/') ? target.slice(prefix.length) : undefined;
}

/** Parses a `ct` value: `112`, `"60 110 112"` (already unquoted). Bad tokens go to `problems`. */
function parseCt(value: string | true, problems: string[]): number[] {
  if (value === true) {
    problems.push('ct without a value');
    return [];
  }
  const out: number[] = [];
  for (const tok of value.trim().split(/\s+/)) {
    if (/^\d{1,5}$/.test(tok) && Number(tok) <= 65535) {
      if (!out.includes(Number(tok))) out.push(Number(tok));
    } else problems.push(`ct value "${tok}" is not a content-format number`);
  }
  return out;
}

/** An object announced in a Register/Update payload. */
export interface RegisteredObject {
  id: number;
  /** `X.Y` from `ver=`; undefined when not announced (1.0 or the core default). */
  version?: string;
  /** Instance ids in payload order; empty for `</O>` alone ("supported, no instance"). */
  instances: number[];
}

/** What a Register/Update payload says (lwm2m-protocol.md §7.3). */
export interface RegistrationLinks {
  /** Alternate path: `/` by default, e.g. `/lwm2m` from `</lwm2m>;rt="oma.lwm2m"`. */
  rootPath: string;
  /** `ct` of the root link: formats the client supports beyond the mandatory ones. */
  contentFormats: number[];
  /** Objects in order of first appearance; `</3/0>` implies object 3. */
  objects: RegisteredObject[];
  /** Links that were not used and why (non-numeric paths, resource paths, …). */
  problems: string[];
}

/**
 * Reads a Register/Update payload (text or parsed links): root link and alternate path,
 * announced content formats, objects with versions and instances. Throws DecodeError only
 * when the text is not link format.
 */
export function readRegistrationLinks(input: string | readonly Link[]): RegistrationLinks {
  const links = typeof input === 'string' ? parseLinks(input) : input;
  const problems: string[] = [];
  const root = findRootLink(links);
  const prefix = rootPrefix(root);
  const contentFormats = root?.params.ct !== undefined ? parseCt(root.params.ct, problems) : [];
  const objects = new Map<number, RegisteredObject>();
  for (const link of links) {
    if (link === root) continue;
    const rel = stripPrefix(link.target, prefix);
    const path = rel === undefined ? undefined : linkPath(rel);
    if (!path || path.isRoot() || path.length > 2) {
      problems.push(`ignored <${link.target}>: ${rel === undefined ? `not below the alternate path ${prefix}` : 'not an object or object instance path'}`);
      continue;
    }
    const oid = path.objectId!;
    let obj = objects.get(oid);
    if (!obj) {
      obj = { id: oid, instances: [] };
      objects.set(oid, obj);
    }
    const ver = link.params.ver;
    if (typeof ver === 'string') {
      if (!/^\d+\.\d+$/.test(ver)) problems.push(`<${link.target}>: ver "${ver}" is not X.Y`);
      else if (path.length === 1 || obj.version === undefined) obj.version = ver;
    }
    const iid = path.instanceId;
    if (iid !== undefined && !obj.instances.includes(iid)) obj.instances.push(iid);
  }
  return { rootPath: prefix === '' ? '/' : prefix, contentFormats, objects: [...objects.values()], problems };
}

/** LwM2M attributes of a Discover result (lwm2m-protocol.md §14.3), typed. */
export interface Lwm2mAttributes {
  pmin?: number;
  pmax?: number;
  gt?: number;
  lt?: number;
  st?: number;
  epmin?: number;
  epmax?: number;
  edge?: number;
  con?: number;
  hqmax?: number;
  dim?: number;
  ssid?: number;
  ver?: string;
  lwm2m?: string;
  uri?: string;
}

const INTEGER_ATTRS = ['pmin', 'pmax', 'epmin', 'epmax', 'edge', 'con', 'hqmax', 'dim', 'ssid'] as const;
const FLOAT_ATTRS = ['gt', 'lt', 'st'] as const;
const STRING_ATTRS = ['ver', 'lwm2m', 'uri'] as const;

/** One Discover entry: the path, its typed attributes and all raw parameters. */
export interface DiscoveredLink {
  path: Lwm2mPath;
  attributes: Lwm2mAttributes;
  params: Record<string, string | true>;
  span: [number, number];
}

/**
 * Types the LwM2M attributes of link parameters. Integer attributes must be decimal,
 * `gt`/`lt`/`st` decimal numbers (a leading `-` is accepted, §19.39), `stp` is read as `st`.
 * Values that do not fit are reported in `problems` and left out.
 */
export function readAttributes(params: Record<string, string | true>, problems: string[] = [], where = ''): Lwm2mAttributes {
  const attrs: Lwm2mAttributes = {};
  const bad = (name: string, v: string | true, what: string): void => {
    problems.push(`${where}${name}=${v === true ? '(no value)' : v} is not ${what}`);
  };
  for (const name of INTEGER_ATTRS) {
    const v = params[name];
    if (v === undefined) continue;
    if (typeof v === 'string' && /^\d{1,15}$/.test(v)) attrs[name] = Number(v);
    else bad(name, v, 'a non-negative integer');
  }
  for (const name of FLOAT_ATTRS) {
    const v = params[name] ?? (name === 'st' ? params.stp : undefined);
    if (v === undefined) continue;
    if (typeof v === 'string' && /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(v)) attrs[name] = Number(v);
    else bad(name, v, 'a number');
  }
  for (const name of STRING_ATTRS) {
    const v = params[name];
    if (v === undefined) continue;
    if (typeof v === 'string') attrs[name] = v;
    else bad(name, v, 'a value');
  }
  return attrs;
}

/**
 * Reads a Discover (or Bootstrap-Discover) response: one entry per link with an LwM2M path
 * (`</>` is the root), attributes typed. Links that are not LwM2M paths and unreadable
 * attribute values are reported in `problems`. Throws DecodeError only on non-link-format text.
 */
export function readDiscoverLinks(input: string | readonly Link[]): { links: DiscoveredLink[]; problems: string[] } {
  const links = typeof input === 'string' ? parseLinks(input) : input;
  const problems: string[] = [];
  const out: DiscoveredLink[] = [];
  for (const link of links) {
    const path = linkPath(link.target);
    if (!path) {
      problems.push(`ignored <${link.target}>: not an LwM2M path`);
      continue;
    }
    out.push({ path, attributes: readAttributes(link.params, problems, `<${link.target}> `), params: link.params, span: link.span });
  }
  return { links: out, problems };
}

// ----- codec ---------------------------------------------------------------------------------

/** Maps character offsets of `text` to byte offsets of its UTF-8 encoding. */
function byteOffsets(text: string, byteLength: number): (charOffset: number) => number {
  if (text.length === byteLength) return (c) => c;
  const map = new Uint32Array(text.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = b;
    const c = text.charCodeAt(i);
    if (c < 0x80) b += 1;
    else if (c < 0x800) b += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      map[i + 1] = b;
      b += 4;
      i++;
    } else b += 3;
  }
  map[text.length] = b;
  return (c) => map[c]!;
}

function decodeLinkPayload(bytes: Uint8Array, _ctx: CodecContext): DecodeResult {
  const text = utf8Decode(bytes);
  if (text === undefined) {
    const bad = firstInvalidUtf8(bytes);
    throw new DecodeError({ format: FORMAT, offset: bad, expected: 'UTF-8 link-format text', found: `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')}` });
  }
  const toByte = byteOffsets(text, bytes.length);
  let links: Link[];
  try {
    links = parseLinks(text);
  } catch (e) {
    if (e instanceof DecodeError && e.offset !== toByte(e.offset)) {
      throw new DecodeError({ format: FORMAT, offset: toByte(e.offset), expected: e.expected, found: e.found });
    }
    throw e;
  }
  const prefix = rootPrefix(findRootLink(links));
  const records: Lwm2mRecord[] = [];
  let other = 0;
  for (const link of links) {
    const rel = stripPrefix(link.target, prefix);
    let path = rel === undefined ? undefined : linkPath(rel);
    if (!path) {
      other++;
      path = Lwm2mPath.ROOT;
    }
    records.push({ path, type: 'corelnk', value: text.slice(link.span[0], link.span[1]), span: [toByte(link.span[0]), toByte(link.span[1])] });
  }
  const notes = other ? [`${other} link${other === 1 ? '' : 's'} without an LwM2M path (kept with path /)`] : [];
  return { format: FORMAT, records, notes };
}

function encodeLinkRecords(records: readonly Lwm2mRecord[]): Uint8Array {
  const parts: string[] = [];
  for (const r of records) {
    if (r.value === null) {
      parts.push(`<${r.path.toString()}>`);
      continue;
    }
    if (typeof r.value !== 'string') throw new EncodeError(FORMAT, `${r.path.toString()}: a ${r.type} value is not link text`);
    try {
      parseLinks(r.value);
    } catch (e) {
      if (e instanceof DecodeError) throw new EncodeError(FORMAT, `${r.path.toString()}: value is not link format (${e.message})`);
      throw e;
    }
    parts.push(r.value.trim());
  }
  return utf8Encode(parts.join(','));
}

/** The link-format codec (see the module comment for the record mapping). */
export const linkCodec: Codec = {
  format: FORMAT,
  name: 'link',
  decode: decodeLinkPayload,
  encode: (records) => encodeLinkRecords(records),
};
