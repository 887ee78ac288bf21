import type { Config } from '../../config/config.ts';
import { createSchemaRegistryClient } from '../../messaging/schema-registry/schema-registry-client.ts';
import {
  type CompatibilityCheck,
  checkSubjectSchema,
  type RequestFormat,
  registerSubjectSchema,
  SUBJECT_COMPATIBILITY,
  type SubjectSchema,
  setSubjectCompatibility,
  subjectSchemas,
} from '../../messaging/schema-registry/schema-subjects.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { parseCommandLine, UsageError, unknownAction } from '../usage-error.ts';

export const schemasHelp = `customer-sync schemas register [--request-format avro|json]
customer-sync schemas check [--request-format avro|json]

The schemas in schemas/, in the Schema Registry at SCHEMA_REGISTRY_URL, under topic-name
subjects (<topic>-value, topics from TOPIC_UPDATE_REQUESTED and TOPIC_CUSTOMER_UPDATED):

  <TOPIC_UPDATE_REQUESTED>-value   customer.update.requested.avsc (--request-format json:
                                   customer.update.requested.schema.json)
  <TOPIC_CUSTOMER_UPDATED>-value   customer.updated.avsc

register  registers each schema and sets the subject's compatibility to ${SUBJECT_COMPATIBILITY}.
          Registering a schema that is already there changes nothing.
check     asks the registry whether each schema is compatible with the versions it holds,
          without registering anything: for upstream and downstream teams' CI.

One line per subject. Exit codes: 0 all registered / compatible, 1 a subject is incompatible
or the registry failed, 2 bad arguments, 78 configuration (SCHEMA_REGISTRY_URL is required;
SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD for basic auth).`;

export async function schemasCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'register' && action !== 'check') {
    throw unknownAction('schemas', ['register', 'check'], action);
  }
  const { values } = parseCommandLine(rest, { 'request-format': { type: 'string' } });
  const format = values['request-format'] ?? 'avro';
  if (format !== 'avro' && format !== 'json')
    throw new UsageError(`schemas ${action}: --request-format must be avro or json`);

  const config = loadCommandConfig(['schemaRegistry']);
  const schemas = await subjectSchemas(config.topics, format satisfies RequestFormat);
  const registry = registryOf(config);
  return action === 'register' ? register(registry, schemas) : check(registry, schemas);
}

function registryOf(config: Config) {
  return createSchemaRegistryClient({
    url: config.schemaRegistry.url ?? '',
    auth: config.schemaRegistry.auth,
    timeoutMs: config.schemaRegistry.timeoutMs,
  });
}

type Registry = ReturnType<typeof registryOf>;

async function register(registry: Registry, schemas: SubjectSchema[]): Promise<number> {
  let failures = 0;
  for (const schema of schemas) {
    try {
      const registered = await registerSubjectSchema(registry, schema);
      // Registering sets the policy; a subject that had the schema already gets it too.
      if (!registered.created) await setSubjectCompatibility(registry, schema.subject);
      const what = registered.created ? 'registered as' : 'already registered as';
      process.stdout.write(
        `${schema.subject}: ${schema.file} ${what} version ${registered.version} (schema id ${registered.id}), compatibility ${SUBJECT_COMPATIBILITY}\n`,
      );
    } catch (error) {
      failures += 1;
      process.stdout.write(`${schema.subject}: NOT REGISTERED: ${(error as Error).message}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

async function check(registry: Registry, schemas: SubjectSchema[]): Promise<number> {
  let failures = 0;
  for (const schema of schemas) {
    let result: CompatibilityCheck;
    try {
      result = await checkSubjectSchema(registry, schema);
    } catch (error) {
      failures += 1;
      process.stdout.write(`${schema.subject}: NOT CHECKED: ${(error as Error).message}\n`);
      continue;
    }
    if (result.verdict === 'incompatible') failures += 1;
    process.stdout.write(`${schema.subject}: ${describeCheck(schema, result)}\n`);
  }
  return failures === 0 ? 0 : 1;
}

function describeCheck(schema: SubjectSchema, result: CompatibilityCheck): string {
  switch (result.verdict) {
    case 'registered':
      return `${schema.file} is registered (version ${result.version}, schema id ${result.id})`;
    case 'new-subject':
      return `${schema.file} is compatible: the subject has no versions yet`;
    case 'compatible':
      return `${schema.file} is compatible with the registered versions (${result.compatibility ?? 'compatibility unknown'})`;
    case 'incompatible': {
      const reasons = result.reasons.length > 0 ? `: ${result.reasons.join('; ')}` : '';
      return `INCOMPATIBLE: ${schema.file} breaks ${result.compatibility ?? 'the subject compatibility'}${reasons}`;
    }
  }
}
