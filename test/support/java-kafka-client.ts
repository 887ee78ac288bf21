import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findJava } from '../../dev/java-runtime.ts';
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from '../../dev/kafka-jars.ts';
import { testInfrastructure } from './test-environment.ts';

/**
 * The Apache Kafka Java client (the jars the local broker runs from, fetched once into
 * .cache/kafka), as a producer and consumer that are not kafkajs: what crosses the wire is
 * checked against the reference implementation of every codec (xerial snappy, Kafka's LZ4
 * frames, zstd-jni), not against our own code reading itself.
 */
const TOOL = fileURLToPath(new URL('./java/KafkaClientTool.java', import.meta.url));
const CACHE_DIR = fileURLToPath(new URL('../../.cache/', import.meta.url));

export type JavaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

async function runTool(args: string[], stdin: string, timeoutMs: number): Promise<string> {
  const java = await findJava({
    service: 'Kafka Java client of the wire tests',
    alternative: 'run the tests where Java is installed',
  });
  const jars = await ensureKafkaJars({
    version: DEFAULT_KAFKA_VERSION,
    cacheDir: CACHE_DIR,
    log: () => {},
  });
  return new Promise((resolve, reject) => {
    // Java 17 runs a single source file as it is: nothing to build or install.
    const child = spawn(java, ['-cp', jars.classpath, TOOL, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `the Java Kafka client (${args[0]}) exited with ${code ?? 'a signal'}: ${stderr.slice(-2_000)}`,
          ),
        );
    });
    child.stdin.end(stdin);
  });
}

/**
 * Sends records with the Java producer, batched (linger 200 ms, 256 KiB batches) and
 * compressed; `properties` override its settings (e.g. `batch.size`).
 */
export async function javaProduce(
  topic: string,
  compression: JavaCompression,
  records: Array<{ key: string; value: string; partition?: number }>,
  properties: Record<string, string> = {},
): Promise<void> {
  const broker = testInfrastructure().kafkaBrokers.split(',')[0] as string;
  const lines = records
    .map((record) =>
      [
        record.key,
        record.value,
        ...(record.partition === undefined ? [] : [record.partition]),
      ].join('\t'),
    )
    .join('\n');
  const overrides = Object.entries(properties).map(([name, value]) => `${name}=${value}`);
  await runTool(['produce', broker, topic, compression, ...overrides], `${lines}\n`, 180_000);
}

/** Reads the first `count` records of a topic with the Java consumer. */
export async function javaConsume(
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<Array<{ key: string; value: string }>> {
  const broker = testInfrastructure().kafkaBrokers.split(',')[0] as string;
  const output = await runTool(
    ['consume', broker, topic, String(count), String(timeoutMs)],
    '',
    timeoutMs + 60_000,
  );
  return output
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const tab = line.indexOf('\t');
      return { key: line.slice(0, tab), value: line.slice(tab + 1) };
    });
}
