// A resource's value history as a line chart (chart.js), in the theme's colours.
import { CategoryScale, Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { ChartData, FromChartWebview, ToChartWebview } from './protocol';

declare function acquireVsCodeApi(): { postMessage(m: FromChartWebview): void };
const vscode = acquireVsCodeApi();

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Filler, Tooltip);

function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const header = document.createElement('div');
header.className = 'header';
const title = document.createElement('h2');
const stats = document.createElement('span');
stats.className = 'stats';
stats.id = 'stats';
const exportButton = document.createElement('button');
exportButton.id = 'export-csv';
exportButton.innerHTML = '<span class="codicon codicon-save"></span> Export CSV';
exportButton.addEventListener('click', () => vscode.postMessage({ type: 'exportCsv' }));
header.append(title, stats, exportButton);
const wrap = document.createElement('div');
wrap.className = 'chart-wrap';
const canvas = document.createElement('canvas');
canvas.id = 'chart';
wrap.append(canvas);
const empty = document.createElement('div');
empty.className = 'empty';
empty.textContent = 'No numeric values yet: read or observe the resource.';
document.body.append(header, wrap, empty);

function time(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

let chart: Chart<'line', { x: number; y: number }[]> | undefined;

function render(data: ChartData): void {
  title.textContent = data.title;
  const n = data.points.length;
  const values = data.points.map((p) => p.value);
  stats.textContent = n ? `${n} value${n === 1 ? '' : 's'} (kept: last ${data.limit}) · min ${Math.min(...values)} · max ${Math.max(...values)} · last ${values[n - 1]} ${data.units}` : '';
  empty.style.display = n ? 'none' : 'block';
  const line = css('--vscode-charts-blue', '#3794ff');
  const fg = css('--vscode-foreground', '#ccc');
  const grid = css('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
  const points = data.points.map((p) => ({ x: p.time, y: p.value }));
  if (!chart) {
    chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [{ label: data.path, data: points, borderColor: line, backgroundColor: line + '33', fill: true, pointRadius: 2, tension: 0.2 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', ticks: { color: fg, callback: (v) => time(Number(v)), maxRotation: 0 }, grid: { color: grid } },
          y: { ticks: { color: fg }, grid: { color: grid }, title: { display: !!data.units, text: data.units, color: fg } },
        },
        plugins: { tooltip: { callbacks: { title: (items) => (items[0] ? new Date(items[0].parsed.x ?? 0).toLocaleTimeString() : '') } } },
      },
    });
  } else {
    chart.data.datasets[0]!.data = points;
    chart.update();
  }
  vscode.postMessage({ type: 'rendered', points: n });
}

window.addEventListener('message', (ev: MessageEvent<ToChartWebview>) => {
  if (ev.data.type === 'data') render(ev.data.data);
});
vscode.postMessage({ type: 'ready' });
