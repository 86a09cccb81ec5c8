/**
 * PSK credentials of the CoAPS ports (issue 7), shared by the LwM2M server and the bootstrap
 * server: static credentials and a lookup callback, and the identity → endpoint binding learnt
 * when a key is looked up (a client may only act as the endpoint its identity is bound to;
 * without an explicit endpoint, the endpoint named like the identity).
 */

import type { Clock } from '../coap/clock';
import type { CoapTransport } from '../coap/transport';
import type { SocketFactory } from '../coap/udp';
import { DtlsServer, datagramSocket, type CipherSuiteName, type DtlsServerOptions } from '../dtls';

/** A pre-shared key and the endpoint name it may register (default: the identity). */
export interface PskCredential {
  identity: string;
  key: Uint8Array;
  endpoint?: string;
}

/** What a PSK lookup returns: a key (bound to the endpoint named like the identity), or a key with its endpoint. */
export type PskLookupResult = Uint8Array | { key: Uint8Array; endpoint?: string } | undefined;

/** CoAPS beside CoAP (see the LwM2M server's and the bootstrap server's module comments). */
export interface Lwm2mDtlsOptions {
  /** UDP port of CoAPS, default 5684 for the LwM2M server, 5686 for the bootstrap server (0: any free port). */
  port?: number;
  /** Address to bind, default the address of the plain CoAP socket. */
  address?: string;
  /** Static credentials: identity → key and endpoint. */
  credentials?: readonly PskCredential[];
  /** Key lookup by identity (asked when `credentials` has no entry for it); undefined refuses the identity. */
  psk?: (identity: string) => PskLookupResult | Promise<PskLookupResult>;
  /** Accepted cipher suites, default all (CCM_8 first). */
  cipherSuites?: readonly (CipherSuiteName | number)[];
  /** Further DtlsServer tunables (timeouts, limits, socket factory for tests). */
  server?: Omit<DtlsServerOptions, 'psk' | 'cipherSuites'>;
}

/** Keys by identity, and the endpoint each identity looked up so far is bound to. */
export class PskBindings {
  /** PSK identity → the endpoint it may act as, learnt when its key was looked up. */
  private readonly bound = new Map<string, string>();

  constructor(private readonly options: Pick<Lwm2mDtlsOptions, 'credentials' | 'psk'>) {}

  /** The key of an identity (for the DTLS handshake), or undefined to refuse it. */
  async key(identity: string): Promise<Buffer | undefined> {
    const found: PskLookupResult = this.options.credentials?.find((c) => c.identity === identity) ?? (await this.options.psk?.(identity));
    if (!found) return undefined;
    const { key, endpoint } = found instanceof Uint8Array ? { key: found, endpoint: undefined } : found;
    this.bound.set(identity, endpoint ?? identity);
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  }

  /** The endpoint an identity may act as (the identity itself unless bound otherwise). */
  endpointOf(identity: string): string {
    return this.bound.get(identity) ?? identity;
  }
}

/**
 * Opens a server's CoAPS port beside its bound CoAP transport `plain`: a DtlsServer with the
 * bindings' keys, under a CoAP transport made by `transportFor` (whose socket factory is the
 * DTLS server's). When the port cannot be bound, `plain` is closed too (the server then
 * listens on neither) and the error is thrown.
 */
export async function openCoaps(options: {
  dtls: Lwm2mDtlsOptions;
  psk: PskBindings;
  clock: Clock;
  defaultPort: number;
  /** Address when `dtls.address` is not given (the plain socket's). */
  address: string | undefined;
  plain: CoapTransport;
  transportFor: (dtlsServer: DtlsServer, socketFactory: SocketFactory) => CoapTransport;
}): Promise<{ dtlsServer: DtlsServer; transport: CoapTransport }> {
  const { dtls, psk } = options;
  const dtlsServer = new DtlsServer({ clock: options.clock, ...dtls.server, cipherSuites: dtls.cipherSuites, psk: (identity) => psk.key(identity) });
  const transport = options.transportFor(dtlsServer, () => datagramSocket(dtlsServer));
  try {
    await transport.bind({ port: dtls.port ?? options.defaultPort, address: dtls.address ?? options.address });
  } catch (err) {
    await options.plain.close();
    throw err;
  }
  return { dtlsServer, transport };
}
