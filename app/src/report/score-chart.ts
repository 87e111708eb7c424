/** A line chart of training curves as a self-contained SVG: no canvas, no chart library. */
export interface Series {
  name: string;
  points: [number, number][];
}

const WIDTH = 640;
const HEIGHT = 320;
const MARGIN = { left: 56, right: 150, top: 20, bottom: 40 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export function lineChartSvg(series: Series[], xLabel: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return emptyChart();
  const [x0, x1] = extent(all.map((p) => p[0]));
  const [y0, y1] = extent(all.map((p) => p[1]));
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * (WIDTH - MARGIN.left - MARGIN.right);
  const sy = (y: number) =>
    HEIGHT - MARGIN.bottom - ((y - y0) / (y1 - y0 || 1)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const lines = series.map((s, i) => {
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join("");
    const colour = COLOURS[i % COLOURS.length]!;
    const legendY = MARGIN.top + 14 * i;
    return (
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>` +
      `<rect x="${WIDTH - MARGIN.right + 10}" y="${legendY - 8}" width="10" height="10" fill="${colour}"/>` +
      `<text x="${WIDTH - MARGIN.right + 24}" y="${legendY + 1}">${escapeXml(s.name)}</text>`
    );
  });
  const axes =
    `<line x1="${MARGIN.left}" y1="${HEIGHT - MARGIN.bottom}" x2="${WIDTH - MARGIN.right}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/>` +
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/>` +
    tick(MARGIN.left - 6, HEIGHT - MARGIN.bottom, format(y0), "end") +
    tick(MARGIN.left - 6, MARGIN.top + 4, format(y1), "end") +
    tick(MARGIN.left, HEIGHT - MARGIN.bottom + 16, format(x0), "middle") +
    tick(WIDTH - MARGIN.right, HEIGHT - MARGIN.bottom + 16, format(x1), "middle") +
    tick((MARGIN.left + WIDTH - MARGIN.right) / 2, HEIGHT - 6, xLabel, "middle") +
    `<text x="14" y="${HEIGHT / 2}" transform="rotate(-90 14 ${HEIGHT / 2})" text-anchor="middle">${escapeXml(yLabel)}</text>`;
  return svg(axes + lines.join(""));
}

function svg(body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`
  );
}

function emptyChart(): string {
  return svg(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no data yet</text>`);
}

function tick(x: number, y: number, text: string, anchor: string): string {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}">${escapeXml(text)}</text>`;
}

function extent(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

function format(value: number): string {
  return Math.abs(value) >= 100 || Number.isInteger(value) ? String(Math.round(value)) : value.toPrecision(3);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
