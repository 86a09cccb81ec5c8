/**
 * Shared, immutable Lwm2mPath instances for decoders, interned by their ids (numeric keys, so
 * a lookup hashes no string). Decoders see the same few paths over and over.
 */

import { Lwm2mPath } from '../../path';

const LIMIT = 16384;
/** Paths of 1..3 ids keyed by o, o·2^16+i, o·2^32+i·2^16+r; 4 ids by that resource key, then ri. */
const short = [new Map<number, Lwm2mPath>(), new Map<number, Lwm2mPath>(), new Map<number, Lwm2mPath>()];
const long = new Map<number, Map<number, Lwm2mPath>>();
let size = 0;

function remember(): void {
  if (++size < LIMIT) return;
  for (const m of short) m.clear();
  long.clear();
  size = 0;
}

/** The path of `ids[0..count)` (each id 0..65534), shared across decodes. */
export function internPath(ids: readonly number[], count: number): Lwm2mPath {
  if (count === 0) return Lwm2mPath.ROOT;
  const key = count === 1 ? ids[0]! : count === 2 ? ids[0]! * 65536 + ids[1]! : ids[0]! * 4294967296 + ids[1]! * 65536 + ids[2]!;
  if (count < 4) {
    const map = short[count - 1]!;
    let path = map.get(key);
    if (!path) {
      map.set(key, (path = new Lwm2mPath(ids.slice(0, count))));
      remember();
    }
    return path;
  }
  let instances = long.get(key);
  if (!instances) long.set(key, (instances = new Map()));
  let path = instances.get(ids[3]!);
  if (!path) {
    instances.set(ids[3]!, (path = new Lwm2mPath(ids.slice(0, 4))));
    remember();
  }
  return path;
}
