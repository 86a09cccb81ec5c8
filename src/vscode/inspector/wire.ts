/**
 * Tolerant structure walkers for annotating payload bytes: TLV records, CBOR items and JSON
 * values with their byte ranges. Unlike the codecs they never throw: they return what is
 * well-formed up to the first problem, so a payload that fails to decode is still annotated up
 * to the failure. Pure (no `vscode`), unit-tested in test/unit/inspector.
 */

// ----- TLV -----------------------------------------------------------------------------------

export type TlvKindCode = 0 | 1 | 2 | 3; // objectInstance, resourceInstance, multipleResource, resource

export interface TlvItem {
  kind: TlvKindCode;
  id: number;
  start: number;
  valueStart: number;
  /** Declared end (may lie beyond the payload when `truncated`). */
  end: number;
  truncated?: boolean;
  children?: TlvItem[];
}

export interface TlvWalk {
  items: TlvItem[];
  /** Offset of the first byte that is not a well-formed record, or -1. */
  stop: number;
}

/** Walks TLV records in [from, to); containers are walked inside. */
export function walkTlv(b: Uint8Array, from = 0, to = b.length): TlvWalk {
  const items: TlvItem[] = [];
  let p = from;
  while (p < to) {
    const start = p;
    const type = b[p++]!;
    const kind = (type >> 6) as TlvKindCode;
    const idLen = type & 0x20 ? 2 : 1;
    const lenType = (type >> 3) & 3;
    if (p + idLen + lenType > to) return { items, stop: start };
    const id = idLen === 1 ? b[p]! : (b[p]! << 8) | b[p + 1]!;
    p += idLen;
    let length = type & 7;
    if (lenType > 0) {
      length = 0;
      for (let k = 0; k < lenType; k++) length = (length << 8) | b[p++]!;
    }
    const item: TlvItem = { kind, id, start, valueStart: p, end: p + length };
    const leaf = kind === 1 || kind === 3;
    if (item.end > to) {
      item.truncated = true;
      if (!leaf) item.children = walkTlv(b, p, to).items;
      items.push(item);
      return { items, stop: start };
    }
    if (!leaf) {
      const inner = walkTlv(b, p, item.end);
      item.children = inner.items;
      items.push(item);
      if (inner.stop >= 0) return { items, stop: inner.stop };
    } else items.push(item);
    p = item.end;
  }
  return { items, stop: -1 };
}

// ----- CBOR ----------------------------------------------------------------------------------

export interface CborNode {
  major: number;
  /** Additional information (low 5 bits of the initial byte). */
  info: number;
  start: number;
  /** End of the head (initial byte + argument). */
  headEnd: number;
  /** End of the whole item; -1 when the payload ends (or breaks) inside it. */
  end: number;
  /** Argument: integer value, length, count or tag (Number; big values are approximate). */
  arg: number;
  /** Array elements, map keys and values alternating, the tagged item, string chunks. */
  children?: CborNode[];
}

/** Reads one CBOR item at `p` tolerantly (`end` -1 when incomplete); undefined at the end of input. */
export function walkCbor(b: Uint8Array, p = 0, depth = 0): CborNode | undefined {
  if (p >= b.length) return undefined;
  const start = p;
  const ib = b[p++]!;
  const major = ib >> 5;
  const info = ib & 31;
  let arg = info;
  if (info >= 24 && info <= 27) {
    const n = 1 << (info - 24);
    if (p + n > b.length) return { major, info, start, headEnd: b.length, end: -1, arg: 0 };
    arg = 0;
    for (let k = 0; k < n; k++) arg = arg * 256 + b[p++]!;
  } else if (info >= 28 && info <= 30) return { major, info, start, headEnd: p, end: -1, arg: 0 };
  const node: CborNode = { major, info, start, headEnd: p, end: -1, arg };
  if (depth > 64) return node;
  const indefinite = info === 31;
  switch (major) {
    case 0:
    case 1:
      node.end = indefinite ? -1 : p;
      return node;
    case 7:
      node.end = p;
      if (info === 25 || info === 26 || info === 27) node.end = p; // float bytes are the argument
      return node;
    case 2:
    case 3:
      if (indefinite) {
        node.children = [];
        for (;;) {
          if (p >= b.length) return node;
          if (b[p] === 0xff) {
            node.end = p + 1;
            return node;
          }
          const chunk = walkCbor(b, p, depth + 1);
          if (!chunk) return node;
          node.children.push(chunk);
          if (chunk.end < 0) return node;
          p = chunk.end;
        }
      }
      node.end = p + arg <= b.length ? p + arg : -1;
      return node;
    case 4:
    case 5: {
      node.children = [];
      const count = indefinite ? Infinity : major === 5 ? arg * 2 : arg;
      for (let i = 0; i < count; i++) {
        if (indefinite && b[p] === 0xff) {
          node.end = p + 1;
          return node;
        }
        const child = walkCbor(b, p, depth + 1);
        if (!child) return node;
        node.children.push(child);
        if (child.end < 0) return node;
        p = child.end;
      }
      node.end = p;
      return node;
    }
    case 6: {
      const inner = walkCbor(b, p, depth + 1);
      node.children = inner ? [inner] : [];
      node.end = inner ? inner.end : -1;
      return node;
    }
  }
  return node;
}

