import type { Config } from '../config/config.ts';
import type { Tracing } from './tracing.ts';

/**
 * The tracing the configuration asks for: undefined when it is off (the default), else the
 * OpenTelemetry SDK, imported only now so that a service without tracing never loads it.
 */
export async function loadTracing(config: Pick<Config, 'tracing'>): Promise<Tracing | undefined> {
  if (config.tracing === undefined) return undefined;
  const { createOpenTelemetryTracing } = await import('./open-telemetry-tracing.ts');
  return createOpenTelemetryTracing(config.tracing);
}
