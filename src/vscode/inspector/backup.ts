/** The inspector's backup file (hot exit): a magic line, one JSON line of settings, the raw bytes. Pure. */

/** How a document is read; kept in backups and remembered per file. */
export interface PayloadSettings {
  format: number;
  formatReason: string;
  formatChosen: boolean;
  basePath: string;
  basePathReason: string;
}

const BACKUP_MAGIC = 'LWM2M-INSPECTOR-BACKUP 1\n';

export function encodeBackup(bytes: Uint8Array, settings: PayloadSettings): Uint8Array {
  const head = new TextEncoder().encode(BACKUP_MAGIC + JSON.stringify(settings) + '\n');
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

export function decodeBackup(data: Uint8Array): { bytes: Uint8Array; settings?: PayloadSettings } {
  const magic = new TextEncoder().encode(BACKUP_MAGIC);
  if (data.length < magic.length || !magic.every((b, i) => data[i] === b)) return { bytes: data };
  const nl = data.indexOf(0x0a, magic.length);
  if (nl < 0) return { bytes: data };
  const settings = JSON.parse(new TextDecoder().decode(data.subarray(magic.length, nl))) as PayloadSettings;
  return { bytes: data.subarray(nl + 1), settings };
}

