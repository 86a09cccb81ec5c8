import * as vscode from 'vscode';
import { parseFormat } from '../core/contentFormat';

/** The extension's settings (contributes.configuration in package.json), read at call time. */
export interface Lwm2mSettings {
  autoStart: boolean;
  port: number;
  securePort: number;
  /** Serve CoAPS (DTLS 1.2 with PSK) on `securePort` beside CoAP. */
  dtlsEnabled: boolean;
  /** Run the bootstrap server beside the LwM2M server. */
  bootstrapEnabled: boolean;
  bootstrapPort: number;
  /** CoAPS port of the bootstrap server (when CoAPS is on). */
  bootstrapSecurePort: number;
  /** Bootstrap configuration files, relative to each workspace folder or absolute. */
  bootstrapConfigFiles: string[];
  bindAddress: string;
  /** Milliseconds. */
  requestTimeoutMs: number;
  /** Content format for single-value reads/writes, undefined = the client's default. */
  singleValueFormat: number | undefined;
  /** Content format for multi-value reads/writes, undefined = the client's default. */
  multiValueFormat: number | undefined;
  blockSize: number;
  modelFolders: string[];
  trafficLogSize: number;
  historySize: number;
}

export const SETTINGS_SECTION = 'lwm2m';

function format(text: string | undefined): number | undefined {
  if (!text || text === 'auto') return undefined;
  return parseFormat(text);
}

export function readSettings(): Lwm2mSettings {
  const c = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const int = (key: string, dflt: number, min: number, max: number): number => {
    const v = Number(c.get<number>(key, dflt));
    return Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : dflt;
  };
  return {
    autoStart: c.get<boolean>('server.autoStart', true),
    port: int('server.port', 5683, 0, 65535),
    securePort: int('server.securePort', 5684, 0, 65535),
    dtlsEnabled: c.get<boolean>('server.dtls.enabled', true),
    bootstrapEnabled: c.get<boolean>('bootstrap.enabled', false),
    bootstrapPort: int('bootstrap.port', 5685, 0, 65535),
    bootstrapSecurePort: int('bootstrap.securePort', 5686, 0, 65535),
    bootstrapConfigFiles: c.get<string[]>('bootstrap.configFiles', ['.lwm2m/bootstrap.json']) ?? [],
    bindAddress: c.get<string>('server.bindAddress', '::') || '::',
    requestTimeoutMs: int('requests.timeout', 30, 1, 3600) * 1000,
    singleValueFormat: format(c.get<string>('requests.singleValueFormat', 'auto')),
    multiValueFormat: format(c.get<string>('requests.multiValueFormat', 'auto')),
    blockSize: int('requests.blockSize', 1024, 16, 1024),
    modelFolders: c.get<string[]>('models.folders', ['models', '.lwm2m/models']) ?? [],
    trafficLogSize: int('trafficLog.size', 1000, 10, 100_000),
    historySize: int('history.size', 200, 2, 100_000),
  };
}

/** CoAP block size in bytes → SZX exponent (16 → 0 … 1024 → 6). */
export function blockSizeToSzx(size: number): number {
  const szx = Math.round(Math.log2(size)) - 4;
  return Math.min(6, Math.max(0, szx));
}
