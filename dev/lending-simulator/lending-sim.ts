/**
 * The lending-system simulator as a program of its own (docker compose's `lending-sim`, local
 * runs): a development tool, so it lives in dev/ and the service's CLI and image do not carry it.
 */
import { loadCommandConfig } from '../../src/cli/load-command-config.ts';
import { parseCommandLine, UsageError } from '../../src/cli/usage-error.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startLendingSimulator } from './lending-simulator.ts';

export const lendingSimHelp = `node dev/lending-simulator/lending-sim.ts [--port 8090] [--host 0.0.0.0] [--seed S]
    [--latency-ms N] [--error-rate 0..1] [--timeout-rate 0..1] [--rate-limit-rate 0..1]
    [--retry-after-seconds N] [--token T]

Runs the lending-system simulator: a real HTTP server speaking
schemas/lending-system.openapi.json over deterministic, seeded customers and loans (externalIds
starting with "unknown-" are not found). Faults are injected at the given rates and can be
changed while it runs: PUT /admin/faults {"errorRate":0.5,"latencyMs":2000}. GET /healthz
answers when it is up. Needs no Kafka or database; LOG_LEVEL applies. Stops on SIGTERM/SIGINT.`;

export async function lendingSimCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    seed: { type: 'string' },
    'latency-ms': { type: 'string' },
    'error-rate': { type: 'string' },
    'timeout-rate': { type: 'string' },
    'rate-limit-rate': { type: 'string' },
    'retry-after-seconds': { type: 'string' },
    token: { type: 'string' },
  });
  const port = wholeNumber('--port', values.port ?? '8090', 65_535);
  const faults = {
    latencyMs: wholeNumber('--latency-ms', values['latency-ms'] ?? '0', 3_600_000),
    errorRate: rate('--error-rate', values['error-rate'] ?? '0'),
    timeoutRate: rate('--timeout-rate', values['timeout-rate'] ?? '0'),
    rateLimitRate: rate('--rate-limit-rate', values['rate-limit-rate'] ?? '0'),
    retryAfterSeconds: wholeNumber(
      '--retry-after-seconds',
      values['retry-after-seconds'] ?? '1',
      3_600,
    ),
  };
  const config = loadCommandConfig([]);
  const logger = createLogger({ level: config.logLevel, name: 'lending-sim' });
  const seed = values.seed ?? 'customer-sync';
  const simulator = await startLendingSimulator({
    port,
    seed,
    faults,
    logger,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
  });
  logger.info(
    { port: simulator.port, seed, faults, tokenRequired: values.token !== undefined },
    'lending simulator listening',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await simulator.close();
  logger.info('lending simulator stopped');
  return 0;
}

function wholeNumber(option: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max)
    throw new UsageError(`lending-sim: ${option} must be a whole number from 0 to ${max}`);
  return Number(text);
}

function rate(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1))
    throw new UsageError(`lending-sim: ${option} must be a number from 0 to 1`);
  return value;
}

if (import.meta.main) {
  try {
    if (process.argv.includes('--help') || process.argv.includes('-h')) {
      process.stdout.write(`${lendingSimHelp}\n`);
    } else {
      process.exitCode = await lendingSimCommand(process.argv.slice(2));
    }
  } catch (error) {
    // A usage error is one line and exit code 2, as for the customer-sync commands.
    process.stderr.write(`lending-sim: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
