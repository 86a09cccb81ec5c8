import * as vscode from 'vscode';
import type { ResourceModel } from '../core/model/types';
import { formatValue, isObjectLink, type Value, type ValueType } from '../core/node';

/** A typed value read from text, or why the text is not one. */
export type Parsed = { ok: true; value: Value } | { ok: false; error: string };

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Reads what a person typed as a value of `type`, checking the model's range or enumeration.
 * Integers: decimal (beyond 2^53 as bigint); floats: decimal or exponent; booleans: true/false,
 * 1/0, on/off; objlnk: `O:I`; opaque: hex (spaces and a 0x prefix allowed); time: seconds since
 * 1970 or an ISO date.
 */
export function parseValue(type: ValueType, text: string, model?: Pick<ResourceModel, 'range'>): Parsed {
  const t = text.trim();
  const fail = (error: string): Parsed => ({ ok: false, error });
  let value: Value;
  switch (type) {
    case 'string':
    case 'corelnk':
      value = text;
      break;
    case 'integer':
    case 'unsigned integer':
    case 'time': {
      let s = t;
      if (type === 'time' && !/^[-+]?\d+$/.test(t)) {
        const ms = Date.parse(t);
        if (Number.isNaN(ms)) return fail('a time: seconds since 1970 (e.g. 1700000000) or a date (2024-01-31T12:00:00Z)');
        s = String(Math.floor(ms / 1000));
      }
      if (!/^[-+]?\d+$/.test(s)) return fail(`${type === 'unsigned integer' ? 'an unsigned integer' : 'an integer'}: decimal digits${type === 'unsigned integer' ? '' : ', optionally with a sign'}`);
      const big = BigInt(s);
      if (type === 'unsigned integer' && (big < 0n || big > U64_MAX)) return fail('an unsigned integer 0..2^64-1');
      if (type !== 'unsigned integer' && (big < I64_MIN || big > I64_MAX)) return fail('an integer within the 64-bit signed range');
      value = Number.isSafeInteger(Number(big)) ? Number(big) : big;
      break;
    }
    case 'float': {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) && !/^[-+]?(Infinity|NaN)$/.test(t)) return fail('a number, e.g. 21.5 or -1e3');
      value = Number(t);
      break;
    }
    case 'boolean': {
      const l = t.toLowerCase();
      if (['true', '1', 'on', 'yes'].includes(l)) value = true;
      else if (['false', '0', 'off', 'no'].includes(l)) value = false;
      else return fail('a boolean: true or false (1/0)');
      break;
    }
    case 'objlnk': {
      const m = /^(\d{1,5}):(\d{1,5})$/.exec(t);
      if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) return fail('an object link O:I, e.g. 3:0 (65535:65535 for none)');
      value = { objectId: Number(m[1]), instanceId: Number(m[2]) };
      break;
    }
    case 'opaque': {
      const hex = t.replace(/^0x/i, '').replace(/[\s:,-]/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return fail('opaque bytes as hex, e.g. 01 02 ff (an even number of hex digits)');
      value = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
      break;
    }
    case 'none':
      return fail('this resource has no value (it is executable)');
  }
  const range = model?.range;
  if (range) {
    if (range.enumeration && range.enumeration.length > 0 && typeof value !== 'object') {
      const shown = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      if (!range.enumeration.some((e) => e.value === shown || e.value.toLowerCase() === String(value).toLowerCase())) {
        return fail(`one of ${range.enumeration.map((e) => (e.label ? `${e.value} (${e.label})` : e.value)).join(', ')}`);
      }
    }
    const measure = range.bytes ? (typeof value === 'string' ? Buffer.byteLength(value) : value instanceof Uint8Array ? value.length : undefined) : typeof value === 'number' || typeof value === 'bigint' ? Number(value) : undefined;
    if (measure !== undefined && ((range.min !== undefined && measure < range.min) || (range.max !== undefined && measure > range.max))) {
      return fail(`${range.bytes ? 'a length' : 'a value'} within ${range.text}`);
    }
  }
  return { ok: true, value };
}

/** The text a value is edited as (the inverse of parseValue). */
export function valueText(type: ValueType, value: Value | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (isObjectLink(value)) return `${value.objectId}:${value.instanceId}`;
  if (type === 'boolean') return value ? 'true' : 'false';
  return formatValue(value);
}

/**
 * Asks a person for a value of a resource: booleans and enumerations as picks, opaque from hex
 * or a workspace file, others in an input box validated by type and range. Undefined: cancelled.
 */
export async function askValue(title: string, type: ValueType, model: ResourceModel | undefined, current: Value | null | undefined): Promise<Value | undefined> {
  if (type === 'boolean') {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'true', value: true },
        { label: 'false', value: false },
      ].map((p) => ({ ...p, description: current === p.value ? 'current' : undefined })),
      { title, placeHolder: 'New value' },
    );
    return pick?.value;
  }
  const enumeration = model?.range?.enumeration;
  if (enumeration && enumeration.length > 0) {
    const picks = enumeration.map((e) => ({ label: e.value, description: [e.label, String(current) === e.value ? 'current' : ''].filter(Boolean).join(' · ') }));
    const pick = await vscode.window.showQuickPick(picks, { title, placeHolder: `New value (${model!.range!.text})` });
    if (!pick) return undefined;
    const parsed = parseValue(type, pick.label, model);
    if (!parsed.ok) {
      void vscode.window.showErrorMessage(`${pick.label} is not ${parsed.error}`);
      return undefined;
    }
    return parsed.value;
  }
  if (type === 'opaque') {
    const how = await vscode.window.showQuickPick(
      [
        { label: '$(symbol-numeric) Enter hex…', id: 'hex' },
        { label: '$(file) From a workspace file…', id: 'file' },
      ],
      { title, placeHolder: 'Opaque value' },
    );
    if (!how) return undefined;
    if (how.id === 'file') {
      const files = await vscode.window.showOpenDialog({ title, canSelectMany: false, openLabel: 'Use as value', defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
      if (!files?.[0]) return undefined;
      return await vscode.workspace.fs.readFile(files[0]);
    }
  }
  const hint = [type, model?.units ? `in ${model.units}` : '', model?.range ? `range ${model.range.text}` : ''].filter(Boolean).join(', ');
  const text = await vscode.window.showInputBox({
    title,
    prompt: `New value (${hint})`,
    value: valueText(type, current),
    validateInput: (v) => {
      const r = parseValue(type, v, model);
      return r.ok ? undefined : `Expected ${r.error}`;
    },
  });
  if (text === undefined) return undefined;
  const parsed = parseValue(type, text, model);
  return parsed.ok ? parsed.value : undefined;
}
