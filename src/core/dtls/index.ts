/**
 * DTLS 1.2 with pre-shared keys, server and client, on node:crypto (issue 7; RFC 6347, RFC 4279,
 * RFC 6655, RFC 5487, RFC 7627, RFC 5746). CoAPS (`coaps://`, port 5684) runs CoAP over it.
 *
 * Why our own: npm has no maintained DTLS 1.2 *server* with PSK in JavaScript. Checked with
 * `npm view` (November 2026):
 *   - @nodertc/dtls 0.6.0: pure JS, client only (`dtls.connect`); PSK only with GCM/ChaCha, no CCM_8.
 *   - node-dtls-client 2.0.3: TypeScript, PSK suites incl. CCM_8, but "contains no server-side
 *     implementation".
 *   - node-mbed-dtls 3.0.0-rc.14: a server, but a native addon over mbed TLS (node-gyp and a git
 *     submodule at install, certificate oriented, a release candidate). Its PSK-capable forks
 *     (@gpolakow/node-mbed-dtls, …) and node-mbed-dtls-client are not on the registry.
 *   - dtls 0.0.1 ("tls over udp"): a lone early release, no server or PSK documented;
 *     node-dtls: not on the registry.
 *   Node itself has no `node:dtls` in release builds.
 *
 * Modules: record.ts (framing, replay window), suites.ts (record protection), prf.ts (key
 * derivation), handshake.ts and reassembly.ts (messages, fragments), cookie.ts (stateless
 * HelloVerifyRequest cookies), connection.ts (epochs, flights, retransmission, alerts) with
 * serverConnection.ts / clientConnection.ts (the two handshakes), server.ts and client.ts,
 * datagram.ts (the server as a dgram.Socket for a CoAP transport) and clientSocket.ts (a
 * client, reconnecting on demand, as a dgram.Socket for a CoAP transport).
 */

export { DtlsServer, type DtlsServerEvents, type DtlsServerOptions } from './server';
export { DtlsClient, type DtlsClientEvents, type DtlsClientOptions } from './client';
export { datagramSocket } from './datagram';
export { DtlsClientSocket, clientDatagramSocket, type DtlsClientSocketEvents, type DtlsClientSocketOptions } from './clientSocket';
export type { DtlsSession } from './session';
export type { DtlsStats, DtlsDropCounts } from './stats';
export { DtlsAlertError, DtlsClosedError, DtlsTimeoutError } from './errors';
export { CIPHER_SUITES, type CipherSuiteName } from './suites';
export { AlertDescription, alertName } from './constants';
