/**
 * Events of a simulated client. Every event is a plain JSON-friendly object with a `type`, the
 * client's `endpoint` and a `time` (ms since 1970), so the CLI can print each as one JSON line.
 */

/** Fields every event carries. */
export interface SimEventBase {
  endpoint: string;
  time: number;
}

/** Why an observation ended. */
export type ObservationEndReason = 'rst' | 'cancelled' | 'timeout' | 'deleted' | 'deregistered' | 'replaced' | 'stopped';

/** Why an Update was sent. */
export type UpdateReason = 'lifetime' | 'wake' | 'objects' | 'trigger' | 'manual';

export type SimEventBody =
  | { type: 'started'; port: number }
  | { type: 'bootstrapRequested'; server: string }
  | { type: 'bootstrapDelete'; path: string }
  | { type: 'bootstrapWrite'; path: string; format: number | undefined; paths: string[] }
  | { type: 'bootstrapDiscover'; path: string }
  | { type: 'bootstrapRead'; path: string; format: number | undefined }
  | { type: 'bootstrapFinished'; server: string | undefined }
  /** CoAPS: a DTLS handshake with `server` completed (at start, and again after a lost session). */
  | { type: 'dtlsSession'; server: string; identity: string; cipherSuite: string }
  /** CoAPS: the session with `server` ended (close_notify or alert from the server); the next Register/Update handshakes again. */
  | { type: 'dtlsClosed'; server: string; reason: string }
  | { type: 'registered'; server: string; location: string; lifetime: number; port: number; queueMode: boolean }
  | { type: 'updated'; location: string; reason: UpdateReason }
  | { type: 'deregistered'; location: string }
  | { type: 'read'; path: string; format: number | undefined; code: string }
  | { type: 'discover'; path: string; code: string }
  | { type: 'write'; path: string; mode: 'replace' | 'update'; format: number | undefined; paths: string[]; code: string }
  | { type: 'writeAttributes'; path: string; attributes: Record<string, number>; code: string }
  | { type: 'execute'; path: string; arguments: string; code: string }
  | { type: 'create'; path: string; instance: string | undefined; code: string }
  | { type: 'delete'; path: string; code: string }
  | { type: 'readComposite'; paths: string[]; format: number | undefined; code: string }
  | { type: 'writeComposite'; paths: string[]; code: string }
  | { type: 'observe'; path: string; paths: string[]; token: string; format: number | undefined; code: string }
  | { type: 'observeCancelled'; path: string; token: string; reason: ObservationEndReason }
  | { type: 'notification'; path: string; token: string; sequence: number | undefined; confirmable: boolean; format: number | undefined; code: string }
  | { type: 'send'; paths: string[]; code: string }
  | { type: 'sleeping' }
  | { type: 'awake' }
  | { type: 'error'; operation: string; message: string }
  | { type: 'stopped' };

/** An event of a simulated client. */
export type SimEvent = SimEventBody & SimEventBase;

export type SimEventType = SimEvent['type'];

/** The event of one type. */
export type SimEventOf<T extends SimEventType> = Extract<SimEvent, { type: T }>;

/** Listener map: `event` gets everything; each type has its own name too. */
export type SimulatedClientEvents = { event: (e: SimEvent) => void } & { [K in SimEventType]: (e: SimEventOf<K>) => void };
