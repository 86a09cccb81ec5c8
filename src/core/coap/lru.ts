interface Node<K, V> {
  key: K;
  value: V;
  expiresAt: number;
  newer: Node<K, V> | undefined;
  older: Node<K, V> | undefined;
}

/**
 * A cache bounded by entry count (least recently used entries go first) whose entries also
 * expire after their own lifetime. O(1) per operation: a Map for lookup plus a doubly linked
 * recency list. (Evicting by iterating a Map from its start is not O(1): V8 leaves deleted
 * entries in place until a rehash, and the walk over them made dedup 6× slower.)
 */
export class ExpiringLru<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private newest: Node<K, V> | undefined;
  private oldest: Node<K, V> | undefined;

  constructor(
    readonly capacity: number,
    private readonly now: () => number,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The live value for `key`, which becomes the most recently used; undefined when absent or expired. */
  get(key: K): V | undefined {
    const node = this.map.get(key);
    if (!node) return undefined;
    if (node.expiresAt <= this.now()) {
      this.remove(node);
      return undefined;
    }
    this.unlink(node);
    this.pushNewest(node);
    return node.value;
  }

  /** Stores `value` for `ttlMs`, evicting expired entries and then the least recently used ones. */
  set(key: K, value: V, ttlMs: number): void {
    const now = this.now();
    const existing = this.map.get(key);
    if (existing) this.remove(existing);
    const node: Node<K, V> = { key, value, expiresAt: now + ttlMs, newer: undefined, older: undefined };
    this.map.set(key, node);
    this.pushNewest(node);
    while (this.oldest && (this.map.size > this.capacity || this.oldest.expiresAt <= now)) this.remove(this.oldest);
  }

  delete(key: K): void {
    const node = this.map.get(key);
    if (node) this.remove(node);
  }

  clear(): void {
    this.map.clear();
    this.newest = this.oldest = undefined;
  }

  private remove(node: Node<K, V>): void {
    this.map.delete(node.key);
    this.unlink(node);
  }

  private pushNewest(node: Node<K, V>): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest) this.newest.newer = node;
    this.newest = node;
    this.oldest ??= node;
  }

  private unlink(node: Node<K, V>): void {
    if (node.newer) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = node.older = undefined;
  }
}
