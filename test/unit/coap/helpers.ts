/** Test helpers: a hand-driven clock, a raw UDP peer speaking CoAP through `coap-packet`, libcoap's client. */

import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as coapPacket from 'coap-packet';
import type { Clock } from '../../../src/core/coap/clock';

/** A clock that moves only when told to; timers fire in time order during `advance`. */
export class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(public time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Pending timers. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = target;
  }
}

export interface Received {
  packet: coapPacket.ParsedPacket;
  raw: Buffer;
  rinfo: dgram.RemoteInfo;
}

/** A UDP socket on 127.0.0.1 (ephemeral port) that sends and receives raw datagrams. */
export class RawPeer {
  private readonly queue: Received[] = [];
  private readonly waiters: ((r: Received) => void)[] = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (raw, rinfo) => {
      let packet: coapPacket.ParsedPacket;
      try {
        packet = coapPacket.parse(raw);
      } catch {
        return;
      }
      const r = { packet, raw, rinfo };
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
  }

  static async open(): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends a coap-packet packet (or raw bytes) to 127.0.0.1:port. */
  send(port: number, packet: coapPacket.Packet | Buffer): Buffer {
    const raw = Buffer.isBuffer(packet) ? packet : coapPacket.generate(packet);
    this.socket.send(raw, port, '127.0.0.1');
    return raw;
  }

  /** The next datagram received, within `timeoutMs`. */
  next(timeoutMs = 2000): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`nothing received within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: Received) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves true when nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Values of a named (or numbered) option in a coap-packet parsed packet. */
export function optionValues(packet: coapPacket.ParsedPacket, name: string | number): Buffer[] {
  return packet.options.filter((o) => o.name === name || o.name === String(name)).map((o) => o.value);
}

/** Lets pending I/O callbacks and promise continuations run. */
export function tick(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await tick(2);
  }
}

/** Runs libcoap's coap-client-notls (5 s cap); it exits 0 even for 4.xx, printing the code on stderr. */
export function coapClient(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('coap-client-notls', ['-B', '5', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err?.killed) reject(err);
      else resolve({ stdout, stderr });
    });
  });
}
