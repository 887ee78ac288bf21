import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import { CustomerSyncError } from '../../errors.ts';
import {
  boundedJsonSchema,
  createJsonSchemaCompiler,
  type JsonWriterSchema,
  type LibraryJsonSchema,
} from './json-schema-compiler.ts';
import { PatternWorkMeter, UNSUPPORTED_PATTERN } from './linear-time-regexp.ts';

/** Where the Confluent-compatible Schema Registry is, and how to talk to it (SPEC §8). */
export interface SchemaRegistryConnection {
  /** Base URL of the Confluent Schema Registry API (Apicurio: `…/apis/ccompat/v7`). */
  url: string;
  auth?: { username: string; password: string } | undefined;
  /** Per HTTP request; a registry that hangs must not hang a partition. */
  timeoutMs: number;
}

/** A writer schema as the decoder needs it: what kind, and the parsed schema. */
export type WriterSchema =
  /** An avsc type: read through decodeAvroBounded, never fromBuffer alone. */
  | { kind: 'avro'; schema: Type }
  | { kind: 'json'; schema: JsonWriterSchema }
  | { kind: 'unsupported'; schemaType: string }
  /** The registry says it has no schema with this id. */
  | { kind: 'unknown-id' }
  /** The registry has it, but it cannot be parsed or compiled here; `reason` names no data. */
  | { kind: 'unusable'; reason?: string };

/** The Schema Registry adapter: the wire format through the library, plus the REST calls. */
export interface SchemaRegistryClient {
  /** @kafkajs/confluent-schema-registry: encode/decode the wire format; caches schemas by id. */
  readonly library: SchemaRegistry;
  /**
   * The schema `id` names, fetched at most once per id (the library caches it; concurrent
   * misses share one request). Throws a retryable CustomerSyncError when the registry cannot
   * answer: an outage must pause the partition, never dead-letter (SPEC §4.5).
   */
  writerSchema(id: number): Promise<WriterSchema>;
  /** True when the schema of `id` is already in the cache, so no request will be made. */
  isCached(id: number): boolean;
  /** A JSON REST call to the registry; `body` is sent as the Schema Registry media type. */
  request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<RegistryResponse>;
}

export interface RegistryResponse {
  status: number;
  body: unknown;
}

/** Confluent's error code for "schema not found" (GET /schemas/ids/{id}); Apicurio uses it too. */
const SCHEMA_NOT_FOUND = 40403;
const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

export function createSchemaRegistryClient(
  connection: SchemaRegistryConnection,
): SchemaRegistryClient {
  const baseUrl = connection.url.replace(/\/+$/, '');
  // One meter for every JSON Schema: validation is synchronous, so one message at a time.
  const patternWork = new PatternWorkMeter();
  const library = new SchemaRegistry(
    {
      host: baseUrl,
      clientId: 'customer-sync',
      ...(connection.auth ? { auth: connection.auth } : {}),
      // Our consumer loop retries with backoff and the partition paused; the library's own
      // retries (5xx only) are kept short so that a failure reaches that loop soon.
      retry: { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
      middlewares: [requestTimeout(connection.timeoutMs)],
    },
    { [SchemaType.JSON]: { ajvInstance: createJsonSchemaCompiler(patternWork) } },
  );

  async function request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<RegistryResponse> {
    const headers: Record<string, string> = { accept: MEDIA_TYPE };
    if (body !== undefined) headers['content-type'] = MEDIA_TYPE;
    if (connection.auth) {
      const { username, password } = connection.auth;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(connection.timeoutMs),
      });
    } catch (error) {
      throw registryUnavailable(`${method} ${path} failed (${describeNetworkError(error)})`, error);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page, a wrong URL): callers judge by the status.
    }
    return { status: response.status, body: parsed };
  }

  /**
   * A 404 is only an unknown id if the registry says so with its error code: a wrong
   * SCHEMA_REGISTRY_URL answers 404 too, and must not send every message to the DLQ.
   */
  async function confirmsUnknownId(id: number): Promise<boolean> {
    const { status, body } = await request('GET', `/schemas/ids/${id}`);
    return status === 404 && (body as { error_code?: unknown })?.error_code === SCHEMA_NOT_FOUND;
  }

  /**
   * Schema ids are immutable, so a schema that cannot be compiled here never will be: remembered,
   * or the library (which caches only what compiles) would fetch and compile it per message.
   */
  const unusable = new Map<number, WriterSchema>();

  async function writerSchema(id: number): Promise<WriterSchema> {
    const known = unusable.get(id);
    if (known !== undefined) return known;
    let schema: unknown;
    try {
      schema = await library.getSchema(id);
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if ((error as { name?: unknown }).name !== 'ResponseError' || typeof status !== 'number') {
        // The registry answered with a schema the library cannot parse or compile.
        const refused: WriterSchema = { kind: 'unusable', ...reasonOf(error) };
        unusable.set(id, refused);
        return refused;
      }
      if (status === 404 && (await confirmsUnknownId(id))) return { kind: 'unknown-id' };
      throw registryUnavailable(
        `could not fetch schema ${id} (${describeFailedFetch(status, error)})`,
        error,
      );
    }
    const type = library.cache.getSchema(id)?.type;
    if (type === SchemaType.AVRO) return { kind: 'avro', schema: schema as Type };
    if (type === SchemaType.JSON) {
      return { kind: 'json', schema: boundedJsonSchema(schema as LibraryJsonSchema, patternWork) };
    }
    return { kind: 'unsupported', schemaType: String(type) };
  }

  return {
    library,
    writerSchema,
    isCached: (id) => unusable.has(id) || library.cache.getSchema(id) !== undefined,
    request,
  };
}

/**
 * Why a schema would not compile, when it is ours to say (a pattern RE2 cannot run). The
 * library rewraps compile errors keeping only their message, hence the match on it.
 */
function reasonOf(error: unknown): { reason?: string } {
  const message = error instanceof Error ? error.message : '';
  return message.startsWith(UNSUPPORTED_PATTERN) ? { reason: message.slice(0, 200) } : {};
}

function registryUnavailable(what: string, cause: unknown): CustomerSyncError {
  return new CustomerSyncError('schema_registry.unavailable', `Schema Registry: ${what}`, {
    canRetry: true,
    cause,
  });
}

/**
 * mappersmith reports a request that never got an answer (refused, reset, timed out) as a
 * status 400 whose message names the network error; that is what an operator needs to see.
 */
function describeFailedFetch(status: number, error: unknown): string {
  const message = String((error as { message?: unknown }).message ?? '');
  const network = /\b(E[A-Z]{4,}|socket hang up|Timeout \(\d+ms\))/.exec(message)?.[1];
  if (status === 400 && network !== undefined) return `unreachable: ${network}`;
  if (status === 404) {
    return 'HTTP 404 without a Schema Registry error code: is SCHEMA_REGISTRY_URL the API root (Apicurio: …/apis/ccompat/v7)?';
  }
  return `HTTP ${status}`;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const name = (error as { name?: unknown }).name;
  return name === 'TimeoutError' ? 'timed out' : String(name ?? 'network error');
}

type Middleware = NonNullable<
  ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']
>[number];

/** mappersmith has no timeout by default: a registry that accepts and never answers would hang. */
function requestTimeout(timeoutMs: number): Middleware {
  return () => ({
    prepareRequest: (next) => next().then((request) => request.enhance({ timeout: timeoutMs })),
  });
}