// ----- JSON ----------------------------------------------------------------------------------

export interface JsonMember {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: JsonNode;
}

export interface JsonNode {
  kind: 'object' | 'array' | 'string' | 'number' | 'literal';
  start: number;
  /** -1 when the text ends or breaks inside the value. */
  end: number;
  members?: JsonMember[];
  items?: JsonNode[];
  /** Offsets of `,` and `:` inside an object or array. */
  punctuation?: number[];
}

const decoder = new TextDecoder();

/**
 * Scans JSON bytes (UTF-8) into a tree of values with byte ranges, stopping at the first
 * syntax problem (the unfinished values get `end` -1). Iterative over nesting levels
 * only through recursion depth ≤ 256.
 */
export function scanJson(b: Uint8Array): JsonNode | undefined {
  let p = 0;
  const ws = () => {
    while (p < b.length && (b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09)) p++;
  };
  const str = (): number => {
    // at '"'; returns end offset or -1
    let q = p + 1;
    while (q < b.length) {
      const c = b[q]!;
      if (c === 0x5c) q += 2;
      else if (c === 0x22) return q + 1;
      else if (c < 0x20) return -1;
      else q++;
    }
    return -1;
  };
  const value = (depth: number): JsonNode | undefined => {
    ws();
    if (p >= b.length || depth > 256) return undefined;
    const c = b[p]!;
    const start = p;
    if (c === 0x7b || c === 0x5b) {
      const isObj = c === 0x7b;
      const node: JsonNode = isObj ? { kind: 'object', start, end: -1, members: [], punctuation: [] } : { kind: 'array', start, end: -1, items: [], punctuation: [] };
      p++;
      ws();
      if (b[p] === (isObj ? 0x7d : 0x5d)) {
        node.end = ++p;
        return node;
      }
      for (;;) {
        ws();
        if (isObj) {
          if (b[p] !== 0x22) return node;
          const keyEnd = str();
          if (keyEnd < 0) return node;
          const keyStart = p;
          const key = decoder.decode(b.subarray(keyStart + 1, keyEnd - 1));
          p = keyEnd;
          ws();
          if (b[p] !== 0x3a) return node;
          node.punctuation!.push(p++);
          const v = value(depth + 1);
          if (!v) return node;
          node.members!.push({ key, keyStart, keyEnd, value: v });
          if (v.end < 0) return node;
        } else {
          const v = value(depth + 1);
          if (!v) return node;
          node.items!.push(v);
          if (v.end < 0) return node;
        }
        ws();
        if (b[p] === 0x2c) {
          node.punctuation!.push(p++);
          continue;
        }
        if (b[p] === (isObj ? 0x7d : 0x5d)) {
          node.end = ++p;
          return node;
        }
        return node;
      }
    }
    if (c === 0x22) {
      const end = str();
      p = end < 0 ? b.length : end;
      return { kind: 'string', start, end };
    }
    let q = p;
    while (q < b.length && /[-+.eE0-9a-z]/.test(String.fromCharCode(b[q]!))) q++;
    if (q === p) return undefined;
    p = q;
    return { kind: c === 0x2d || (c >= 0x30 && c <= 0x39) ? 'number' : 'literal', start, end: q };
  };
  return value(0);
}
