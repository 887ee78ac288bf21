/**
 * SPEC §1, §3, §5 with a real Confluent-compatible Schema Registry (Apicurio Registry locally,
 * Confluent's own image under testcontainers, or TEST_SCHEMA_REGISTRY_URL): requests in Avro
 * and JSON Schema wire format through the real service, customer.updated read back in Avro,
 * the failure codes, schema evolution, a registry outage, and the `schemas` commands.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { findFreePort } from '../../dev/free-port.ts';
import { startInfrastructure } from '../../dev/stack.ts';
import type { CustomerExplanation } from '../../src/application/explain-customer.ts';
import { toAvroUpdateRequest } from '../../src/contracts/customer-update-requested-avro.ts';
import {
  type CustomerUpdated,
  type CustomerUpdatedAvroRecord,
  fromAvroRecord,
  parseCustomerUpdated,
} from '../../src/contracts/customer-updated.ts';
import { createSchemaRegistryClient } from '../../src/messaging/schema-registry/schema-registry-client.ts';
import {
  registerSubjectSchema,
  topicValueSubject,
} from '../../src/messaging/schema-registry/schema-subjects.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment } from '../support/run-cli.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { startTcpProxy, type TcpProxy, urlTarget } from '../support/tcp-proxy.ts';
import { uniqueName } from '../support/test-environment.ts';
import { testSchemaRegistryUrl } from '../support/test-schema-registry.ts';
import { anUpdateRequest, type WireUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const SCHEMAS = new URL('../../schemas/', import.meta.url);
const requestAvsc = JSON.parse(
  readFileSync(new URL('customer.update.requested.avsc', SCHEMAS), 'utf8'),
) as { fields: Array<{ name: string; type: unknown }> };
const requestJsonSchema = readFileSync(
  new URL('customer.update.requested.schema.json', SCHEMAS),
  'utf8',
);

/** Runs `customer-sync …` as an operator would; resolves with its exit code and output. */
function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The shipped request schema with `data` fields removed or added: another version of it. */
function requestSchemaVersion(change: {
  remove?: string[];
  add?: Array<{ name: string; type: unknown; default: unknown }>;
}): string {
  const variant = structuredClone(requestAvsc);
  const data = variant.fields.find((field) => field.name === 'data')?.type as {
    fields: Array<{ name: string }>;
  };
  data.fields = data.fields.filter((field) => !change.remove?.includes(field.name));
  data.fields.push(...(change.add ?? []));
  return JSON.stringify(variant);
}

