/**
 * Interned LwM2M paths for decoders. `Lwm2mPath` is immutable, so decoders share one instance
 * per path instead of constructing (and validating) a new one per value; path construction
 * would otherwise dominate decoding a typical payload.
 * Paths are cached per object instance in arrays indexed by resource (instance) id. The cache
 * is bounded: it is dropped as a whole when it holds more than LIMIT paths.
 */
import { Lwm2mPath } from '../path';

const LIMIT = 100_000;

/** Ids below this index arrays; larger ones (5700 and such) maps, which stay small and fast. */
const DENSE = 256;

/** The cached paths below one object instance `/o/i`. */
export class InstancePaths {
  /** `/o/i/r` by r < DENSE. */
  private readonly resources: (Lwm2mPath | undefined)[] = [];
  /** `/o/i/r` by r ≥ DENSE (a sparse array of such ids would turn into a slow dictionary). */
  private wide: Map<number, Lwm2mPath> | undefined;
  /** `/o/i/r/ri` by r (< DENSE, else in `wideInstances`), then ri. */
  private readonly resourceInstances: ((Lwm2mPath | undefined)[] | undefined)[] = [];
  private wideInstances: Map<number, (Lwm2mPath | undefined)[]> | undefined;

  constructor(
    readonly objectId: number,
    readonly instanceId: number,
    readonly path: Lwm2mPath,
  ) {}

  /** `/o/i/r`; r must be 0..65534. */
  resource(r: number): Lwm2mPath {
    let p = r < DENSE ? this.resources[r] : this.wide?.get(r);
    if (p === undefined) {
      p = Lwm2mPath.checked([this.objectId, this.instanceId, r]);
      if (r < DENSE) this.resources[r] = p;
      else (this.wide ??= new Map()).set(r, p);
      count++;
    }
    return p;
  }

  /** `/o/i/r/ri`; ids must be 0..65534. */
  resourceInstance(r: number, ri: number): Lwm2mPath {
    let list = r < DENSE ? this.resourceInstances[r] : this.wideInstances?.get(r);
    if (list === undefined) {
      list = [];
      if (r < DENSE) this.resourceInstances[r] = list;
      else (this.wideInstances ??= new Map()).set(r, list);
    }
    let p = list[ri];
    if (p === undefined) {
      p = Lwm2mPath.checked([this.objectId, this.instanceId, r, ri]);
      list[ri] = p;
      count++;
    }
    return p;
  }
}

let cache = new Map<number, InstancePaths>();
let count = 0;

/** The path cache of object instance `/o/i` (ids 0..65534). */
export function instancePaths(o: number, i: number): InstancePaths {
  const key = o * 65536 + i;
  let e = cache.get(key);
  if (e === undefined) {
    if (count >= LIMIT) {
      cache = new Map();
      count = 0;
    }
    e = new InstancePaths(o, i, Lwm2mPath.checked([o, i]));
    cache.set(key, e);
    count++;
  }
  return e;
}
