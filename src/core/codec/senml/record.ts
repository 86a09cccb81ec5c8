/**
 * SenML records (RFC 8428) as they appear on the wire, before base-name/base-time resolution.
 * The JSON and CBOR wire modules read and write these; `node.ts` maps them to LwM2M records.
 */

/** One SenML record. Absent labels are undefined. */
export interface SenmlRecord {
  /** Base name, prefixed to this and later names. */
  bn?: string;
  /** Base time, added to this and later times. */
  bt?: number;
  /** Base unit (not used by LwM2M). */
  bu?: string;
  /** Base value, added to this and later numeric values. */
  bv?: number;
  /** Base version; packs with a version above 10 are rejected. */
  bver?: number;
  /** Name, appended to the base name. */
  n?: string;
  /** Unit (not used by LwM2M). */
  u?: string;
  /** Numeric value; `bigint` for integers beyond 2^53; `null` only as an LwM2M 1.2 Write-Composite deletion. */
  v?: number | bigint | null;
  /** String value. */
  vs?: string;
  /** Boolean value. */
  vb?: boolean;
  /** Data value: bytes (base64url text in JSON, a byte string in CBOR). */
  vd?: Uint8Array;
  /** LwM2M object link value `"O:I"`. */
  vlo?: string;
  /** Sum (not used by LwM2M). */
  s?: number;
  /** Time, relative to the base time. */
  t?: number;
  /** Update time (not used by LwM2M). */
  ut?: number;
  /**
   * Not a label: `v` is a floating-point number even when integral. Set by the readers for a
   * CBOR float item or a JSON number with a fraction or exponent, and honoured by both writers
   * (a CBOR float item, JSON `22.0`); decoding without a model then guesses Float.
   */
  float?: boolean;
  /** Byte range [start, end) of the record in the payload, when known. */
  span?: [number, number];
}

/**
 * Receives the records of a pack from a reader, in order, as each is read. A reader reuses one
 * record object for the whole pack (fewer allocations on long packs): a sink that keeps records
 * must copy them. Each record's `span` and `vd` are fresh and may be kept.
 */
export interface SenmlSink {
  record(rec: SenmlRecord): void;
}

/** Collects (copies of) the records of a pack. */
export class SenmlCollector implements SenmlSink {
  readonly records: SenmlRecord[] = [];
  record(rec: SenmlRecord): void {
    this.records.push({ ...rec });
  }
}

/** SenML CBOR integer labels (RFC 8428 §6); `vlo` has no integer label and is the text key "vlo". */
export const CBOR_LABELS = {
  bver: -1,
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
} as const;

/**
 * A record with every field present (undefined). Both readers use records made here, so they
 * all share one hidden class and the mapping's property loads stay fast whichever format the
 * records came from.
 */
export function newSenmlRecord(): SenmlRecord {
  return {
    bn: undefined,
    bt: undefined,
    bu: undefined,
    bv: undefined,
    bver: undefined,
    n: undefined,
    u: undefined,
    v: undefined,
    vs: undefined,
    vb: undefined,
    vd: undefined,
    vlo: undefined,
    s: undefined,
    t: undefined,
    ut: undefined,
    float: undefined,
    span: undefined,
  };
}

/** Sets every field of `rec` back to undefined, for reading the next record into it. */
export function clearSenmlRecord(rec: SenmlRecord): void {
  rec.bn = undefined;
  rec.bt = undefined;
  rec.bu = undefined;
  rec.bv = undefined;
  rec.bver = undefined;
  rec.n = undefined;
  rec.u = undefined;
  rec.v = undefined;
  rec.vs = undefined;
  rec.vb = undefined;
  rec.vd = undefined;
  rec.vlo = undefined;
  rec.s = undefined;
  rec.t = undefined;
  rec.ut = undefined;
  rec.float = undefined;
  rec.span = undefined;
}
