/** CoAP Content-Format numbers used by LwM2M (lwm2m-protocol.md §8). */
export const ContentFormat = {
  Text: 0,
  Link: 40,
  Opaque: 42,
  Cbor: 60,
  SenmlJson: 110,
  SenmlCbor: 112,
  SenmlEtchJson: 320,
  SenmlEtchCbor: 322,
  Tlv: 11542,
  Lwm2mJson: 11543,
  Lwm2mCbor: 11544,
  LegacyText: 1541,
  LegacyTlv: 1542,
  LegacyJson: 1543,
  LegacyOpaque: 1544,
} as const;

export type ContentFormatNumber = number;

interface FormatInfo {
  number: number;
  name: string;
  mediaType: string;
  /** Formats that carry several resources (hierarchical or composite). */
  multiValue: boolean;
}

export const FORMATS: readonly FormatInfo[] = [
  { number: 0, name: 'text', mediaType: 'text/plain;charset=utf-8', multiValue: false },
  { number: 40, name: 'link', mediaType: 'application/link-format', multiValue: false },
  { number: 42, name: 'opaque', mediaType: 'application/octet-stream', multiValue: false },
  { number: 60, name: 'cbor', mediaType: 'application/cbor', multiValue: false },
  { number: 110, name: 'senml-json', mediaType: 'application/senml+json', multiValue: true },
  { number: 112, name: 'senml-cbor', mediaType: 'application/senml+cbor', multiValue: true },
  { number: 11542, name: 'tlv', mediaType: 'application/vnd.oma.lwm2m+tlv', multiValue: true },
  { number: 11543, name: 'lwm2m-json', mediaType: 'application/vnd.oma.lwm2m+json', multiValue: true },
  { number: 11544, name: 'lwm2m-cbor', mediaType: 'application/vnd.oma.lwm2m+cbor', multiValue: true },
];

const LEGACY: Record<number, number> = { 1541: 0, 1542: 11542, 1543: 11543, 1544: 42 };

/** Maps a legacy pre-1.0 number to the current one (1542 → 11542, …). */
export function canonicalFormat(n: number): number {
  return LEGACY[n] ?? n;
}

export function formatInfo(n: number): FormatInfo | undefined {
  const c = canonicalFormat(n);
  return FORMATS.find((f) => f.number === c);
}

/** Parses a format given by name (`tlv`, `senml-json`, …) or number (`11542`). */
export function parseFormat(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return formatInfo(n) ? n : undefined;
  }
  return FORMATS.find((f) => f.name === t)?.number;
}

export function formatName(n: number): string {
  return formatInfo(n)?.name ?? String(n);
}
