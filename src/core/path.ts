/**
 * LwM2M paths: `/`, `/O`, `/O/I`, `/O/I/R`, `/O/I/R/RI`.
 * Every id is 0..65534; 65535 (MAX_ID) is reserved and never a real id.
 */

export const MAX_ID = 65535;

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

const LEVELS: readonly PathLevel[] = ['root', 'object', 'instance', 'resource', 'resourceInstance'];

export class PathError extends Error {
  override readonly name = 'PathError';
}

/** Passed by `Lwm2mPath.checked` only: the ids need no checks and no copy. */
const CHECKED: unique symbol = Symbol('checked ids');

/** An immutable LwM2M path. */
export class Lwm2mPath {
  static readonly ROOT = new Lwm2mPath([]);

  readonly ids: readonly number[];

  constructor(ids: readonly number[], checked?: typeof CHECKED) {
    if (checked === CHECKED) {
      this.ids = Object.freeze(ids);
      return;
    }
    if (ids.length > 4) throw new PathError(`a path has at most 4 ids, got ${ids.length}`);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= MAX_ID) {
        throw new PathError(`id ${id} is out of range 0..65534`);
      }
    }
    this.ids = Object.freeze([...ids]);
  }

  /** Parses `/3/0/1`, `3/0/1`, `/`, `` (root). Throws PathError on anything else. */
  static parse(text: string): Lwm2mPath {
    const t = text.trim();
    if (t === '' || t === '/') return Lwm2mPath.ROOT;
    const body = t.startsWith('/') ? t.slice(1) : t;
    const parts = body.endsWith('/') ? body.slice(0, -1).split('/') : body.split('/');
    if (parts.length > 4) throw new PathError(`"${text}": a path has at most 4 ids`);
    const ids = parts.map((p) => {
      if (!/^\d{1,5}$/.test(p)) throw new PathError(`"${text}": "${p}" is not an id`);
      const n = Number(p);
      if (n >= MAX_ID) throw new PathError(`"${text}": id ${n} is out of range 0..65534`);
      return n;
    });
    return new Lwm2mPath(ids);
  }

  /**
   * For decoders on their hot path: a path of 0..4 ids that the caller has already checked
   * (integers 0..65534), in a fresh array that the path takes over (frozen, not copied).
   */
  static checked(ids: number[]): Lwm2mPath {
    return new Lwm2mPath(ids, CHECKED);
  }

  static of(...ids: number[]): Lwm2mPath {
    return new Lwm2mPath(ids);
  }

  get level(): PathLevel {
    return LEVELS[this.ids.length]!;
  }
  get length(): number {
    return this.ids.length;
  }
  get objectId(): number | undefined {
    return this.ids[0];
  }
  get instanceId(): number | undefined {
    return this.ids[1];
  }
  get resourceId(): number | undefined {
    return this.ids[2];
  }
  get resourceInstanceId(): number | undefined {
    return this.ids[3];
  }
  isRoot(): boolean {
    return this.ids.length === 0;
  }

  child(id: number): Lwm2mPath {
    return new Lwm2mPath([...this.ids, id]);
  }
  parent(): Lwm2mPath {
    if (this.ids.length === 0) throw new PathError('the root has no parent');
    return new Lwm2mPath(this.ids.slice(0, -1));
  }
  /** True when `other` equals this path or lies below it. */
  contains(other: Lwm2mPath): boolean {
    if (other.ids.length < this.ids.length) return false;
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== other.ids[i]) return false;
    return true;
  }
  equals(other: Lwm2mPath): boolean {
    return this.ids.length === other.ids.length && this.contains(other);
  }
  compare(other: Lwm2mPath): number {
    const n = Math.min(this.ids.length, other.ids.length);
    for (let i = 0; i < n; i++) {
      const d = this.ids[i]! - other.ids[i]!;
      if (d !== 0) return d;
    }
    return this.ids.length - other.ids.length;
  }
  toString(): string {
    return '/' + this.ids.join('/');
  }
  toJSON(): string {
    return this.toString();
  }
}
