/**
 * LwM2M CBOR (CF 11544, LwM2M 1.2; lwm2m-protocol.md §13): one CBOR map of nested maps keyed by
 * path ids, where a key may also be an array of ids covering several levels at once. Every
 * equivalent spelling (§13.2) decodes to the same records; the encoder writes plain nested maps.
 * It carries no timestamps.
 */

import { ContentFormat } from '../contentFormat';
import { DecodeError, EncodeError } from '../errors';
import type { Lwm2mRecord } from '../node';
import { readGuessedValue, readTypedValue, writeTypedValue } from './cbor';
import { CborReader, CborWriter } from './cbor/wire';
import { internPath } from './senml/paths';
import { GuessNotes, ResourceModels } from './senml/values';
import type { Codec, CodecContext, DecodeResult } from './types';

const FORMAT = ContentFormat.Lwm2mCbor;

class Lwm2mCborReader {
  readonly records: Lwm2mRecord[] = [];
  guesses: GuessNotes | undefined;
  private readonly models: ResourceModels;
  /** Path ids so far, one slot per level. */
  private readonly ids = [0, 0, 0, 0];
  /**
   * Resources seen (key o·2^32+i·2^16+r): `true` for a single value, else the set of instance
   * ids, to reject a path given twice or a resource given both ways.
   */
  private readonly seen = new Map<number, true | Set<number>>();

  constructor(
    private readonly r: CborReader,
    ctx: CodecContext,
  ) {
    this.models = new ResourceModels(ctx);
  }

  /** Reads the pairs of a map whose path so far has `depth` ids. */
  readMap(depth: number, pairs: number): void {
    const r = this.r;
    for (let i = 0; pairs < 0 ? !r.atBreak() : i < pairs; i++) {
      const keyAt = r.pos;
      const length = this.readKey(depth);
      if (r.peekMajor() === 5) {
        if (length === 4) r.fail('a value (paths end at /O/I/R/RI)', 'a nested map', r.pos);
        this.readMap(length, r.readMapStart());
      } else {
        if (length < 3) r.fail('a nested map (values belong to /O/I/R or /O/I/R/RI)', 'a value', r.pos);
        this.readLeaf(length, keyAt);
      }
    }
  }

  /** Reads a key (an id or a non-empty array of ids) into `ids` after `depth`; returns the new length. */
  private readKey(depth: number): number {
    const r = this.r;
    const at = r.pos;
    let length = depth;
    if (r.peekMajor() === 4) {
      const n = r.readArrayStart();
      let count = 0;
      for (; n < 0 ? !r.atBreak() : count < n; count++) {
        const id = this.readId();
        if (length === 4) r.fail('at most 4 path ids (/O/I/R/RI)', 'a longer path', at);
        this.ids[length++] = id;
      }
      if (count === 0) r.fail('a non-empty array of path ids', 'an empty array', at);
    } else {
      const id = this.readId('a path id or an array of path ids');
      if (length === 4) r.fail('at most 4 path ids (/O/I/R/RI)', 'a longer path', at);
      this.ids[length++] = id;
    }
    return length;
  }

  private readId(expected = 'a path id (unsigned integer)'): number {
    const r = this.r;
    if (r.readHead() !== 0) r.fail(expected, r.describe());
    return r.arg >= 0 && r.arg < 65535 ? r.arg : r.fail('a path id below 65535', String(r.argument()));
  }

  private readLeaf(length: number, keyAt: number): void {
    const r = this.r;
    const ids = this.ids;
    const key = ids[0]! * 4294967296 + ids[1]! * 65536 + ids[2]!;
    const known = this.seen.get(key);
    if (length === 3) {
      if (known !== undefined) r.fail('each path once', 'the same resource again', keyAt);
      this.seen.set(key, true);
    } else {
      if (known === true || known?.has(ids[3]!)) r.fail('each path once', 'the same resource instance again', keyAt);
      if (known instanceof Set) known.add(ids[3]!);
      else this.seen.set(key, new Set([ids[3]!]));
    }
    const path = internPath(ids, length);
    const model = this.models.get(path);
    if (model) {
      const value = readTypedValue(r, model.type);
      this.records.push({ path, type: model.type, value, span: [keyAt, r.pos] });
    } else {
      const { type, value } = readGuessedValue(r);
      this.records.push({ path, type, value, modelled: false, span: [keyAt, r.pos] });
      (this.guesses ??= new GuessNotes()).add(path, 'the CBOR item');
    }
  }
}

function decode(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
  const r = new CborReader(bytes, FORMAT);
  const reader = new Lwm2mCborReader(r, ctx);
  try {
    reader.readMap(0, r.readMapStart('a CBOR map (LwM2M CBOR)'));
    r.expectEnd();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new DecodeError({ format: FORMAT, offset: e.offset, expected: e.expected, found: e.found, partial: reader.records });
  }
  return { format: FORMAT, records: reader.records, notes: reader.guesses?.notes ?? [] };
}

/** A node of the path tree built for encoding; `record` is set on leaves. */
interface TreeNode {
  id: number;
  children: Map<number, TreeNode>;
  record?: Lwm2mRecord;
}

function buildTree(records: readonly Lwm2mRecord[]): TreeNode {
  const root: TreeNode = { id: -1, children: new Map() };
  for (const rec of records) {
    if (rec.path.length < 3) throw new EncodeError(FORMAT, `${rec.path}: LwM2M CBOR holds values of resources or resource instances only`);
    let node = root;
    for (const id of rec.path.ids) {
      if (node.record) throw new EncodeError(FORMAT, `${rec.path}: ${node.record.path} already has a single value`);
      let next = node.children.get(id);
      if (!next) node.children.set(id, (next = { id, children: new Map() }));
      node = next;
    }
    if (node.record || node.children.size > 0) {
      throw new EncodeError(FORMAT, `${rec.path} appears twice (LwM2M CBOR carries no time series)`);
    }
    node.record = rec;
  }
  return root;
}

/**
 * Writes a map in canonical form: integer keys by ascending id, one map level per path level,
 * definite lengths, shortest numbers. Array keys are read but never written: plain nested maps
 * are what every decoder understands (Anjay Lite emits them too), and folding a run of levels
 * into one key saves at most one byte per level.
 */
function writeMap(w: CborWriter, node: TreeNode): void {
  const children = [...node.children.values()].sort((a, b) => a.id - b.id);
  w.map(children.length);
  for (const child of children) {
    w.int(child.id);
    if (!child.record) writeMap(w, child);
    else if (child.record.value === null) w.null();
    else writeTypedValue(w, child.record.type, child.record.value, child.record.path, FORMAT);
  }
}

/** Encodes records; a null value is written as CBOR null (a Write-Composite deletion). Times are not carried. */
function encode(records: readonly Lwm2mRecord[]): Uint8Array {
  const w = new CborWriter();
  writeMap(w, buildTree(records));
  return w.finish();
}

/** LwM2M CBOR (CF 11544). Decoded records carry the byte span of their key and value. */
export const lwm2mCborCodec: Codec = {
  format: FORMAT,
  name: 'lwm2m-cbor',
  decode,
  encode,
};
