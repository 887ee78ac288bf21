import { setTimeout as delay } from 'node:timers/promises';
import { type Kafka, Partitioners } from 'kafkajs';
import postgres from 'postgres';
import { DEBEZIUM_JDBC_SINK_VERSION } from '../dev/kafka-connect-jars.ts';
import { startKafkaConnectStandalone } from '../dev/local-kafka-connect.ts';
import { type CpuSeconds, MachineCpu } from './machine-cpu.ts';
import { peerRecords } from './peer-records.ts';
import type { WorkloadMessage } from './workload.ts';

export interface PeerResult {
  /** records the sink consumed: one per workload message */
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** rows the sink ended with */
  customers: number;
  /** the whole machine's CPU while the clock ran, by process (`peer` is the Connect JVM) */
  machineCpu: CpuSeconds;
  settings: Record<string, string>;
}

/** Where the peer writes; the connector creates it (schema.evolution=basic). */
const PEER_TABLE = 'peer_customers';

/**
 * The peer a team would pick instead of customer-sync: Kafka Connect standalone running the
 * Debezium JDBC sink connector, upserting each record into Postgres by its key. It drains a
 * backlog of the same workload (peer-records.ts: JSON with schemas, keyed by customer) that
 * was produced before it started; the clock runs from the moment its sink task has its
 * partitions (as the service's runs from joining its group) until the table holds every
 * customer's last record.
 */
export async function measureDebeziumJdbcSink(options: {
  kafka: Kafka;
  brokers: string;
  topic: string;
  /** an empty database of the peer's own */
  databaseUrl: string;
  messages: readonly WorkloadMessage[];
  tasks: number;
  log: (line: string) => void;
  timeoutMs?: number;
}): Promise<PeerResult> {
  const peer = peerRecords(options.messages);
  await produceRecords(options.kafka, options.topic, peer.records);
  const url = new URL(options.databaseUrl);
  const connector = {
    name: 'customer-sync-bench-peer',
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': String(options.tasks),
    topics: options.topic,
    'connection.url': `jdbc:postgresql://${url.hostname}:${url.port || '5432'}${url.pathname}`,
    'connection.username': decodeURIComponent(url.username),
    'connection.password': decodeURIComponent(url.password),
    'insert.mode': 'upsert',
    'primary.key.mode': 'record_key',
    'schema.evolution': 'basic',
    'collection.name.format': PEER_TABLE,
    'delete.enabled': 'false',
    // The workload's bad-JSON messages fail in the converter: skipped, as a team would run it.
    'errors.tolerance': 'all',
  };
  const connect = await startKafkaConnectStandalone({
    brokers: options.brokers,
    connector,
    log: options.log,
  });
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await connect.partitionsAssigned(180_000);
    let machineCpu: CpuSeconds;
    const machine = new MachineCpu().start();
    const startedAt = performance.now();
    try {
      await waitForSeqSum(sql, peer.expectedSeqSum, options.timeoutMs ?? 600_000);
    } finally {
      // Stopped on failure too: its sampling timer would keep the process alive.
      machineCpu = machine.stop();
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const [row] = await sql<{ count: number }[]>`
      select count(*)::int as count from ${sql(PEER_TABLE)}`;
    const { 'connection.password': _password, ...shown } = connector;
    return {
      events: peer.records.length,
      seconds,
      eventsPerSecond: peer.records.length / seconds,
      customers: row?.count ?? 0,
      machineCpu,
      settings: { ...shown, version: DEBEZIUM_JDBC_SINK_VERSION },
    };
  } finally {
    await sql.end({ timeout: 5 });
    await connect.stop();
  }
}

async function produceRecords(
  kafka: Kafka,
  topic: string,
  records: ReadonlyArray<{ key: Buffer; value: Buffer }>,
) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // Sends of 100 (~1.3 KiB records with their schemas): ~16 KiB batches per partition, the
    // Java producer's batch.size, as the service's workload is produced.
    for (let start = 0; start < records.length; start += 100)
      await producer.send({ topic, messages: records.slice(start, start + 100) });
  } finally {
    await producer.disconnect();
  }
}

/** Polls the peer's table until its sum of `seq` says every customer holds its last record. */
async function waitForSeqSum(sql: postgres.Sql, expected: bigint, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  let seen = 0n;
  for (;;) {
    try {
      const [row] = await sql<{ total: string | null }[]>`
        select sum(seq)::text as total from ${sql(PEER_TABLE)}`;
      seen = BigInt(row?.total ?? '0');
      if (seen === expected) return;
    } catch (error) {
      // Until the sink's first batch the table does not exist (42P01): keep waiting.
      if ((error as { code?: string }).code !== '42P01') throw error;
    }
    if (performance.now() > deadline)
      throw new Error(
        `the Debezium JDBC sink did not apply every record in ${timeoutMs} ms (sum of seq ${seen} of ${expected})`,
      );
    // A scan of ~20,000 rows every 50 ms: little of the cores being measured.
    await delay(50);
  }
}
