import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderChart } from './chart.ts';
import type { BenchResults } from './results.ts';

/** Writes latest.json and the chart, latest.svg, into `directory`. */
export async function writeResultFiles(
  results: BenchResults,
  directory: string,
): Promise<{ json: string; chart: string }> {
  await mkdir(directory, { recursive: true });
  const json = join(directory, 'latest.json');
  const chart = join(directory, 'latest.svg');
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(chart, renderChart(results));
  return { json, chart };
}
