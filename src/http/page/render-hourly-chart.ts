import type { HourlyCount } from '../../store/store.ts';
import { html, type SafeHtml } from './html.ts';

const WIDTH = 720;
const HEIGHT = 120;
const LABEL_SPACE = 16;

/** Delivered (green) and failed (red) per hour for the last 24 h, as inline SVG: no script, no image request. */
export function renderHourlyChart(hourly: HourlyCount[]): SafeHtml {
  const max = Math.max(1, ...hourly.flatMap((h) => [h.delivered, h.failed]));
  const slot = WIDTH / hourly.length;
  const barWidth = Math.max(2, slot / 2 - 2);
  const plot = HEIGHT - LABEL_SPACE;
  const bars = hourly.map((h, i) => {
    const x = i * slot + 1;
    const hour = new Date(h.hourStart).toISOString().slice(11, 13);
    return html`<g><title>${hour}:00 UTC: ${h.delivered} delivered, ${h.failed} failed</title>
${bar(x, barWidth, (h.delivered / max) * plot, plot, '#2e8b57')}${bar(x + barWidth + 1, barWidth, (h.failed / max) * plot, plot, '#c0392b')}
${i % 3 === 0 ? html`<text x="${x.toFixed(1)}" y="${HEIGHT - 3}" font-size="10" fill="#555">${hour}h</text>` : ''}</g>`;
  });
  const delivered = hourly.reduce((n, h) => n + h.delivered, 0);
  const failed = hourly.reduce((n, h) => n + h.failed, 0);
  return html`<figure><figcaption>Last 24 hours (UTC), per hour: <strong>${delivered}</strong> delivered (green), <strong>${failed}</strong> failed attempts (red)</figcaption>
<svg role="img" aria-label="${`${delivered} delivered and ${failed} failed in the last 24 hours`}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<line x1="0" y1="${plot}" x2="${WIDTH}" y2="${plot}" stroke="#bbb"/>${bars}</svg></figure>`;
}

function bar(x: number, width: number, height: number, baseline: number, color: string): SafeHtml {
  if (height <= 0) return html``;
  const h = Math.max(1, height);
  return html`<rect x="${x.toFixed(1)}" y="${(baseline - h).toFixed(1)}" width="${width.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`;
}
