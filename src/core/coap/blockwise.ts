/**
 * Block-wise transfers on the responder side (RFC 7959; lwm2m-protocol.md §3): Block1 request
 * bodies reassembled piece by piece, and large response bodies served block by block.
 */

import { ExpiringLru } from './lru';
import { Code, EMPTY, type CoapMessage, type CoapOption } from './message';
import { MAX_SZX, OptionNumber as Opt, blockSize, encodeBlock, getBlock, getOption, uintOption, type BlockOption } from './options';
import { formatPeer, type Peer } from './peer';
import type { OutgoingResponse } from './transport';

/** A response as the transport sends it (block-wise shaping applied). */
export interface ShapedResponse {
  code: number;
  options: CoapOption[];
  payload: Buffer;
}

interface Upload {
  chunks: Buffer[];
  length: number;
}

/** Transfers remembered at once (partial uploads, bodies being served). */
const CAPACITY = 1000;

export class BlockwiseResponder {
  private readonly uploads: ExpiringLru<string, Upload>;
  private readonly served: ExpiringLru<string, ShapedResponse>;
  private nextEtag = Math.floor(Math.random() * 0x100000000);

  constructor(
    private readonly cfg: { preferredSzx: number; maxBodyBytes: number; lifetimeMs: number },
    now: () => number,
  ) {
    this.uploads = new ExpiringLru(CAPACITY, now);
    this.served = new ExpiringLru(CAPACITY, now);
  }

  /**
   * One Block1 piece of a request body: the whole body once the last piece arrived, otherwise
   * the answer to send (2.31 Continue with our preferred size, 4.08, 4.13 or 4.00).
   */
  receive(peer: Peer, msg: CoapMessage, block: BlockOption): Buffer | OutgoingResponse {
    if (block.szx > MAX_SZX) return { code: Code.BadRequest, payload: Buffer.from('reserved block size') };
    const key = requestKey(peer, msg);
    const size = blockSize(block.szx);
    const upload = block.num === 0 ? { chunks: [], length: 0 } : this.uploads.get(key);
    if (!upload || upload.length !== block.num * size) {
      this.uploads.delete(key);
      return { code: Code.RequestEntityIncomplete };
    }
    if (block.more && msg.payload.length !== size) {
      this.uploads.delete(key);
      return { code: Code.BadRequest, payload: Buffer.from('a non-final block must be a whole block') };
    }
    upload.chunks.push(msg.payload);
    upload.length += msg.payload.length;
    if (upload.length > this.cfg.maxBodyBytes) {
      this.uploads.delete(key);
      return { code: Code.RequestEntityTooLarge, options: [uintOption(Opt.Size1, this.cfg.maxBodyBytes)] };
    }
    if (block.more) {
      this.uploads.set(key, upload, this.cfg.lifetimeMs);
      const szx = Math.min(block.szx, this.cfg.preferredSzx);
      return { code: Code.Continue, options: [{ number: Opt.Block1, value: encodeBlock({ num: block.num, more: true, szx }) }] };
    }
    this.uploads.delete(key);
    return Buffer.concat(upload.chunks, upload.length);
  }

  /** The body being served to a request for a later Block2 block (NUM > 0), if still remembered. */
  servedBody(peer: Peer, msg: CoapMessage): ShapedResponse | undefined {
    const block = getBlock(msg.options, Opt.Block2);
    return block && block.num > 0 ? this.served.get(requestKey(peer, msg)) : undefined;
  }

  /**
   * Normalises a response to `req` and applies Block2: a body larger than the block size (ours,
   * or smaller if the request asked) gets an ETag, is remembered, and is served block by block;
   * the block past the end is 4.02. A Block1 request's final response echoes its Block1.
   */
  shape(peer: Peer, req: CoapMessage, res: OutgoingResponse): ShapedResponse {
    const options = [...(res.options ?? [])];
    if (res.contentFormat !== undefined) options.push(uintOption(Opt.ContentFormat, res.contentFormat));
    const block1 = getBlock(req.options, Opt.Block1);
    const echo: CoapOption[] =
      block1 && res.code !== Code.Continue ? [{ number: Opt.Block1, value: encodeBlock({ num: block1.num, more: false, szx: block1.szx }) }] : [];
    const payload = res.payload ? Buffer.from(res.payload.buffer, res.payload.byteOffset, res.payload.byteLength) : EMPTY;
    const asked = getBlock(req.options, Opt.Block2);
    const num = asked?.num ?? 0;
    const szx = Math.min(asked?.szx ?? MAX_SZX, this.cfg.preferredSzx);
    const size = blockSize(szx);
    if (payload.length <= size && num === 0) return { code: res.code, options: [...options, ...echo], payload };

    const key = requestKey(peer, req);
    if (num === 0 || !this.served.get(key)) {
      if (!getOption(options, Opt.ETag)) options.push(uintOption(Opt.ETag, (this.nextEtag = (this.nextEtag + 1) >>> 0)));
      this.served.set(key, { code: res.code, options, payload }, this.cfg.lifetimeMs);
    }
    const offset = num * size;
    if (offset > 0 && offset >= payload.length) return { code: Code.BadOption, options: [], payload: Buffer.from('no such block') };
    return {
      code: res.code,
      options: [
        ...options,
        ...echo,
        { number: Opt.Block2, value: encodeBlock({ num, more: offset + size < payload.length, szx }) },
        uintOption(Opt.Size2, payload.length),
      ],
      payload: payload.subarray(offset, offset + size),
    };
  }

  clear(): void {
    this.uploads.clear();
    this.served.clear();
  }
}

/** Identifies a resource request across the blocks of a transfer (peer, method, Uri-Path, Uri-Query, Accept). */
function requestKey(peer: Peer, msg: CoapMessage): string {
  let key = `${formatPeer(peer)} ${msg.code}`;
  for (const o of msg.options) {
    if (o.number === Opt.UriPath || o.number === Opt.UriQuery || o.number === Opt.Accept) key += ` ${o.number}:${o.value.toString('hex')}`;
  }
  return key;
}
