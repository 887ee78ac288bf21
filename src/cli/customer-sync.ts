import { describeFailure } from '../errors.ts';
import { migrateCommand, migrateHelp } from './commands/migrate.ts';
import { produceCommand, produceHelp } from './commands/produce.ts';
import { runCommand, runHelp } from './commands/run.ts';
import { tenantsCommand, tenantsHelp } from './commands/tenants.ts';
import { silenceKafkajsTimeoutWarning } from './silence-kafkajs-timeout-warning.ts';
import { ConfigurationError, UsageError } from './usage-error.ts';

silenceKafkajsTimeoutWarning();

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'run the service (what npm start runs)', help: runHelp, run: runCommand },
  migrate: { summary: 'apply database migrations', help: migrateHelp, run: migrateCommand },
  tenants: {
    summary: 'company configuration: tenants set|list',
    help: tenantsHelp,
    run: tenantsCommand,
  },
  produce: {
    summary: 'publish events from an NDJSON file or stdin',
    help: produceHelp,
    run: produceCommand,
  },
};

const USAGE = `usage: customer-sync <command> [options]

${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

customer-sync <command> --help shows a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined)
    throw new UsageError(`unknown command '${name}' (customer-sync --help lists them)`);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`customer-sync: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof ConfigurationError) {
      for (const problem of error.problems)
        process.stderr.write(`customer-sync: configuration: ${problem}\n`);
      process.exitCode = 78;
    } else {
      const { name: kind, code } = error as { name?: string; code?: string };
      process.stderr.write(
        `customer-sync: failed: ${kind ?? 'error'}${code ? ` (${code})` : ''}: ${(error as Error).message}\n`,
      );
      process.exitCode = 1;
    }
  },
);
