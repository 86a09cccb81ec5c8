/**
 * Notification attributes on the client side (lwm2m-protocol.md §14.3, §14.4): Write-Attributes
 * parsing and checking, storage per path, and the effective attributes of an observation
 * (exact level > instance > object > Server object defaults `/1/x/2`, `/1/x/3`).
 */

import { Code } from '../coap/message';
import { Lwm2mPath } from '../path';
import { SimError } from './tree';

/** Attributes a server may write, with the kind of value each takes. */
const KINDS = {
  pmin: 'integer',
  pmax: 'integer',
  epmin: 'integer',
  epmax: 'integer',
  gt: 'number',
  lt: 'number',
  st: 'number',
  con: 'bit',
  edge: 'bit',
  hqmax: 'integer',
} as const;

export type AttributeName = keyof typeof KINDS;

/** Attributes set at one level (or effective for an observation). */
export type Attributes = Partial<Record<AttributeName, number>>;

/** Output order in Discover. */
export const ATTRIBUTE_ORDER: readonly AttributeName[] = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'];

const VALUE_ONLY: ReadonlySet<AttributeName> = new Set(['gt', 'lt', 'st']);
const INTEGER = /^\d{1,10}$/;
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** One Write-Attributes request: values to set and names to unset. */
export interface AttributeChange {
  set: Attributes;
  unset: AttributeName[];
}

/**
 * Reads the Uri-Query of a Write-Attributes request (`pmin=10`, `pmax=60`, `gt` to unset;
 * `stp` is read as `st`). Throws SimError 4.00 for unknown or read-only attributes, bad
 * values and repeated names.
 */
export function parseAttributeQuery(query: readonly string[]): AttributeChange {
  const set: Attributes = {};
  const unset: AttributeName[] = [];
  const seen = new Set<string>();
  if (query.length === 0) throw new SimError(Code.BadRequest, 'Write-Attributes without attributes');
  for (const part of query) {
    const eq = part.indexOf('=');
    const raw = eq < 0 ? part : part.slice(0, eq);
    const name = (raw === 'stp' ? 'st' : raw) as AttributeName;
    if (!(name in KINDS)) throw new SimError(Code.BadRequest, `"${raw}" is not a writable attribute`);
    if (seen.has(name)) throw new SimError(Code.BadRequest, `attribute ${name} is given twice`);
    seen.add(name);
    if (eq < 0) {
      unset.push(name);
      continue;
    }
    const text = part.slice(eq + 1);
    const kind = KINDS[name];
    const ok = kind === 'integer' ? INTEGER.test(text) : kind === 'bit' ? text === '0' || text === '1' : NUMBER.test(text);
    if (!ok) throw new SimError(Code.BadRequest, `${name}=${text}: the value must be ${kind === 'integer' ? 'a non-negative integer' : kind === 'bit' ? '0 or 1' : 'a number'}`);
    set[name] = Number(text);
  }
  if (set.st !== undefined && set.st < 0) throw new SimError(Code.BadRequest, `st must not be negative`);
  return { set, unset };
}

/** Attributes by path, with the consistency rules checked on every change. */
export class AttributeStore {
  private readonly byPath = new Map<string, Attributes>();

  /** Attributes set exactly at `path`. */
  at(path: Lwm2mPath): Attributes {
    return { ...(this.byPath.get(path.toString()) ?? {}) };
  }

  /**
   * Applies a Write-Attributes change at `path`. `numeric` tells whether the path is a numeric
   * resource (gt/lt/st are only allowed there). Throws SimError 4.00 on a violated rule:
   * gt/lt/st above the resource level or on a non-numeric resource, pmin > pmax, epmin > epmax,
   * lt >= gt, lt + 2·st >= gt (all among the values at this level after the change).
   */
  write(path: Lwm2mPath, change: AttributeChange, numeric: boolean): Attributes {
    const valueAttrs = [...Object.keys(change.set)].filter((n) => VALUE_ONLY.has(n as AttributeName));
    if (valueAttrs.length > 0 && (path.length < 3 || !numeric)) {
      throw new SimError(Code.BadRequest, `${valueAttrs.join(', ')} only apply to numeric resources, not ${path.toString()}`);
    }
    const next: Attributes = { ...this.at(path), ...change.set };
    for (const n of change.unset) delete next[n];
    const both = (a: AttributeName, b: AttributeName) => next[a] !== undefined && next[b] !== undefined;
    if (both('pmin', 'pmax') && next.pmin! > next.pmax!) throw new SimError(Code.BadRequest, `pmin (${next.pmin}) is greater than pmax (${next.pmax})`);
    if (both('epmin', 'epmax') && next.epmin! > next.epmax!) throw new SimError(Code.BadRequest, `epmin (${next.epmin}) is greater than epmax (${next.epmax})`);
    if (both('lt', 'gt')) {
      if (next.lt! >= next.gt!) throw new SimError(Code.BadRequest, `lt (${next.lt}) must be below gt (${next.gt})`);
      if (next.st !== undefined && next.lt! + 2 * next.st >= next.gt!) throw new SimError(Code.BadRequest, `lt + 2·st must be below gt`);
    }
    if (Object.keys(next).length === 0) this.byPath.delete(path.toString());
    else this.byPath.set(path.toString(), next);
    return next;
  }

  /** Forgets attributes at `path` and below (the instance was deleted). */
  clearBelow(path: Lwm2mPath): void {
    const prefix = path.toString();
    for (const key of [...this.byPath.keys()]) if (key === prefix || key.startsWith(prefix + '/')) this.byPath.delete(key);
  }

  /**
   * The attributes in force for `path`: from the Server object defaults (`defaults`), then the
   * object, instance, resource and resource-instance levels down to `path`, lower levels winning.
   */
  effective(path: Lwm2mPath, defaults: Attributes = {}): Attributes {
    const out: Attributes = { ...defaults };
    for (let n = 1; n <= path.length; n++) Object.assign(out, this.byPath.get(new Lwm2mPath(path.ids.slice(0, n)).toString()));
    return out;
  }
}

/** `;pmin=10;pmax=60` for Discover. */
export function formatAttributes(attrs: Attributes): string {
  let s = '';
  for (const n of ATTRIBUTE_ORDER) if (attrs[n] !== undefined) s += `;${n}=${attrs[n]}`;
  return s;
}
