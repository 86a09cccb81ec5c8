/** Bounds-checked reading and simple writing of the TLS presentation language (RFC 5246 §4). */

/** Input that does not parse: a truncated or inconsistent structure. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Reads big-endian integers and length-prefixed vectors; every read past the end throws DecodeError. */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) throw new DecodeError(`truncated: needed ${n} more bytes, ${this.remaining} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)]!;
  }

  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  u24(): number {
    return this.buf.readUIntBE(this.need(3), 3);
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** A vector with a 1-, 2- or 3-byte length prefix. */
  vector(prefix: 1 | 2 | 3, max = Infinity): Buffer {
    const n = prefix === 1 ? this.u8() : prefix === 2 ? this.u16() : this.u24();
    if (n > max) throw new DecodeError(`vector of ${n} bytes exceeds ${max}`);
    return this.bytes(n);
  }

  /** Throws unless everything was read. */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.remaining} unexpected trailing bytes`);
  }
}

export function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}

export function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b.writeUIntBE(n, 0, 3);
  return b;
}

/** `data` preceded by its length in `prefix` bytes. */
export function vector(prefix: 1 | 2 | 3, data: Buffer): Buffer {
  const max = prefix === 1 ? 0xff : prefix === 2 ? 0xffff : 0xffffff;
  if (data.length > max) throw new RangeError(`vector of ${data.length} bytes does not fit a ${prefix}-byte length`);
  return Buffer.concat([prefix === 1 ? u8(data.length) : prefix === 2 ? u16(data.length) : u24(data.length), data]);
}
