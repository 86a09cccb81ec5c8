/** A fake LwM2M client on a raw UDP socket (through coap-packet), for server tests. */

import assert from 'node:assert/strict';
import type * as coapPacket from 'coap-packet';
import { encodeUint } from '../../../src/core/coap/options';
import { RawPeer, optionValues, type Received } from '../coap/helpers';

let nextMid = 1000;

export interface ReplyOptions {
  format?: number;
  options?: { name: string; value: Buffer }[];
  /** Separate response (empty ACK, then CON) instead of piggybacked. */
  separate?: boolean;
}

export class FakeDevice {
  location: string[] = [];

  private constructor(
    readonly peer: RawPeer,
    readonly serverPort: number,
  ) {}

  static async open(serverPort: number): Promise<FakeDevice> {
    return new FakeDevice(await RawPeer.open(), serverPort);
  }

  get port(): number {
    return this.peer.port;
  }

  /** Sends a CON request to the server and returns its reply. */
  async call(code: string, path: string[], query: string[] = [], payload: string | Buffer = '', format?: number): Promise<Received> {
    const mid = nextMid++ & 0xffff;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const cf = format ?? (body.length > 0 ? 40 : undefined);
    this.peer.send(this.serverPort, {
      confirmable: true,
      code,
      messageId: mid,
      token: Buffer.from([mid & 0xff, mid >> 8]),
      options: [
        ...path.map((p) => ({ name: 'Uri-Path' as const, value: Buffer.from(p) })),
        ...(cf !== undefined ? [{ name: 'Content-Format' as const, value: encodeUint(cf) }] : []),
        ...query.map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) })),
      ],
      payload: body,
    });
    for (;;) {
      const r = await this.peer.next();
      if (r.packet.messageId === mid && r.packet.ack) return r;
      throw new Error(`expected the answer to mid ${mid}, got ${r.packet.code} mid ${r.packet.messageId}`);
    }
  }

  /** Registers; asserts 2.01 and remembers the location. */
  async register(query: string[], links = '</1/0>,</3/0>'): Promise<string[]> {
    const r = await this.call('POST', ['rd'], query, links);
    assert.equal(r.packet.code, '2.01', `Register answered ${r.packet.code}: ${r.packet.payload.toString()}`);
    this.location = optionValues(r.packet, 'Location-Path').map(String);
    return this.location;
  }

  /** Sends an Update; returns the code. */
  async update(query: string[] = [], links = ''): Promise<string> {
    return (await this.call('POST', this.location, query, links)).packet.code;
  }

  /** The next request from the server. */
  async request(timeoutMs = 2000): Promise<Received> {
    const r = await this.peer.next(timeoutMs);
    assert.equal(r.packet.confirmable, true, `expected a CON request, got ${r.packet.code}`);
    return r;
  }

  /** Answers a request. */
  reply(req: Received, code: string, payload: string | Buffer = '', opts: ReplyOptions = {}): void {
    const options = [...(opts.options ?? [])];
    if (opts.format !== undefined) options.push({ name: 'Content-Format', value: encodeUint(opts.format) });
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (opts.separate) {
      this.peer.send(req.rinfo.port, { ack: true, code: '0.00', messageId: req.packet.messageId });
      this.peer.send(req.rinfo.port, { confirmable: true, code, messageId: nextMid++ & 0xffff, token: req.packet.token, options: options as coapPacket.Option[], payload: body });
      return;
    }
    this.peer.send(req.rinfo.port, { ack: true, code, messageId: req.packet.messageId, token: req.packet.token, options: options as coapPacket.Option[], payload: body });
  }

  /** Sends a notification for an observation request. */
  notify(req: Received, seq: number, payload: string | Buffer, format?: number, confirmable = true): number {
    const mid = nextMid++ & 0xffff;
    const options: { name: string; value: Buffer }[] = [{ name: 'Observe', value: encodeUint(seq) }];
    if (format !== undefined) options.push({ name: 'Content-Format', value: encodeUint(format) });
    this.peer.send(req.rinfo.port, {
      confirmable,
      code: '2.05',
      messageId: mid,
      token: req.packet.token,
      options: options as coapPacket.Option[],
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    });
    return mid;
  }

  close(): Promise<void> {
    return this.peer.close();
  }
}

/** Uri-Path of a received request as one string (`/3/0/1`). */
export function pathOf(r: Received): string {
  return '/' + optionValues(r.packet, 'Uri-Path').map(String).join('/');
}

export function queryOf(r: Received): string[] {
  return optionValues(r.packet, 'Uri-Query').map(String);
}

/** A uint option's value, or undefined when absent. */
export function uintOf(r: Received, name: string): number | undefined {
  const v = optionValues(r.packet, name)[0];
  if (v === undefined) return undefined;
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}
