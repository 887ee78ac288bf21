import { startLocalSchemaRegistry } from '../../dev/local-schema-registry.ts';
import { registerCleanup } from './cleanup.ts';

let localRegistry: Promise<string> | undefined;

/**
 * The base URL of a real Confluent-compatible Schema Registry for this test file:
 * TEST_SCHEMA_REGISTRY_URL (set by test/run.ts for the whole suite, or by hand), else a local
 * Apicurio Registry started for this file alone and stopped when it ends. Subjects are named
 * after each test's own topics, so files can share one registry.
 */
export function testSchemaRegistryUrl(): Promise<string> {
  const named = process.env.TEST_SCHEMA_REGISTRY_URL?.trim();
  if (named) return Promise.resolve(named);
  localRegistry ??= startLocalSchemaRegistry({
    log: (line) => console.error(`[schema registry] ${line}`),
  }).then((registry) => {
    registerCleanup(() => registry.stop());
    return registry.url;
  });
  return localRegistry;
}
