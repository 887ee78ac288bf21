import { readFile } from 'node:fs/promises';
import type { Config } from '../../config/config.ts';
import { CustomerSyncError } from '../../errors.ts';
import type { SchemaRegistryClient } from './schema-registry-client.ts';

/**
 * Which schema of `schemas/` is registered under which subject, and the two things done with
 * them: register, and ask the registry whether they are compatible with what it holds.
 *
 * Subjects follow Confluent's TopicNameStrategy: `<topic>-value`. Compatibility is
 * FULL_TRANSITIVE on both: every version must be readable by every other, so upstream
 * producers, this service and downstream consumers can upgrade in any order, and replaying a
 * topic from its first message (SPEC §7) meets no version the reader cannot read.
 */
export const SUBJECT_COMPATIBILITY = 'FULL_TRANSITIVE';

/** The wire format a topic's subject holds: a topic carries one registered format. */
export type RequestFormat = 'avro' | 'json';

export interface SubjectSchema {
  subject: string;
  /** The file in schemas/ it comes from. */
  file: string;
  schemaType: 'AVRO' | 'JSON';
  /** The schema as registered: the file's JSON, minified. */
  schema: string;
}

const SCHEMAS_DIR = new URL('../../../schemas/', import.meta.url);
const FILES = {
  requestAvro: 'customer.update.requested.avsc',
  requestJson: 'customer.update.requested.schema.json',
  updatedAvro: 'customer.updated.avsc',
} as const;

export function topicValueSubject(topic: string): string {
  return `${topic}-value`;
}

async function readSchemaFile(
  subject: string,
  file: string,
  schemaType: SubjectSchema['schemaType'],
): Promise<SubjectSchema> {
  const text = await readFile(new URL(file, SCHEMAS_DIR), 'utf8');
  return { subject, file, schemaType, schema: JSON.stringify(JSON.parse(text)) };
}

/** The Avro schema of customer.updated under `<customer.updated topic>-value` (SPEC §5). */
export function customerUpdatedSubjectSchema(topics: Config['topics']): Promise<SubjectSchema> {
  return readSchemaFile(topicValueSubject(topics.customerUpdated), FILES.updatedAvro, 'AVRO');
}

/** Every subject `schemas/` defines for these topics. */
export async function subjectSchemas(
  topics: Config['topics'],
  requestFormat: RequestFormat,
): Promise<SubjectSchema[]> {
  const request =
    requestFormat === 'avro'
      ? readSchemaFile(topicValueSubject(topics.updateRequested), FILES.requestAvro, 'AVRO')
      : readSchemaFile(topicValueSubject(topics.updateRequested), FILES.requestJson, 'JSON');
  return Promise.all([request, customerUpdatedSubjectSchema(topics)]);
}

export interface RegisteredSchema {
  subject: string;
  id: number;
  version: number;
  /** False when this exact schema was already registered under the subject. */
  created: boolean;
}

export type CompatibilityCheck =
  | { subject: string; verdict: 'registered'; version: number; id: number }
  | { subject: string; verdict: 'new-subject' }
  | { subject: string; verdict: 'compatible'; compatibility: string | undefined }
  | {
      subject: string;
      verdict: 'incompatible';
      compatibility: string | undefined;
      reasons: string[];
    };

/**
 * Registers `schema` under its subject with our compatibility policy, or finds it registered
 * already. A schema the registry refuses as incompatible fails with `schema.incompatible`.
 */
export async function registerSubjectSchema(
  registry: SchemaRegistryClient,
  schema: SubjectSchema,
): Promise<RegisteredSchema> {
  const existing = await lookUp(registry, schema);
  if (existing !== undefined) return { ...existing, subject: schema.subject, created: false };

  // The policy first, so that the new version is judged by it (a new subject is allowed).
  await setSubjectCompatibility(registry, schema.subject);

  const versions = `/subjects/${encodeURIComponent(schema.subject)}/versions`;
  const registered = await registry.request('POST', versions, bodyOf(schema));
  if (registered.status === 409) {
    throw new CustomerSyncError(
      'schema.incompatible',
      `${schema.subject}: ${schema.file} is not ${SUBJECT_COMPATIBILITY} compatible with the registered versions (${registryMessage(registered)})`,
      { canRetry: false },
    );
  }
  if (registered.status !== 200) throw unexpected(`POST ${versions}`, registered);
  const found = await lookUp(registry, schema);
  if (found === undefined) throw unexpected(`POST /subjects/${schema.subject}`, registered);
  return { ...found, subject: schema.subject, created: true };
}

