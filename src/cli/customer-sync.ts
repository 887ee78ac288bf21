import { pino } from 'pino';
import { createLogger } from '../observability/logger.ts';
import { logProcessFailures } from '../observability/process-failure-handlers.ts';
import { waitForDependencies } from './reach-dependencies.ts';
import { reportKnownFailure } from './report-failure.ts';
import { silenceKafkajsTimeoutWarning } from './silence-kafkajs-timeout-warning.ts';
import { didYouMean, OptionError, UsageError } from './usage-error.ts';

silenceKafkajsTimeoutWarning();

interface LoadedCommand {
  help: string;
  run(args: string[]): Promise<number>;
}

interface Command {
  summary: string;
  /** connects to Postgres or Kafka, so takes --wait (reach-dependencies.ts) */
  connects?: true;
  /** imported when used: a command loads only its own dependencies (memory, start-up time) */
  load(): Promise<LoadedCommand>;
}

const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'run the service (what npm start runs)',
    load: async () => {
      const { runHelp, runCommand } = await import('./commands/run.ts');
      return { help: runHelp, run: runCommand };
    },
  },
  migrate: {
    summary: 'apply database migrations',
    connects: true,
    load: async () => {
      const { migrateHelp, migrateCommand } = await import('./commands/migrate.ts');
      return { help: migrateHelp, run: migrateCommand };
    },
  },
  tenants: {
    summary: 'company configuration: tenants set|list',
    connects: true,
    load: async () => {
      const { tenantsHelp, tenantsCommand } = await import('./commands/tenants.ts');
      return { help: tenantsHelp, run: tenantsCommand };
    },
  },
  enrichment: {
    summary: 'enrichment jobs: enrichment list|retry',
    connects: true,
    load: async () => {
      const { enrichmentHelp, enrichmentCommand } = await import('./commands/enrichment.ts');
      return { help: enrichmentHelp, run: enrichmentCommand };
    },
  },
  schemas: {
    summary: 'Schema Registry: schemas register|check',
    load: async () => {
      const { schemasHelp, schemasCommand } = await import('./commands/schemas.ts');
      return { help: schemasHelp, run: schemasCommand };
    },
  },
  produce: {
    summary: 'publish events from an NDJSON file or stdin',
    connects: true,
    load: async () => {
      const { produceHelp, produceCommand } = await import('./commands/produce.ts');
      return { help: produceHelp, run: produceCommand };
    },
  },
  replay: {
    summary: 're-run a range of customer.update.requested through the apply path',
    connects: true,
    load: async () => {
      const { replayHelp, replayCommand } = await import('./commands/replay.ts');
      return { help: replayHelp, run: replayCommand };
    },
  },
  dlq: {
    summary: 'dead letters: dlq list|show|redrive',
    connects: true,
    load: async () => {
      const { dlqHelp, dlqCommand } = await import('./commands/dlq.ts');
      return { help: dlqHelp, run: dlqCommand };
    },
  },
  explain: {
    summary: 'which event last wrote each field of a customer, and what was announced',
    load: async () => {
      const { explainHelp, explainCommand } = await import('./commands/explain.ts');
      return { help: explainHelp, run: explainCommand };
    },
  },
  parked: {
    summary: 'records the broker refused for good: parked list|show|retry',
    load: async () => {
      const { parkedHelp, parkedCommand } = await import('./commands/parked.ts');
      return { help: parkedHelp, run: parkedCommand };
    },
  },
  republish: {
    summary: 're-emit current customer snapshots to customer.updated',
    connects: true,
    load: async () => {
      const { republishHelp, republishCommand } = await import('./commands/republish.ts');
      return { help: republishHelp, run: republishCommand };
    },
  },
};

const USAGE = `usage: customer-sync <command> [options]

${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`)
  .join('\n')}

customer-sync <command> --help shows a command's options.
A command that connects to Postgres or Kafka gives one that does not answer 5 s, then fails
(exit 69); with --wait it waits as the service does, up to STARTUP_TIMEOUT_MS, and says so.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined)
    throw new UsageError(
      `unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))} (customer-sync --help lists them)`,
    );
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  // --wait belongs to every command that connects, so it is taken here, not by each parser.
  if (args.includes('--wait')) {
    if (!entry.connects)
      throw new UsageError(
        name === 'run'
          ? 'run: the service always waits for Postgres and Kafka (STARTUP_TIMEOUT_MS); --wait is for the other commands'
          : `${name}: --wait is for commands that connect to Postgres or Kafka`,
      );
    waitForDependencies(true);
  }
  try {
    return await command.run(args.filter((arg) => arg !== '--wait'));
  } catch (error) {
    if (error instanceof OptionError)
      throw new UsageError(`${error.message} (customer-sync ${name} --help shows the usage)`);
    throw error;
  }
}

// Until a command routes them to its own logger: errors only, as JSON lines on stderr.
const fallbackLogger = createLogger({ level: 'error', name: 'customer-sync' }, pino.destination(2));
logProcessFailures(fallbackLogger);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = reportKnownFailure(error);
    if (code !== undefined) {
      process.exitCode = code;
    } else {
      // Through the logger: a driver's error carries query parameters that Node would print.
      fallbackLogger.error({ err: error }, `customer-sync ${process.argv[2] ?? ''} failed`);
      process.exitCode = 1;
    }
  },
);
