import { isAllowedLendingUrl } from '../../enrichment/lending-targets.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { createTenantRepository } from '../../persistence/tenant-repository.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';
import { parseCommandLine, UsageError, unknownAction } from '../usage-error.ts';

export const tenantsHelp = `customer-sync tenants set <tenantId> --task-types a,b[,…] [--lending-api-url URL]
customer-sync tenants list

Company configuration: which task types a tenant's events may name (SPEC §3), and optionally
the tenant's own lending-system URL. Changes apply to the next batch the service processes.`;

const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const TASK_TYPE = /^[A-Za-z0-9._-]{1,64}$/;

export async function tenantsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'set') return setTenant(rest);
  if (action === 'list') return listTenants(rest);
  throw unknownAction('tenants', ['set', 'list'], action);
}

async function setTenant(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { 'task-types': { type: 'string' }, 'lending-api-url': { type: 'string' } },
    true,
  );
  const [tenantId, ...extra] = positionals;
  if (tenantId === undefined || extra.length > 0)
    throw new UsageError('tenants set: expected exactly one <tenantId>');
  if (!TENANT_ID.test(tenantId) || tenantId === '.' || tenantId === '..')
    throw new UsageError(
      "tenants set: <tenantId> must be 1..64 of A-Z a-z 0-9 . _ - (and not '.' or '..')",
    );
  const taskTypes = (values['task-types'] ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
  if (taskTypes.length === 0)
    throw new UsageError('tenants set: --task-types needs at least one task type');
  const badType = taskTypes.find((type) => !TASK_TYPE.test(type));
  if (badType !== undefined)
    throw new UsageError('tenants set: each task type must be 1..64 of A-Z a-z 0-9 . _ -');
  const url = values['lending-api-url'];
  if (url !== undefined && !URL.canParse(url))
    throw new UsageError('tenants set: --lending-api-url must be a URL');

  const config = loadCommandConfig(['database']);
  if (url !== undefined && !isAllowedLendingUrl(url, config.lendingApi.allowInsecureHttp))
    throw new UsageError(
      'tenants set: --lending-api-url must be an https:// URL (LENDING_API_ALLOW_INSECURE_HTTP=true allows http://, for development only)',
    );
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 1,
    timeouts: config.database.timeouts,
  });
  try {
    await createTenantRepository(database.db).save({
      tenantId,
      taskTypes: [...new Set(taskTypes)],
      ...(url !== undefined ? { lendingApiUrl: url } : {}),
    });
  } finally {
    await database.close();
  }
  process.stdout.write(`tenant ${tenantId}: task types ${[...new Set(taskTypes)].join(', ')}\n`);
  if (url !== undefined && !config.lendingApi.tenantTokens.has(tenantId)) {
    // SPEC §6: another company's token never goes to this tenant's server.
    process.stderr.write(
      `tenants set: note: the service needs a token of tenant ${tenantId}'s own in LENDING_API_TOKENS; until it has one, its enrichment jobs fail with lending.not_configured (LENDING_API_TOKEN is sent to LENDING_API_URL only)\n`,
    );
  }
  return 0;
}

async function listTenants(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, { json: { type: 'boolean' } });
  const config = loadCommandConfig(['database']);
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 1,
    timeouts: config.database.timeouts,
  });
  try {
    const tenants = await createTenantRepository(database.db).list();
    if (values.json) {
      process.stdout.write(`${terminalSafeJson(tenants)}\n`);
    } else {
      for (const tenant of tenants) {
        process.stdout.write(
          // The URL is stored as given: shown escaped, like any text a terminal would act on.
          `${tenant.tenantId}\t${tenant.taskTypes.join(',')}\t${terminalSafe(tenant.lendingApiUrl ?? '-')}\n`,
        );
      }
    }
  } finally {
    await database.close();
  }
  return 0;
}
