// ABOUTME: The usage page's chart: tokens per day per agent as a server-rendered inline SVG of stacked bars.
// ABOUTME: No client library; every label and tooltip goes through the escaping template tag.
import { html, type SafeHtml } from "./html.js";

const PALETTE = ["#5b4bdb", "#1f9d55", "#c98a00", "#d33b3b", "#2b8ac6", "#8e44ad", "#16a085", "#7f8c8d"];

export interface DailyTokens {
  day: string;
  agentId: string;
  tokens: number;
}

/** Stacked bars per day (agents in a fixed colour order), a y-axis maximum and a legend. */
export function usageChart(rows: readonly DailyTokens[]): SafeHtml {
  if (rows.length === 0) return html`<p class="empty" data-testid="usage-chart-empty">No usage in this range to chart.</p>`;
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const agents = [...new Set(rows.map((r) => r.agentId))].sort();
  const color = (agent: string) => PALETTE[agents.indexOf(agent) % PALETTE.length] as string;
  const perDay = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const day = perDay.get(r.day) ?? new Map<string, number>();
    day.set(r.agentId, (day.get(r.agentId) ?? 0) + r.tokens);
    perDay.set(r.day, day);
  }
  const max = Math.max(1, ...days.map((d) => [...(perDay.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0)));
  const width = 640;
  const height = 220;
  const left = 56;
  const bottom = 28;
  const plotW = width - left - 8;
  const plotH = height - bottom - 8;
  const slot = plotW / days.length;
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const bars = days.map((day, i) => {
    let y = 8 + plotH;
    const x = left + i * slot + (slot - barW) / 2;
    const segments = agents.map((agent) => {
      const tokens = perDay.get(day)?.get(agent) ?? 0;
      if (tokens === 0) return "";
      const h = (tokens / max) * plotH;
      y -= h;
      return html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color(agent)}" data-agent="${agent}" data-day="${day}"><title>${agent} · ${day}: ${tokens} tokens</title></rect>`;
    });
    const label = days.length <= 14 || i % Math.ceil(days.length / 14) === 0
      ? html`<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="10">${day.slice(5)}</text>`
      : "";
    return html`${segments}${label}`;
  });
  return html`<figure class="chart" data-testid="usage-chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Tokens per day per agent">
<line x1="${left}" y1="${8 + plotH}" x2="${width - 8}" y2="${8 + plotH}" stroke="currentColor" stroke-opacity="0.3"/>
<text x="${left - 6}" y="14" text-anchor="end" font-size="10">${max}</text>
<text x="${left - 6}" y="${8 + plotH}" text-anchor="end" font-size="10">0</text>
${bars}
</svg>
<figcaption>${agents.map((a) => html`<span class="chip" style="background:${color(a)};color:#fff">${a}</span> `)} tokens per day (input + output + thinking, UTC days)</figcaption>
</figure>`;
}
