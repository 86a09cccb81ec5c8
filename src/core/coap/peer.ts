/** UDP peer addresses. */

/** A UDP endpoint. IPv4 peers seen on a dual-stack socket are stored as plain IPv4 (`127.0.0.1`). */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** `::ffff:10.0.0.1` → `10.0.0.1`; anything else unchanged. */
export function canonicalAddress(address: string): string {
  const m = MAPPED_V4.exec(address);
  return m ? m[1]! : address;
}

/** `1.2.3.4:5683` or `[::1]:5683`: for display, and unique per peer (used as a map key). */
export function formatPeer(peer: Peer): string {
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

/** The address to pass to `socket.send`: IPv4 peers become IPv4-mapped on an IPv6 socket. */
export function socketAddress(address: string, family: 'udp4' | 'udp6'): string {
  return family === 'udp6' && !address.includes(':') ? `::ffff:${address}` : address;
}
