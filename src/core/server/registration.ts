/**
 * The Client Registration interface, server side (lwm2m-protocol.md §6.2, §7): what a
 * registration is, and how Register and Update requests are read and validated.
 */

import { readRegistrationLinks, type RegisteredObject } from '../codec/link';
import { ContentFormat } from '../contentFormat';
import { Code } from '../coap/message';
import type { Peer } from '../coap/peer';
import { RegistrationError } from './errors';

export type { RegisteredObject } from '../codec/link';

export const SUPPORTED_LWM2M_VERSIONS: readonly string[] = ['1.0', '1.1', '1.2'];
/** Lifetime when `lt` is absent, in seconds. */
export const DEFAULT_LIFETIME = 86_400;
/** Binding when `b` is absent. */
export const DEFAULT_BINDING = 'U';

/** One registered client. Immutable: an Update produces a new object with the same `id`. */
export interface Registration {
  /** Registration id, the last Location-Path segment (`/rd/<id>`). */
  readonly id: string;
  /** Endpoint Client Name (`ep`). */
  readonly endpoint: string;
  /** Where the client's requests come from and where downlink requests go. */
  readonly address: Peer;
  /** Seconds (`lt`). */
  readonly lifetime: number;
  /** `lwm2m` parameter; 1.0 when the client omitted it. */
  readonly lwm2mVersion: string;
  /** `b` parameter (U, UQ, S, …). */
  readonly binding: string;
  readonly sms: string | undefined;
  /** Queue mode: `Q` parameter (1.1+) or a `Q` in a 1.0 binding. */
  readonly queueMode: boolean;
  /** Query parameters the server does not interpret, kept as sent; null for a value-less one. */
  readonly extraParams: Readonly<Record<string, string | null>>;
  /** Alternate path (`/lwm2m`), or `/`. Every downlink path is prefixed with it. */
  readonly rootPath: string;
  readonly objects: readonly RegisteredObject[];
  /** `ct` of the root link: content formats announced beyond the mandatory ones. */
  readonly contentFormats: readonly number[];
  /** The link-format payload of the last Register/Update that carried one. */
  readonly linkText: string;
  /** Links of that payload that were ignored, and why. */
  readonly linkProblems: readonly string[];
  /** Milliseconds since 1970. */
  readonly registeredAt: number;
  readonly lastUpdate: number;
  /** lastUpdate + lifetime + the store's grace period. */
  readonly expiresAt: number;
  /** How the client is secured: plain CoAP (`NoSec`) or CoAPS with a pre-shared key (`PSK`). */
  readonly security: SecurityMode;
  /** The PSK identity of the DTLS session the client registered over (PSK mode only). */
  readonly pskIdentity?: string;
}

/** Security mode of a registration (lwm2m-protocol.md §18): only NoSec and PSK so far. */
export type SecurityMode = 'NoSec' | 'PSK';

/** The channel a request came over: plain CoAP, or a DTLS session authenticated with a PSK identity. */
export type Channel = { security: 'NoSec' } | { security: 'PSK'; identity: string };

/** What the payload of a Register/Update says. */
export interface LinkInfo {
  rootPath: string;
  objects: RegisteredObject[];
  contentFormats: number[];
  linkText: string;
  linkProblems: string[];
}

/** A valid Register request. */
export interface RegisterParams {
  endpoint: string;
  lifetime: number;
  lwm2mVersion: string;
  binding: string;
  sms: string | undefined;
  queueMode: boolean;
  extraParams: Record<string, string | null>;
  links: LinkInfo;
}

/** A valid Update request; absent fields are unchanged. */
export interface UpdateParams {
  lifetime?: number;
  /** A `Q` flag in the Update (tolerated; queue mode is otherwise fixed at Register for 1.1+). */
  queueMode?: true;
  binding?: string;
  sms?: string;
  extraParams: Record<string, string | null>;
  links?: LinkInfo;
}

const bad = (message: string) => new RegistrationError(Code.BadRequest, message);

/** Splits Uri-Query options into name → value (null when value-less). A repeated name is 4.00. */
function readQuery(query: readonly string[]): Map<string, string | null> {
  const params = new Map<string, string | null>();
  for (const q of query) {
    const eq = q.indexOf('=');
    const name = eq < 0 ? q : q.slice(0, eq);
    if (name === '') throw bad(`query parameter "${q}" has no name`);
    if (params.has(name)) throw bad(`query parameter "${name}" appears twice`);
    params.set(name, eq < 0 ? null : q.slice(eq + 1));
  }
  return params;
}

function requireValue(params: Map<string, string | null>, name: string): string | undefined {
  if (!params.has(name)) return undefined;
  const v = params.get(name);
  if (v === null || v === '') throw bad(`"${name}" needs a value`);
  return v;
}

