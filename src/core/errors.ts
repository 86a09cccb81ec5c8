import type { Lwm2mRecord } from './node';

/**
 * The one error every decoder throws. It names the content format, where it failed
 * (a byte offset, or a JSON pointer for JSON formats), what was expected and what was found,
 * and keeps the records decoded before the failure.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly format: number;
  /** Byte offset into the payload where decoding failed. */
  readonly offset: number;
  /** JSON pointer (RFC 6901) for JSON formats, when known. */
  readonly pointer: string | undefined;
  readonly expected: string;
  readonly found: string;
  /** Records decoded before the failure, in payload order. */
  readonly partial: Lwm2mRecord[];

  constructor(init: {
    format: number;
    offset: number;
    pointer?: string;
    expected: string;
    found: string;
    partial?: Lwm2mRecord[];
  }) {
    const where = init.pointer !== undefined ? `at ${init.pointer} (byte ${init.offset})` : `at byte ${init.offset}`;
    super(`cannot decode content format ${init.format} ${where}: expected ${init.expected}, found ${init.found}`);
    this.format = init.format;
    this.offset = init.offset;
    this.pointer = init.pointer;
    this.expected = init.expected;
    this.found = init.found;
    this.partial = init.partial ?? [];
  }
}

/** Thrown by encoders when the records cannot be expressed in the requested format. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly format: number,
    message: string,
  ) {
    super(`cannot encode content format ${format}: ${message}`);
  }
}
