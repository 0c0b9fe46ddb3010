/**
 * A small time-series line chart on a canvas: no library, no remote content, colours from the VS Code theme
 * (CSS variables --vscode-*), so it follows theme changes on the next draw. Sized to its element and
 * sharp on HiDPI screens.
 */
export interface Series {
  name: string;
  /** A CSS colour or var(--vscode-...) expression. */
  color: string;
  values: (number | undefined)[];
}

const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-red',
  '--vscode-charts-yellow',
  '--vscode-terminal-ansiCyan',
  '--vscode-terminal-ansiMagenta',
  '--vscode-charts-foreground',
];
const FALLBACK = [
  '#3794ff',
  '#d18616',
  '#89d185',
  '#b180d7',
  '#f14c4c',
  '#cca700',
  '#11a8cd',
  '#bc3fbc',
  '#cccccc',
];

export function paletteColor(index: number): string {
  return `var(${PALETTE[index % PALETTE.length]}, ${FALLBACK[index % FALLBACK.length]})`;
}

/** Resolves var(--x, fallback) against the document so the canvas gets a concrete colour. */
function resolveColor(color: string): string {
  const match = /^var\((--[\w-]+)(?:,\s*(.+))?\)$/.exec(color);
  if (!match) return color;
  const value = getComputedStyle(document.body).getPropertyValue(match[1]).trim();
  return value || match[2] || '#888';
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

export class LineChart {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly unit: string,
    private readonly fixedMax?: number,
    /** The scale never goes below this (the CPU chart keeps 1 core in view, the line that matters). */
    private readonly leastMax = 0,
  ) {
    this.ctx = canvas.getContext('2d')!;
  }

  /** `times` in seconds; all series have one value per time (undefined = gap). */
  draw(times: number[], series: Series[], windowSeconds: number): void {
    const dpr = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
    }
    const c = this.ctx;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, width, height);
    const style = getComputedStyle(document.body);
    const foreground = style.getPropertyValue('--vscode-descriptionForeground').trim() || '#888';
    const grid = style.getPropertyValue('--vscode-editorWidget-border').trim() || 'rgba(128,128,128,0.3)';
    c.font = `11px ${style.getPropertyValue('--vscode-font-family') || 'sans-serif'}`;

    const left = 48;
    const right = 8;
    const top = 8;
    const bottom = 18;
    const plotW = Math.max(10, width - left - right);
    const plotH = Math.max(10, height - top - bottom);
    const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && isFinite(v)));
    const max = this.fixedMax ?? Math.max(this.leastMax, niceMax(Math.max(0, ...all)));
    const decimals = max < 1 ? 2 : max < 10 ? 1 : 0;
    const end = times.length ? times[times.length - 1] : 0;
    const start = end - windowSeconds;
    const x = (t: number) => left + ((t - start) / windowSeconds) * plotW;
    const y = (v: number) => top + plotH - (Math.min(v, max) / max) * plotH;

    c.strokeStyle = grid;
    c.fillStyle = foreground;
    c.lineWidth = 1;
    c.textAlign = 'right';
    c.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const yy = Math.round(y(v)) + 0.5;
      c.beginPath();
      c.moveTo(left, yy);
      c.lineTo(left + plotW, yy);
      c.stroke();
      c.fillText(`${Number.isInteger(v) ? v : v.toFixed(decimals)}${this.unit}`, left - 4, yy);
    }
    c.textAlign = 'left';
    c.textBaseline = 'top';
    c.fillText(`last ${Math.round(windowSeconds / 60) || 1} min`, left, top + plotH + 4);

    c.lineWidth = 1.5;
    for (const s of series) {
      c.strokeStyle = resolveColor(s.color);
      c.beginPath();
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === undefined || !isFinite(v) || times[i] < start) {
          pen = false;
          return;
        }
        if (pen) c.lineTo(x(times[i]), y(v));
        else c.moveTo(x(times[i]), y(v));
        pen = true;
      });
      c.stroke();
    }
  }
}
