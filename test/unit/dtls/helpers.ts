/** Shared pieces of the DTLS tests: servers on ephemeral ports, a lossy UDP proxy, raw records. */

import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { DtlsClient, DtlsServer, type DtlsClientOptions, type DtlsServerOptions } from '../../../src/core/dtls';
import { ContentType, DTLS_1_2, HandshakeType } from '../../../src/core/dtls/constants';
import { encodeClientHello, wholeMessage } from '../../../src/core/dtls/handshake';
import { parseRecords, serializeRecord } from '../../../src/core/dtls/record';

export const IDENTITY = 'urn:imei:490154203237518';
export const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

/** A server on 127.0.0.1 (ephemeral port) knowing IDENTITY → KEY, echoing "echo:" + data. */
export async function echoServer(options: Partial<DtlsServerOptions> = {}): Promise<{ server: DtlsServer; port: number }> {
  const server = new DtlsServer({ psk: (id) => (id === IDENTITY ? KEY : undefined), ...options });
  server.on('message', (data, peer) => server.send(peer, Buffer.concat([Buffer.from('echo:'), data])));
  const { port } = await server.bind(0, '127.0.0.1');
  return { server, port };
}

export async function connect(port: number, options: DtlsClientOptions = {}, identity: string = IDENTITY, key: Buffer = KEY): Promise<DtlsClient> {
  const client = new DtlsClient(options);
  await client.connect('127.0.0.1', port, identity, key);
  return client;
}

/** Sends data and waits for the next message. */
export async function roundTrip(client: DtlsClient, data: Buffer | string, timeoutMs = 2000): Promise<Buffer> {
  const got = once(client, 'message', { signal: AbortSignal.timeout(timeoutMs) });
  client.send(Buffer.from(data));
  return (await got)[0] as Buffer;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export type Direction = 'toServer' | 'toClient';

/**
 * A UDP relay between one client and a server: the client talks to `port`, the server sees the
 * relay's upstream socket as the peer. `drop` decides per datagram; `toServer()` injects
 * datagrams as if they came from the client; every forwarded datagram is kept in `seen`.
 */
export class Relay {
  readonly seen: { direction: Direction; datagram: Buffer }[] = [];
  private readonly front = dgram.createSocket('udp4');
  private readonly back = dgram.createSocket('udp4');
  private client: dgram.RemoteInfo | undefined;
  port = 0;

  constructor(
    private readonly serverPort: number,
    public drop: (direction: Direction, datagram: Buffer) => boolean = () => false,
  ) {}

  async start(): Promise<this> {
    this.front.bind(0, '127.0.0.1');
    this.back.bind(0, '127.0.0.1');
    await Promise.all([once(this.front, 'listening'), once(this.back, 'listening')]);
    this.port = this.front.address().port;
    this.front.on('message', (msg, rinfo) => {
      this.client = rinfo;
      this.seen.push({ direction: 'toServer', datagram: msg });
      if (!this.drop('toServer', msg)) this.back.send(msg, this.serverPort, '127.0.0.1');
    });
    this.back.on('message', (msg) => {
      this.seen.push({ direction: 'toClient', datagram: msg });
      if (this.client && !this.drop('toClient', msg)) this.front.send(msg, this.client.port, this.client.address);
    });
    return this;
  }

  /** Sends a datagram to the server from the relay's upstream address (the client's identity there). */
  toServer(datagram: Buffer): void {
    this.back.send(datagram, this.serverPort, '127.0.0.1');
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}

/** What a datagram holds, e.g. ['hs:ServerHello', 'hs:ServerHelloDone'] or ['ccs', 'e1:Handshake']. */
export function describe(datagram: Buffer): string[] {
  return parseRecords(datagram).records.map((r) => {
    if (r.epoch > 0) return `e${r.epoch}:${ContentType[r.type]}`;
    if (r.type === ContentType.ChangeCipherSpec) return 'ccs';
    if (r.type === ContentType.Handshake) return `hs:${HandshakeType[r.fragment[0]!]}`;
    return ContentType[r.type]!;
  });
}

/** A ClientHello record as a client would send it (epoch 0). */
export function clientHelloRecord(options: { cookie?: Buffer; random?: Buffer; recordSeq?: number; messageSeq?: number } = {}): Buffer {
  const body = encodeClientHello({
    version: DTLS_1_2,
    random: options.random ?? Buffer.alloc(32, 7),
    sessionId: Buffer.alloc(0),
    cookie: options.cookie ?? Buffer.alloc(0),
    cipherSuites: [0xc0a8],
    compressionMethods: Buffer.from([0]),
    extensions: [],
  });
  return serializeRecord(ContentType.Handshake, DTLS_1_2, 0, options.recordSeq ?? 0, wholeMessage(HandshakeType.ClientHello, options.messageSeq ?? 0, body));
}