/** Sets the subject's compatibility to our policy (SUBJECT_COMPATIBILITY). */
export async function setSubjectCompatibility(
  registry: SchemaRegistryClient,
  subject: string,
): Promise<void> {
  const path = `/config/${encodeURIComponent(subject)}`;
  const answer = await registry.request('PUT', path, { compatibility: SUBJECT_COMPATIBILITY });
  if (answer.status !== 200) throw unexpected(`PUT ${path}`, answer);
}

/** Asks the registry whether `schema` could be registered under its subject now. */
export async function checkSubjectSchema(
  registry: SchemaRegistryClient,
  schema: SubjectSchema,
): Promise<CompatibilityCheck> {
  const { subject } = schema;
  const existing = await lookUp(registry, schema);
  if (existing !== undefined) return { subject, verdict: 'registered', ...existing };

  const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
  const answer = await registry.request('POST', path, bodyOf(schema));
  if (answer.status === 404) return { subject, verdict: 'new-subject' };
  const compatibility = await compatibilityOf(registry, subject);
  if (answer.status === 409 || answer.status === 422) {
    // The registry cannot even compare them (e.g. a JSON Schema against Avro versions).
    return { subject, verdict: 'incompatible', compatibility, reasons: [registryMessage(answer)] };
  }
  if (answer.status !== 200) throw unexpected(`POST ${path}`, answer);
  const body = answer.body as { is_compatible?: unknown; messages?: unknown; reason?: unknown };
  if (body.is_compatible === true) return { subject, verdict: 'compatible', compatibility };
  // Confluent answers `messages` (verbose=true), Apicurio a `reason`.
  const reasons = Array.isArray(body.messages)
    ? body.messages.map(String)
    : typeof body.reason === 'string'
      ? [body.reason]
      : [];
  return { subject, verdict: 'incompatible', compatibility, reasons };
}

async function lookUp(
  registry: SchemaRegistryClient,
  schema: SubjectSchema,
): Promise<{ id: number; version: number } | undefined> {
  const path = `/subjects/${encodeURIComponent(schema.subject)}`;
  const answer = await registry.request('POST', path, bodyOf(schema));
  if (answer.status === 404) return undefined;
  const body = answer.body as { id?: unknown; version?: unknown };
  if (answer.status !== 200 || typeof body.id !== 'number' || typeof body.version !== 'number')
    throw unexpected(`POST ${path}`, answer);
  return { id: body.id, version: body.version };
}

async function compatibilityOf(
  registry: SchemaRegistryClient,
  subject: string,
): Promise<string | undefined> {
  const answer = await registry.request('GET', `/config/${encodeURIComponent(subject)}`);
  const level = (answer.body as { compatibilityLevel?: unknown } | undefined)?.compatibilityLevel;
  return answer.status === 200 && typeof level === 'string' ? level : undefined;
}

function bodyOf(schema: SubjectSchema) {
  // Avro is the registry's default type and is sent without schemaType, as Confluent's
  // serializers do; some registries compare the request body when looking a schema up.
  return schema.schemaType === 'AVRO'
    ? { schema: schema.schema }
    : { schemaType: schema.schemaType, schema: schema.schema };
}

function registryMessage(response: { status: number; body: unknown }): string {
  const message = (response.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 500) : `HTTP ${response.status}`;
}

function unexpected(what: string, response: { status: number; body: unknown }) {
  // 5xx and auth failures may pass; a 4xx about our request will not.
  const canRetry = response.status >= 500 || response.status === 401 || response.status === 403;
  return new CustomerSyncError(
    canRetry ? 'schema_registry.unavailable' : 'schema_registry.rejected',
    `Schema Registry: ${what} answered ${registryMessage(response)}`,
    { canRetry },
  );
}
