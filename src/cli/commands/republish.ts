import { randomUUID } from 'node:crypto';
import {
  type RepublishRun,
  type RepublishSelection,
  republishSnapshots,
} from '../../application/republish-snapshots.ts';
import { PATTERNS } from '../../domain/customer-field-rules.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { createRepublishStore } from '../../persistence/republish-store.ts';
import { EXIT_INTERRUPTED, stopOnInterrupt } from '../interrupt.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress } from '../progress.ts';
import { parseCount, parseExternalId, parseTenantId, parseTime } from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';

export const republishHelp = `customer-sync republish (--tenant <id> [--external-id <id>…] | --since <time> | --all) [options]

Re-emits the current snapshot of each chosen customer as a customer.updated event with
reason "republish" (SPEC §5), e.g. to backfill a new downstream subscriber. The events are
written to the outbox; the running service's outbox relay publishes them, in order with every
other change of the same customer.

Choosing customers (at least one):
  --tenant <tenantId>      one tenant's customers
  --external-id <id>       only these customers of --tenant (repeat it, or separate by commas)
  --since <time>           customers whose row changed at or after this RFC 3339 time
  --all                    every customer of every tenant

Options:
  --batch-size <n>         customers per transaction (1..10000, default 500)
  --rate <n>               at most n customers per second (default: as fast as the relay
                           keeps up; it waits while more than 10 batches wait in the outbox)
  --run-id <uuid>          resume this run (or start it under this id)
  --json                   print the result as JSON

Every event's eventId derives from the run id and the customer: one run announces each customer
once, however often it is resumed; a new run announces everyone again under new ids, and the
causationId of every event is the run id. Each batch commits its outbox rows and the run's
position together, so Ctrl-C (or a crash) loses nothing: \`--run-id <id>\` goes on from there.

Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.`;

interface RepublishArguments {
  selection: RepublishSelection;
  /** the operator chose nothing but --run-id: resume with the stored selection */
  selectionGiven: boolean;
  runId?: string;
  batchSize: number;
  ratePerSecond?: number;
  json: boolean;
}

function parseRepublishArguments(args: string[]): RepublishArguments {
  const { values } = parseCommandLine(args, {
    tenant: { type: 'string' },
    'external-id': { type: 'string', multiple: true },
    since: { type: 'string' },
    all: { type: 'boolean' },
    'batch-size': { type: 'string' },
    rate: { type: 'string' },
    'run-id': { type: 'string' },
    json: { type: 'boolean' },
  });
  const selection: RepublishSelection = {};
  if (values.tenant !== undefined)
    selection.tenantId = parseTenantId(values.tenant, 'republish: --tenant');
  const externalIds = (values['external-id'] ?? [])
    .flatMap((text) => text.split(','))
    .map((text) => text.trim())
    .filter(Boolean);
  if (values['external-id'] !== undefined) {
    if (selection.tenantId === undefined)
      throw new UsageError('republish: --external-id needs --tenant (external ids are per tenant)');
    if (externalIds.length === 0) throw new UsageError('republish: --external-id needs an id');
    selection.externalIds = [
      ...new Set(externalIds.map((id) => parseExternalId(id, 'republish: --external-id'))),
    ].sort();
  }
  if (values.since !== undefined)
    selection.updatedSince = parseTime(values.since, 'republish: --since').toISOString();
  const selectionGiven = Object.keys(selection).length > 0;
  if (values.all && selectionGiven)
    throw new UsageError('republish: --all cannot be combined with --tenant or --since');
  const runId = values['run-id'];
  if (runId !== undefined && !PATTERNS.uuid.test(runId))
    throw new UsageError('republish: --run-id must be a UUID (the run id printed at the start)');
  if (!selectionGiven && !values.all && runId === undefined) {
    throw new UsageError(
      'republish: choose the customers: --tenant, --since, or --all for every customer',
    );
  }
  return {
    selection,
    selectionGiven: selectionGiven || values.all === true,
    ...(runId !== undefined ? { runId: runId.toLowerCase() } : {}),
    batchSize:
      values['batch-size'] === undefined
        ? 500
        : parseCount(values['batch-size'], 'republish: --batch-size', 1, 10_000),
    ...(values.rate !== undefined
      ? { ratePerSecond: parseCount(values.rate, 'republish: --rate', 1, 1_000_000) }
      : {}),
    json: values.json === true,
  };
}

function sameSelection(a: RepublishSelection, b: RepublishSelection): boolean {
  const time = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));
  return (
    a.tenantId === b.tenantId &&
    JSON.stringify(a.externalIds ?? null) === JSON.stringify(b.externalIds ?? null) &&
    time(a.updatedSince) === time(b.updatedSince)
  );
}

function describeSelection(selection: RepublishSelection): string {
  const parts = [
    selection.tenantId !== undefined ? `tenant ${selection.tenantId}` : 'every tenant',
    selection.externalIds !== undefined ? `${selection.externalIds.length} external id(s)` : '',
    selection.updatedSince !== undefined ? `changed since ${selection.updatedSince}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

export async function republishCommand(args: string[]): Promise<number> {
  const options = parseRepublishArguments(args);
  const config = loadCommandConfig(['database']);
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 2,
    applicationName: 'customer-sync-republish',
    timeouts: config.database.timeouts,
  });
  const interruption = stopOnInterrupt('republish');
  try {
    const store = createRepublishStore(database.db, database.sql);
    const runId = options.runId ?? randomUUID();
    let run: RepublishRun = await store.startOrResume(runId, options.selection);
    const resumed = run.published > 0 || run.after !== undefined || run.finishedAt !== undefined;
    if (options.selectionGiven && !sameSelection(run.selection, options.selection)) {
      throw new UsageError(
        `republish: run ${runId} chose ${describeSelection(run.selection)}; resume it with --run-id alone`,
      );
    }
    if (run.finishedAt !== undefined) {
      return report(
        options,
        run,
        0,
        true,
        `run ${runId} finished at ${run.finishedAt}; nothing to do`,
      );
    }
    const remaining = await store.countRemaining(run);
    process.stderr.write(
      `republish run ${runId}${resumed ? ' (resumed)' : ''}: ${describeSelection(run.selection)}, ` +
        `${remaining} customer(s) to go. Ctrl-C stops; --run-id ${runId} resumes.\n`,
    );
    const progress = createProgress('republish', remaining);
    const result = await republishSnapshots({
      store,
      run,
      batchSize: options.batchSize,
      ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
      maxOutboxBacklog: options.batchSize * 10,
      signal: interruption.signal,
      onProgress: ({ published, waiting }) => progress.update(published, waiting),
    });
    run = result.run;
    progress.finish(
      result.completed
        ? `${result.publishedNow} customer(s) written to the outbox`
        : `interrupted after ${result.publishedNow} customer(s); resume with --run-id ${runId}`,
    );
    return report(options, run, result.publishedNow, result.completed);
  } finally {
    interruption.dispose();
    await database.close();
  }
}

function report(
  options: RepublishArguments,
  run: RepublishRun,
  publishedNow: number,
  completed: boolean,
  note?: string,
): number {
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        runId: run.runId,
        selection: run.selection,
        completed,
        publishedNow,
        publishedInRun: run.published,
        finishedAt: run.finishedAt ?? null,
      })}\n`,
    );
  } else {
    process.stdout.write(
      `${note ?? `run ${run.runId}: ${publishedNow} customer(s) republished now, ${run.published} in the run`}` +
        `${completed ? '' : ' (not finished)'}\n` +
        'the running service publishes them from the outbox to customer.updated\n',
    );
  }
  return completed ? 0 : EXIT_INTERRUPTED;
}
