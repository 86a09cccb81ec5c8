/** Messages between a value-history chart panel and its webview. */
export interface ChartData {
  title: string;
  endpoint: string;
  path: string;
  units: string;
  points: { time: number; value: number }[];
  /** Bound of the history kept per resource. */
  limit: number;
}

export type ToChartWebview = { type: 'data'; data: ChartData };
export type FromChartWebview = { type: 'ready' } | { type: 'exportCsv' } | { type: 'rendered'; points: number };
