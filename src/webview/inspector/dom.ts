/** Small DOM helpers for the inspector webview (no framework; nothing inline, for the CSP). */

type Attrs = Record<string, string | number | boolean | undefined>;

/** Creates an element with attributes (`class`, `title`, aria-*, data-*) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

/** A codicon span. */
export function icon(name: string, title?: string): HTMLSpanElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': title ? undefined : 'true', title });
}

/** A toolbar button with a codicon and an optional text label. */
export function button(id: string, iconName: string, label: string, title: string): HTMLButtonElement {
  const b = h('button', { id, class: 'tb-button', type: 'button', title, 'aria-label': title }, icon(iconName));
  if (label) b.append(h('span', { class: 'tb-label' }, label));
  return b;
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Shows control characters of a one-line value visibly. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r?\n/g, '⏎').replace(/[\u0000-\u001f\u007f]/g, '·');
}
