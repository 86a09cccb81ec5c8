/** Messages between the traffic log panel (extension host) and its webview. */

/** One CoAP message as a row of the log. */
export interface TrafficRow {
  seq: number;
  /** Milliseconds since 1970. */
  time: number;
  dir: 'in' | 'out';
  peer: string;
  /** The client's endpoint name, when the peer is a registered client. */
  endpoint: string;
  /** CON, NON, ACK, RST, or `bad` for a malformed datagram. */
  type: string;
  /** `GET`, `2.05 Content`, … */
  code: string;
  mid: number;
  token: string;
  /** The LwM2M path (the request's, for a response). */
  path: string;
  /** Content-Format (or Accept of a request) by name. */
  format: string;
  size: number;
  payloadSize: number;
  /** One-line decoded summary. */
  summary: string;
  /** duplicate / retransmission / observe notification flags. */
  flags: string;
}

export interface TrafficDetail {
  seq: number;
  options: { name: string; value: string }[];
  /** Decoded payload as JSON text (the CLI's JSON shape), when it could be decoded. */
  decoded?: string;
  decodeError?: string;
  /** The payload as hex. */
  hex: string;
  /** The payload as text when it is printable UTF-8. */
  text?: string;
  /** Format number used for decoding. */
  format?: number;
}

export type ToTrafficWebview =
  | { type: 'rows'; rows: TrafficRow[]; reset: boolean; capacity: number }
  | { type: 'detail'; detail: TrafficDetail }
  | { type: 'cleared' };

export type FromTrafficWebview =
  | { type: 'ready' }
  | { type: 'select'; seq: number }
  | { type: 'clear' }
  | { type: 'export'; seqs: number[] }
  | { type: 'openInInspector'; seq: number }
  | { type: 'copyHex'; seq: number }
  | { type: 'savePayload'; seq: number }
  | { type: 'state'; shown: number; paused: boolean; filter: string };
