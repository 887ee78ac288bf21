import { type BenchResults, TARGETS } from './results.ts';

/**
 * One SVG, three panels: throughput side by side (with the ratios the targets speak of),
 * latency per second at the offered load against the p99 target, and the service's resident
 * memory over time against its target. Hand-written SVG: no dependency, opens in any browser.
 */
export function renderChart(results: BenchResults): string {
  const width = 1200;
  const height = 440;
  const panel = { top: 95, height: 280, width: 340 };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(
      20,
      28,
      `customer-sync benchmark · ${results.startedAt.slice(0, 19).replace('T', ' ')} UTC`,
      {
        size: 18,
        weight: 'bold',
      },
    ),
    text(
      20,
      48,
      `${results.events.toLocaleString('en-US')} events · ${results.machine.cpus} CPUs · Node ${results.machine.node} · Kafka ${results.machine.kafka} · PostgreSQL ${results.machine.postgres.split(' ')[0]} · load average ${results.machine.loadAverage.toFixed(1)} at start`,
      { fill: '#555' },
    ),
    throughputPanel(results, 40, panel),
    latencyPanel(results, 440, panel),
    memoryPanel(results, 840, panel),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

type Panel = { top: number; height: number; width: number };

function throughputPanel(results: BenchResults, left: number, panel: Panel): string {
  const bars = [
    { label: 'naive', value: results.throughput.naive, color: '#b0b0b0' },
    { label: 'customer-sync', value: results.throughput.service, color: '#2b6cb0' },
    ...(results.throughput.peer !== undefined
      ? [{ label: 'Debezium sink', value: results.throughput.peer, color: '#9f7aea' }]
      : []),
    { label: 'DB ceiling', value: results.throughput.ceiling, color: '#68a063' },
  ];
  const max = niceMax(Math.max(...bars.map((bar) => bar.value)));
  const bottom = panel.top + panel.height;
  // Three bars 100 px apart, four 75 px apart: the panel is as wide either way.
  const pitch = bars.length > 3 ? 75 : 100;
  const barWidth = pitch - 30;
  const out = [
    text(left, panel.top - 12, 'Throughput (events/s)', { size: 14, weight: 'bold' }),
    axis(left, panel, max, (value) => compact(value)),
  ];
  bars.forEach((bar, index) => {
    const x = left + 50 + index * pitch;
    const barHeight = (bar.value / max) * panel.height;
    out.push(
      `<rect x="${x}" y="${bottom - barHeight}" width="${barWidth}" height="${barHeight}" fill="${bar.color}"/>`,
      text(
        x + barWidth / 2,
        bottom - barHeight - 6,
        Math.round(bar.value).toLocaleString('en-US'),
        {
          anchor: 'middle',
          weight: 'bold',
        },
      ),
      text(x + barWidth / 2, bottom + 16, bar.label, { anchor: 'middle' }),
    );
  });
  out.push(
    text(
      left + 50,
      bottom + 36,
      `${results.ratio.vsNaive.toFixed(1)}x naive · ${(results.ratio.vsCeiling * 100).toFixed(0)}% of ceiling (target ${TARGETS.vsCeiling * 100}%)${results.ratio.vsPeer !== undefined ? ` · ${results.ratio.vsPeer.toFixed(2)}x the sink (target ${TARGETS.vsPeer}x)` : ''}`,
      { fill: '#333' },
    ),
  );
  return out.join('\n');
}

function latencyPanel(results: BenchResults, left: number, panel: Panel): string {
  const { timeline } = results.latency;
  const bottom = panel.top + panel.height;
  const max = niceMax(Math.max(TARGETS.p99Ms * 1.2, ...timeline.map((second) => second.p99)));
  const seconds = Math.max(1, ...timeline.map((second) => second.second + 1));
  const x = (second: number) => left + 50 + ((second + 0.5) / seconds) * (panel.width - 60);
  const y = (ms: number) => bottom - (Math.min(ms, max) / max) * panel.height;
  const line = (pick: (second: (typeof timeline)[number]) => number, color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${timeline
      .map((second) => `${x(second.second).toFixed(1)},${y(pick(second)).toFixed(1)}`)
      .join(' ')}"/>`;
  const warmupX = x(results.latency.warmupSeconds - 0.5);
  return [
    text(left, panel.top - 12, `Latency at ${results.latency.offeredRate} events/s (ms)`, {
      size: 14,
      weight: 'bold',
    }),
    `<rect x="${left + 50}" y="${panel.top}" width="${Math.max(0, warmupX - left - 50)}" height="${panel.height}" fill="#f3f3f3"/>`,
    axis(left, panel, max, (value) => String(Math.round(value))),
    `<line x1="${left + 50}" x2="${left + panel.width}" y1="${y(TARGETS.p99Ms)}" y2="${y(TARGETS.p99Ms)}" stroke="#c53030" stroke-dasharray="5 4"/>`,
    text(left + panel.width, y(TARGETS.p99Ms) - 5, `p99 target ${TARGETS.p99Ms} ms`, {
      anchor: 'end',
      fill: '#c53030',
    }),
    line((second) => second.p99, '#dd6b20'),
    line((second) => second.p50, '#2b6cb0'),
    text(
      left + 50,
      bottom + 16,
      `seconds of paced sending (grey: ${results.latency.warmupSeconds} s warm-up)`,
      {
        fill: '#555',
      },
    ),
    text(
      left + 50,
      bottom + 36,
      `p50 ${results.latency.p50.toFixed(0)} · p95 ${results.latency.p95.toFixed(0)} · p99 ${results.latency.p99.toFixed(0)} ms`,
      { fill: '#333' },
    ),
    legend(left + 60, panel.top + 14, [
      ['p99 per second', '#dd6b20'],
      ['p50 per second', '#2b6cb0'],
    ]),
  ].join('\n');
}

function memoryPanel(results: BenchResults, left: number, panel: Panel): string {
  const bottom = panel.top + panel.height;
  const series = [
    { samples: results.memory.throughput, color: '#2b6cb0', label: 'full-speed run' },
    { samples: results.memory.latency, color: '#dd6b20', label: 'paced run' },
  ];
  const max = niceMax(
    Math.max(TARGETS.rssMiB * 1.1, ...series.flatMap((s) => s.samples.map((m) => m.rssMiB))),
  );
  const seconds = Math.max(
    1,
    ...series.flatMap((s) => s.samples.map((sample) => sample.atMs / 1000)),
  );
  const x = (ms: number) => left + 50 + (ms / 1000 / seconds) * (panel.width - 60);
  const y = (mib: number) => bottom - (mib / max) * panel.height;
  const out = [
    text(left, panel.top - 12, 'Service resident memory (MiB)', { size: 14, weight: 'bold' }),
    axis(left, panel, max, (value) => String(Math.round(value))),
    `<line x1="${left + 50}" x2="${left + panel.width}" y1="${y(TARGETS.rssMiB)}" y2="${y(TARGETS.rssMiB)}" stroke="#c53030" stroke-dasharray="5 4"/>`,
    text(left + panel.width, y(TARGETS.rssMiB) - 5, `target ${TARGETS.rssMiB} MiB`, {
      anchor: 'end',
      fill: '#c53030',
    }),
  ];
  for (const { samples, color } of series) {
    const points = samples
      .filter((sample) => sample.atMs >= 0)
      .map((sample) => `${x(sample.atMs).toFixed(1)},${y(sample.rssMiB).toFixed(1)}`);
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`,
    );
  }
  out.push(
    text(left + 50, bottom + 16, 'seconds since the service joined its group', { fill: '#555' }),
    text(left + 50, bottom + 36, `peak ${results.rssPeakMiB.toFixed(0)} MiB (VmHWM)`, {
      fill: '#333',
    }),
    legend(
      left + 60,
      panel.top + 14,
      series.map((s) => [s.label, s.color]),
    ),
  );
  return out.join('\n');
}

function axis(left: number, panel: Panel, max: number, label: (value: number) => string): string {
  const bottom = panel.top + panel.height;
  const out = [
    `<line x1="${left + 45}" x2="${left + panel.width}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max * tick) / 4;
    const y = bottom - (panel.height * tick) / 4;
    out.push(
      `<line x1="${left + 45}" x2="${left + panel.width}" y1="${y}" y2="${y}" stroke="#e2e2e2"/>`,
      text(left + 40, y + 4, label(value), { anchor: 'end', fill: '#555' }),
    );
  }
  return out.join('\n');
}

function legend(left: number, top: number, entries: Array<[string, string]>): string {
  return entries
    .map(
      ([label, color], index) =>
        `<line x1="${left}" x2="${left + 18}" y1="${top + index * 16}" y2="${top + index * 16}" stroke="${color}" stroke-width="3"/>` +
        text(left + 24, top + index * 16 + 4, label, {}),
    )
    .join('\n');
}

function text(
  x: number,
  y: number,
  content: string,
  style: { size?: number; weight?: string; anchor?: string; fill?: string },
): string {
  const attributes = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    style.size ? `font-size="${style.size}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    style.anchor ? `text-anchor="${style.anchor}"` : '',
    style.fill ? `fill="${style.fill}"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

function escapeXml(content: string): string {
  return content.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c,
  );
}

/** A round axis maximum a little above the largest value, in four round steps. */
function niceMax(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 4;
  const quarter = (value * 1.08) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(quarter));
  const step =
    [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((factor) => factor * magnitude >= quarter) ?? 10;
  return 4 * step * magnitude;
}

function compact(value: number): string {
  return value >= 1000
    ? `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`
    : String(Math.round(value));
}