describe('the pipeline with a Schema Registry', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let service: ServiceProcess;
  let registryUrl: string;
  /** Between the service and the registry, so the test can take the registry away. */
  let registryProxy: TcpProxy;
  /** The test's own client, as an upstream producer or downstream consumer would have. */
  let registry: ReturnType<typeof createSchemaRegistryClient>;
  let requestSubject: string;
  let avroSchemaId: number;

  before(async () => {
    registryUrl = await testSchemaRegistryUrl();
    registryProxy = await startTcpProxy(urlTarget(registryUrl));
    registry = createSchemaRegistryClient({ url: registryUrl, timeoutMs: 10_000 });
    fixture = await startPipelineFixture({
      partitions: 2,
      env: { SCHEMA_REGISTRY_URL: registryProxy.proxiedUrl(registryUrl) },
    });
    requestSubject = topicValueSubject(fixture.topics.updateRequested);

    const registered = await runCli(['schemas', 'register'], {
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_UPDATE_REQUESTED: fixture.topics.updateRequested,
      TOPIC_CUSTOMER_UPDATED: fixture.topics.customerUpdated,
    });
    assert.equal(registered.code, 0, registered.stdout + registered.stderr);
    assert.match(
      registered.stdout,
      new RegExp(`^${requestSubject}: customer.update.requested.avsc registered as version 1`, 'm'),
    );
    avroSchemaId = await registry.library.getLatestSchemaId(requestSubject);
    service = await fixture.newService().start();
  });

  async function publishEncoded(
    requests: WireUpdateRequest[],
    encode: (r: WireUpdateRequest) => Promise<Buffer>,
  ) {
    await fixture.publishRaw(
      await Promise.all(
        requests.map(async (request) => ({
          key: `${String(request.tenantId)}:${String(request.externalId)}`,
          value: await encode(request),
        })),
      ),
    );
  }

  /** Another version of the request schema, registered under the topic's subject. */
  const registerRequestVersion = (change: Parameters<typeof requestSchemaVersion>[0]) =>
    registerSubjectSchema(registry, {
      subject: requestSubject,
      file: 'a test version of customer.update.requested.avsc',
      schemaType: 'AVRO',
      schema: requestSchemaVersion(change),
    });

  const publishAvro = (requests: WireUpdateRequest[], schemaId = avroSchemaId) =>
    publishEncoded(requests, (request) =>
      registry.library.encode(schemaId, toAvroUpdateRequest(request)),
    );

  /** customer.updated as a downstream consumer reads it: Avro, schema from the registry. */
  async function announcements(): Promise<Array<{ event: CustomerUpdated; schemaId: number }>> {
    return Promise.all(
      fixture.updated.messages.map(async (message) => {
        const value = message.value as Buffer;
        const record = (await registry.library.decode(value)) as CustomerUpdatedAvroRecord;
        const parsed = parseCustomerUpdated(fromAvroRecord(record));
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
        return { event: parsed.event, schemaId: value.readInt32BE(1) };
      }),
    );
  }

  async function announcementOf(causationId: unknown) {
    return waitFor(`the customer.updated caused by ${String(causationId)}`, async () =>
      (await announcements()).find(({ event }) => event.causationId === causationId),
    );
  }

  function deadLetterOf(eventBytes: Buffer) {
    return fixture.deadLetters.messages.find((message) => message.value?.equals(eventBytes));
  }

  async function metric(name: string, labels: string): Promise<number> {
    const running = service.logs.find((line) => line.msg === 'customer-sync is running');
    const response = await fetch(`http://127.0.0.1:${String(running?.httpPort)}/metrics`);
    const line = (await response.text())
      .split('\n')
      .find((text) => text.startsWith(`${name}{${labels}}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }

  it('applies Avro requests and announces customer.updated in its registered Avro schema', async () => {
    const created = anUpdateRequest()
      .withExternalId('avro-1')
      .occurredAt('2025-01-01T00:00:00Z')
      .withData({ firstName: ' Ann ', phone: '(415) 555-0132', metadata: { tier: 'gold' } })
      .build();
    const cleared = anUpdateRequest()
      .withExternalId('avro-1')
      .occurredAt('2025-01-02T00:00:00Z')
      .withData({ phone: null, lastName: 'Lee' })
      .build();
    await publishAvro([created, cleared]);

    const row = await waitFor('both Avro updates applied', async () => {
      const customer = await fixture.customer('tenant-a', 'avro-1');
      return customer?.version === 2 && customer;
    });
    assert.equal(row.first_name, 'Ann');
    assert.equal(row.last_name, 'Lee');
    assert.equal(row.phone, null, 'fieldsToClear cleared the phone');
    assert.deepEqual(row.metadata, { tier: 'gold' });

    const { event, schemaId } = await announcementOf(cleared.eventId);
    assert.deepEqual(event.changedFields.toSorted(), ['lastName', 'phone']);
    assert.equal(event.customer.firstName, 'Ann');
    assert.equal(event.customer.phone, null);
    assert.deepEqual(event.customer.metadata, { tier: 'gold' });
    const updatedSubject = topicValueSubject(fixture.topics.customerUpdated);
    assert.equal(schemaId, await registry.library.getLatestSchemaId(updatedSubject));
    const message = fixture.updated.messages.find((m) => m.headers['event.id'] === event.eventId);
    assert.equal(message?.headers['content-type'], 'avro/binary');
  });

  it('explain --history reads the Avro announcements back through the registry', async () => {
    const env = {
      ...cliEnvironment({ databaseUrl: fixture.databaseUrl, topics: fixture.topics }),
      SCHEMA_REGISTRY_URL: registryUrl,
    };
    const args = ['explain', 'tenant-a', 'avro-1', '--history', '--no-dlq', '--json'];
    const decoded = await runCli(args, env);
    assert.equal(decoded.code, 0, decoded.stderr);
    const expected = (await announcements())
      .map(({ event }) => event)
      .filter((event) => event.externalId === 'avro-1');
    const history = (JSON.parse(decoded.stdout) as CustomerExplanation).history;
    assert.equal(history.status, 'read');
    if (history.status !== 'read') return;
    assert.deepEqual(
      history.announcements.map((entry) => [
        entry.eventId,
        entry.event?.reason,
        entry.event?.version,
      ]),
      expected.map((event) => [event.eventId, 'update', event.customer.version]),
    );

    // Without the registry the values cannot be read; the eventId still comes from the header.
    const { SCHEMA_REGISTRY_URL: _registry, ...withoutRegistry } = env;
    const undecoded = JSON.parse(
      (await runCli(args, withoutRegistry)).stdout,
    ) as CustomerExplanation;
    assert.deepEqual(
      undecoded.history.status === 'read' &&
        undecoded.history.announcements.map((entry) => [entry.eventId, entry.event]),
      expected.map((event) => [event.eventId, undefined]),
    );
  });

  it('applies JSON Schema requests, validated against the schema they name', async () => {
    // A JSON Schema producer registers under a subject of its own naming strategy.
    const { id } = await registry.library.register(
      { type: SchemaType.JSON, schema: requestJsonSchema },
      { subject: `${fixture.topics.updateRequested}-json-value` },
    );
    const request = anUpdateRequest()
      .withExternalId('json-schema-1')
      .withData({ email: 'Bo@Example.COM', state: 'tx' })
      .build();
    const invalid = anUpdateRequest().withExternalId('json-schema-2').build();
    invalid.data = { taskType: 'collections', ssnLast4: '12345' };
    const json = (value: unknown) =>
      Buffer.concat([wireHeader(id), Buffer.from(JSON.stringify(value))]);
    const invalidBytes = json(invalid);
    await publishEncoded([request], (value) => registry.library.encode(id, value));
    await fixture.publishRaw([{ key: 'tenant-a:json-schema-2', value: invalidBytes }]);

    const row = await waitFor('the JSON Schema update applied', () =>
      fixture.customer('tenant-a', 'json-schema-1'),
    );
    assert.equal(row.email, 'Bo@example.com');
    assert.equal(row.state, 'TX');
    const letter = await waitFor('the value its JSON Schema rejects, dead-lettered', () =>
      deadLetterOf(invalidBytes),
    );
    assert.equal(letter.headers['error.code'], 'schema.mismatch');
    assert.match(letter.headers['error.message'] ?? '', /\/data\/ssnLast4/);
    assert.doesNotMatch(letter.headers['error.message'] ?? '', /12345/);
  });

  it('still accepts plain JSON when registry encoding is not required', async () => {
    const request = anUpdateRequest().withExternalId('plain-1').withData({ city: 'Reno' }).build();
    await fixture.publish([request]);
    const row = await waitFor('the plain JSON update applied', () =>
      fixture.customer('tenant-a', 'plain-1'),
    );
    assert.equal(row.city, 'Reno');
  });

  it('dead-letters an unknown schema id and a value its schema cannot read, bytes unchanged', async () => {
    const unknownId = Buffer.concat([
      wireHeader(2_000_000_000),
      Buffer.from('whatever the producer meant'),
    ]);
    const good = await registry.library.encode(
      avroSchemaId,
      toAvroUpdateRequest(anUpdateRequest().withExternalId('truncated-1').build()),
    );
    const truncated = good.subarray(0, 12);
    await fixture.publishRaw([
      { key: 'tenant-a:unknown-id-1', value: unknownId },
      { key: 'tenant-a:truncated-1', value: truncated },
    ]);

    const unknown = await waitFor('the unknown schema id dead-lettered', () =>
      deadLetterOf(unknownId),
    );
    assert.equal(unknown.headers['error.code'], 'schema.unknown_id');
    assert.equal(unknown.key, 'tenant-a:unknown-id-1');
    const mismatch = await waitFor('the truncated Avro value dead-lettered', () =>
      deadLetterOf(truncated),
    );
    // Cut short, its first string declares more bytes than are left (SPEC §4.4).
    assert.equal(mismatch.headers['error.code'], 'decode.length_exceeds_message');
  });

  it('processes producers on an older and on a newer compatible version of the request schema', async () => {
    // Both are registered under the topic's subject: the registry, at FULL_TRANSITIVE,
    // accepts them as compatible with the shipped schema.
    const older = await registerRequestVersion({
      remove: ['fieldsToClear', 'loanIds', 'loanReferenceId'],
    });
    const newer = await registerRequestVersion({
      add: [{ name: 'preferredLanguage', type: ['null', 'string'], default: null }],
    });
    assert.equal(new Set([avroSchemaId, older.id, newer.id]).size, 3);

    const fromOlder = anUpdateRequest()
      .withExternalId('evolution-1')
      .withData({ firstName: 'Old', enrich: false })
      .build();
    const fromNewer = anUpdateRequest()
      .withExternalId('evolution-2')
      .withData({ firstName: 'New', isTest: true })
      .build();
    await publishAvro([fromOlder], older.id);
    await publishAvro([fromNewer], newer.id);

    const olderRow = await waitFor('the older producer applied', () =>
      fixture.customer('tenant-a', 'evolution-1'),
    );
    const newerRow = await waitFor('the newer producer applied', () =>
      fixture.customer('tenant-a', 'evolution-2'),
    );
    assert.equal(olderRow.first_name, 'Old');
    assert.equal(newerRow.first_name, 'New');
    assert.equal(newerRow.is_test, true);
  });

  it('fetches a schema from the registry once, not per message', async () => {
    // A version of its own, so that the service has not fetched it before.
    const note = uniqueName('note').replace(/[^A-Za-z0-9_]/g, '_');
    const { id } = await registerRequestVersion({
      add: [{ name: note, type: ['null', 'string'], default: null }],
    });
    const lookupsBefore = await metric(
      'customer_sync_schema_registry_lookups_total',
      'outcome="found"',
    );
    const requests = Array.from({ length: 40 }, (_, index) =>
      anUpdateRequest().withExternalId(`cached-${index}`).withData({ zip: '78701' }).build(),
    );
    await publishAvro(requests, id);
    await waitFor('all 40 applied', async () => {
      const rows =
        await fixture.sql`select count(*)::int as count from customers where external_id like 'cached-%'`;
      return rows[0]?.count === 40;
    });
    const lookupsAfter = await metric(
      'customer_sync_schema_registry_lookups_total',
      'outcome="found"',
    );
    assert.equal(lookupsAfter - lookupsBefore, 1);
  });

  it('retries while the registry is unreachable, dead-letters nothing, and applies once it is back', async () => {
    // A schema the service has not seen yet, so decoding it needs the registry.
    const { id } = await registerRequestVersion({
      add: [{ name: 'outageMarker', type: ['null', 'string'], default: null }],
    });
    const request = anUpdateRequest()
      .withExternalId('outage-1')
      .withData({ city: 'Boise' })
      .build();
    const bytes = await registry.library.encode(id, toAvroUpdateRequest(request));
    const retriesBefore = service.logs.filter(
      (line) => line.msg === 'transient failure, partition paused, retrying',
    ).length;

    registryProxy.cut();
    await fixture.publishRaw([{ key: 'tenant-a:outage-1', value: bytes }]);
    await waitFor(
      'the service to retry on the unreachable registry',
      () =>
        service.logs.filter(
          (line) =>
            line.msg === 'transient failure, partition paused, retrying' &&
            (line.failure as { code?: string } | undefined)?.code === 'schema_registry.unavailable',
        ).length > retriesBefore,
      { timeoutMs: 30_000 },
    );
    assert.equal(await fixture.customer('tenant-a', 'outage-1'), undefined);
    assert.equal(deadLetterOf(bytes), undefined);

    registryProxy.restore();
    const row = await waitFor(
      'the update applied after the registry came back',
      () => fixture.customer('tenant-a', 'outage-1'),
      { timeoutMs: 60_000 },
    );
    assert.equal(row.city, 'Boise');
    assert.equal(deadLetterOf(bytes), undefined);
  });
});

describe('customer-sync schemas check and register', () => {
  it('says which subject is incompatible, exits 1, and registers nothing there', async () => {
    const registryUrl = await testSchemaRegistryUrl();
    const registry = createSchemaRegistryClient({ url: registryUrl, timeoutMs: 10_000 });
    const base = uniqueName('schemas-cli');
    const env = {
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_UPDATE_REQUESTED: `${base}.customer.update.requested`,
      TOPIC_CUSTOMER_UPDATED: `${base}.customer.updated`,
    };
    const requestSubject = topicValueSubject(env.TOPIC_UPDATE_REQUESTED);
    // A reader that requires a field the shipped schema does not send: not FULL compatible.
    const incompatible = structuredClone(requestAvsc);
    incompatible.fields.push({ name: 'legacyId', type: 'string' });
    await registerSubjectSchema(registry, {
      subject: requestSubject,
      file: 'an incompatible version',
      schemaType: 'AVRO',
      schema: JSON.stringify(incompatible),
    });

    const check = await runCli(['schemas', 'check'], env);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    const lines = check.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^${requestSubject}: INCOMPATIBLE: customer.update.requested.avsc breaks FULL_TRANSITIVE`,
      ),
    );
    assert.match(
      lines[1] ?? '',
      /customer\.updated-value: customer\.updated\.avsc is compatible: the subject has no versions yet$/,
    );

    const register = await runCli(['schemas', 'register'], env);
    assert.equal(register.code, 1);
    assert.match(register.stdout, new RegExp(`^${requestSubject}: NOT REGISTERED: `, 'm'));
    assert.match(
      register.stdout,
      /customer\.updated-value: customer\.updated\.avsc registered as version 1/,
    );

    const recheck = await runCli(['schemas', 'check'], env);
    assert.match(
      recheck.stdout,
      /customer\.updated\.avsc is registered \(version 1, schema id \d+\)/,
    );
  });

  it('names the missing variable without a registry URL', async () => {
    const result = await runCli(['schemas', 'check'], {});
    assert.equal(result.code, 78);
    assert.match(result.stderr, /SCHEMA_REGISTRY_URL is required/);
  });
});