function readLifetime(params: Map<string, string | null>): number | undefined {
  const lt = requireValue(params, 'lt');
  if (lt === undefined) return undefined;
  const n = Number(lt);
  if (!/^\d{1,10}$/.test(lt) || n < 1 || n > 0xffffffff) throw bad(`lifetime "lt=${lt}" is not a positive number of seconds`);
  return n;
}

function readBinding(params: Map<string, string | null>): string | undefined {
  const b = requireValue(params, 'b');
  if (b !== undefined && !/^[USNTQ]+$/.test(b)) throw bad(`binding "b=${b}" has letters other than U, S, N, T, Q`);
  return b;
}

function readLinks(payload: Uint8Array, contentFormat: number | undefined): LinkInfo {
  if (contentFormat !== undefined && contentFormat !== ContentFormat.Link) {
    throw bad(`the payload must be link format (40), not content format ${contentFormat}`);
  }
  const linkText = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  // Fleets register with the same few payloads: the (immutable) result is shared.
  const cached = linkCache.get(linkText);
  if (cached) return cached;
  let info: LinkInfo;
  try {
    const links = readRegistrationLinks(linkText);
    info = { rootPath: links.rootPath, objects: links.objects, contentFormats: links.contentFormats, linkText, linkProblems: links.problems };
  } catch (err) {
    throw bad(`the payload is not link format: ${(err as Error).message}`);
  }
  if (linkText.length <= 4096) {
    if (linkCache.size >= 256) linkCache.clear();
    linkCache.set(linkText, info);
  }
  return info;
}

/** Register/Update payloads read recently (bounded; cleared when full). */
const linkCache = new Map<string, LinkInfo>();

function extras(params: Map<string, string | null>, known: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of params) if (!known.includes(k)) out[k] = v;
  return out;
}

/**
 * Reads a Register request (POST /rd). Throws RegistrationError: 4.00 for a missing endpoint
 * name or a malformed parameter or payload, 4.12 for an unsupported LwM2M version. A missing
 * `lwm2m` means 1.0 (pre-1.0 clients); a missing Content-Format means link format.
 */
export function parseRegister(
  query: readonly string[],
  payload: Uint8Array,
  contentFormat: number | undefined,
  supportedVersions: readonly string[] = SUPPORTED_LWM2M_VERSIONS,
): RegisterParams {
  const params = readQuery(query);
  const endpoint = params.get('ep');
  if (endpoint === undefined || endpoint === null || endpoint === '') throw bad('the endpoint name "ep" is missing');
  const version = params.has('lwm2m') ? params.get('lwm2m') : '1.0';
  if (version === null || version === '') throw bad('"lwm2m" needs a value');
  if (version === undefined || !supportedVersions.includes(version)) {
    throw new RegistrationError(Code.PreconditionFailed, `LwM2M version "${version}" is not supported (${supportedVersions.join(', ')})`);
  }
  if (params.has('Q') && params.get('Q') !== null) throw bad('the queue mode flag "Q" takes no value');
  const binding = readBinding(params) ?? DEFAULT_BINDING;
  return {
    endpoint,
    lifetime: readLifetime(params) ?? DEFAULT_LIFETIME,
    lwm2mVersion: version,
    binding,
    sms: requireValue(params, 'sms'),
    queueMode: params.has('Q') || binding.includes('Q'),
    extraParams: extras(params, ['ep', 'lt', 'lwm2m', 'b', 'sms', 'Q']),
    links: readLinks(payload, contentFormat),
  };
}

/**
 * Reads an Update request (POST /rd/<id>): `lt`, `b`, `sms` and a new object list, all
 * optional. `ep` and `lwm2m` are not allowed there (4.00); other parameters are kept.
 */
export function parseUpdate(query: readonly string[], payload: Uint8Array, contentFormat: number | undefined): UpdateParams {
  const params = readQuery(query);
  for (const name of ['ep', 'lwm2m']) if (params.has(name)) throw bad(`"${name}" is not allowed in an Update`);
  if (params.has('Q') && params.get('Q') !== null) throw bad('the queue mode flag "Q" takes no value');
  const update: UpdateParams = { extraParams: extras(params, ['lt', 'b', 'sms', 'Q']) };
  if (params.has('Q')) update.queueMode = true;
  const lifetime = readLifetime(params);
  if (lifetime !== undefined) update.lifetime = lifetime;
  const binding = readBinding(params);
  if (binding !== undefined) update.binding = binding;
  const sms = requireValue(params, 'sms');
  if (sms !== undefined) update.sms = sms;
  if (payload.length > 0) update.links = readLinks(payload, contentFormat);
  return update;
}

/** Object id → version (`X.Y`) for the objects that announced one; for codec contexts. */
export function objectVersions(registration: Registration): Map<number, string> {
  const out = new Map<number, string>();
  for (const o of registration.objects) if (o.version !== undefined) out.set(o.id, o.version);
  return out;
}
