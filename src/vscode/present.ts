/** How values, codes and errors are shown to people (tree descriptions, messages, logs). */
import { formatValue, type Value, type ValueType } from '../core/node';
import { ResponseCodeError, ResponseDecodeError, TimeoutError, ClientNotFoundError, QueueTimeoutError, TransportClosedError, InvalidRequestError } from '../core/server/errors';
import type { HistoryPoint } from './clientStore';

const MAX_TEXT = 60;

/** A value for a one-line description: strings quoted when short, opaque as hex with its size. */
export function showValue(type: ValueType, value: Value | null | undefined, units?: string): string {
  if (value === undefined) return '';
  if (value === null) return '(no value)';
  if (value instanceof Uint8Array) {
    const hex = formatValue(value);
    return `0x${hex.length > 32 ? hex.slice(0, 32) + '…' : hex} (${value.length} B)`;
  }
  let text: string;
  if (type === 'time' && typeof value === 'number') text = `${value} (${new Date(value * 1000).toISOString().replace('.000Z', 'Z')})`;
  else if (typeof value === 'number' && type === 'float') text = Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  else text = formatValue(value);
  if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT) + '…';
  if (units && typeof value !== 'string' && typeof value !== 'boolean') return `${text} ${units}`;
  return text;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of the last `width` points: `▁▃▅█▆`. Empty for fewer than two points. */
export function sparkline(points: readonly HistoryPoint[] | undefined, width = 16): string {
  if (!points || points.length < 2) return '';
  const last = points.slice(-width);
  let min = Infinity;
  let max = -Infinity;
  for (const p of last) {
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
  }
  const span = max - min;
  return last.map((p) => BARS[span === 0 ? 3 : Math.min(7, Math.floor(((p.value - min) / span) * 7.999))]).join('');
}

/** A failure for a person: the CoAP code, its LwM2M meaning and the diagnostic payload. */
export function describeError(err: unknown): string {
  if (err instanceof ResponseCodeError) {
    const diag = err.diagnostic ? ` Diagnostic payload: "${err.diagnostic.length > 200 ? err.diagnostic.slice(0, 200) + '…' : err.diagnostic}"` : '';
    return `${err.target.operation} ${err.target.path} on "${err.target.endpoint}" failed: ${err.code} ${err.meaning}.${diag}`;
  }
  if (err instanceof ResponseDecodeError) return `${err.message}`;
  if (err instanceof TimeoutError) return `No answer in time: ${err.message}`;
  if (err instanceof QueueTimeoutError) return `The client stayed asleep: ${err.message}`;
  if (err instanceof ClientNotFoundError || err instanceof TransportClosedError || err instanceof InvalidRequestError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** `12:03:04.123` */
export function clock(time: number): string {
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** `5 s ago`, `3 min ago` */
export function ago(time: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