describe('the Schema Registry of the test infrastructure', () => {
  it('uses the registry TEST_SCHEMA_REGISTRY_URL names, and fails naming it when it does not answer', async () => {
    const registryUrl = await testSchemaRegistryUrl();
    const named = {
      TEST_KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS,
      TEST_DATABASE_URL: process.env.TEST_DATABASE_URL,
    };
    const infrastructure = await startInfrastructure({
      schemaRegistry: true,
      env: { ...named, TEST_SCHEMA_REGISTRY_URL: registryUrl },
    });
    assert.equal(infrastructure.schemaRegistry?.url, registryUrl);
    assert.equal(infrastructure.how.schemaRegistry, 'environment');
    await infrastructure.stop();

    const deadUrl = `http://127.0.0.1:${await findFreePort()}/apis/ccompat/v7`;
    await assert.rejects(
      startInfrastructure({
        schemaRegistry: true,
        env: { ...named, TEST_SCHEMA_REGISTRY_URL: deadUrl },
      }),
      (error: Error & { code?: string }) =>
        error.code === 'SCHEMA_REGISTRY_UNREACHABLE' &&
        error.message.includes('TEST_SCHEMA_REGISTRY_URL'),
    );
  });
});

/** Confluent wire format header: magic byte 0 and the schema id, big-endian. */
function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return header;
}
