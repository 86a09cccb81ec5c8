/** Exclusive UDP binding with IPv6 dual-stack by default. */

import * as dgram from 'node:dgram';
import { PortInUseError } from './errors';

export type SocketFactory = (options: dgram.SocketOptions) => dgram.Socket;

/** Error codes meaning "this host has no usable IPv6". */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * Binds one UDP socket. Without `address`, binds dual-stack `::` and falls back to `0.0.0.0`
 * when IPv6 is unavailable. Never shares a port (no SO_REUSEADDR): a port already bound by
 * anyone is a PortInUseError.
 */
export async function openUdpSocket(
  port: number,
  address?: string,
  create: SocketFactory = dgram.createSocket,
): Promise<dgram.Socket> {
  if (address !== undefined) return bindOnce(create, port, address);
  try {
    return await bindOnce(create, port, '::');
  } catch (err) {
    if (!NO_IPV6.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return bindOnce(create, port, '0.0.0.0');
  }
}

function bindOnce(create: SocketFactory, port: number, address: string): Promise<dgram.Socket> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  return new Promise((resolve, reject) => {
    const socket = create({ type, reuseAddr: false, ipv6Only: false });
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.close();
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, address) : err);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
