import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { type Admin, Kafka, logLevel, Partitioners } from 'kafkajs';
import postgres from 'postgres';
import { createDatabase, databaseUrl, dropDatabase } from '../dev/databases.ts';
import { loadConfig } from '../src/config/config.ts';
import { DEFAULT_CHUNK_SIZE } from '../src/messaging/consumer/update-consumer.ts';
import { registerKafkaCodecs } from '../src/messaging/kafka/kafka-client.ts';
import { createTopicsAndAwaitLeaders } from '../src/messaging/kafka/topics.ts';
import { connectDatabase } from '../src/persistence/database.ts';
import { applyMigrations } from '../src/persistence/migrate.ts';
import { createTenantRepository } from '../src/persistence/tenant-repository.ts';
import { measureDatabaseCeiling } from './database-ceiling.ts';
import { measureDebeziumJdbcSink, type PeerResult } from './debezium-jdbc-sink.ts';
import { MachineCpu } from './machine-cpu.ts';
import { measureNaiveConsumer } from './naive-consumer.ts';
import { measurePacedLatency } from './paced-latency.ts';
import { measureRelayThroughput, type RelayRun } from './relay-throughput.ts';
import { type BenchResults, TARGETS, targetsMet } from './results.ts';
import { imageRuntimeEnvironment, ServiceChild } from './service-child.ts';
import { waitForTopicCount } from './topic-count.ts';
import {
  generateWorkload,
  TASK_TYPES,
  takeWorkload,
  tenantIds,
  type WorkloadMessage,
  type WorkloadOptions,
} from './workload.ts';

export interface BenchmarkOptions {
  /** messages in the throughput workload */
  events: number;
  /** the naive consumer stops after this many messages or seconds, whichever comes first */
  naiveEvents: number;
  naiveSeconds: number;
  /** the naive consumer with prepared statements, as the service runs them */
  naivePrepared: boolean;
  /** offered load of the latency run, events per second */
  rate: number;
  latencySeconds: number;
  warmupSeconds: number;
  /** events the service consumes, unmeasured, before the throughput phase (0: none) */
  warmupEvents: number;
  partitions: number;
  workload: WorkloadOptions;
  /** extra environment for the service child (tuning experiments) */
  serviceEnv: Record<string, string>;
  /** write V8 CPU profiles of the service child here */
  cpuProfileDir?: string;
  /**
   * run the peer (Kafka Connect's Debezium JDBC sink) on the same events; `peerTasks` is its
   * tasks.max
   */
  peers: boolean;
  peerTasks: number;
  /** the relay-only phase with 1 replica and with this many (0: skip it) */
  relayReplicas: number;
  /** keep the bench databases and topics for inspection */
  keep: boolean;
  command: string;
  log: (line: string) => void;
}

export interface BenchInfrastructure {
  kafkaBrokers: string;
  /** a superuser URL: each phase gets a database of its own */
  databaseUrl: string;
  kafkaVersion: string;
  postgresVersion: string;
}

/**
 * One benchmark run, every phase on the same data: the database ceiling (write path from
 * memory), customer-sync end to end (the real service as a child process), the naive
 * per-message consumer, then latency at a paced offered load. Each phase writes into a fresh
 * database of its own; the service and the naive consumer read the very same topic.
 */
export async function runBenchmark(
  options: BenchmarkOptions,
  infrastructure: BenchInfrastructure,
): Promise<BenchResults> {
  const startedAt = new Date();
  const loadAverage = loadavg()[0] ?? 0;
  const { log } = options;
  const serviceDefaults = serviceConfigDefaults(options.serviceEnv);
  const run = `bench_${randomBytes(4).toString('hex')}`;
  registerKafkaCodecs(); // the service's customer.updated is compressed (KAFKA_COMPRESSION)
  const kafka = new Kafka({
    clientId: 'customer-sync-bench',
    brokers: infrastructure.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const databases: string[] = [];
  const topics: string[] = [];
  const newEmptyDatabase = async (phase: string) => {
    const name = `${run}_${phase}`;
    databases.push(name);
    return createDatabase(infrastructure.databaseUrl, name);
  };
  const newDatabase = async (phase: string) => {
    const name = `${run}_${phase}`;
    databases.push(name);
    return prepareDatabase(infrastructure.databaseUrl, name, options.workload);
  };
  const newTopic = async (name: string) => {
    const topic = `${run}.${name}`;
    topics.push(topic);
    await createTopicsAndAwaitLeaders(admin, [
      { topic, numPartitions: options.partitions, replicationFactor: 1 },
    ]);
    return topic;
  };

  try {
    log(`generating ${options.events.toLocaleString('en-US')} events`);
    const messages = takeWorkload(options.workload, options.events);

    log('database ceiling: the write path fed from memory');
    const ceilingDatabase = await newDatabase('ceiling');
    const ceiling = await measureDatabaseCeiling({
      databaseUrl: ceilingDatabase,
      messages,
      partitions: options.partitions,
      chunkSize: DEFAULT_CHUNK_SIZE,
      // one transaction per worker: as many as the service has in flight
      concurrency: serviceDefaults.transactionsConcurrently,
      poolMax: serviceDefaults.poolMax,
      maxDocumentBytes: serviceDefaults.maxDocumentBytes,
    });
    log(`  ${Math.round(ceiling.eventsPerSecond)} events/s (${ceiling.announced} announced)`);

    const requestTopic = await newTopic('customer.update.requested');
    log(`producing the workload to ${requestTopic}`);
    await produceAll(kafka, requestTopic, messages);

    if (options.warmupEvents > 0) {
      // A broker just started spends its first minute compiling its hot paths (the JVM's JIT):
      // measured cold, the service phase paid ten times the broker CPU per event it pays warm.
      // Production brokers are warm, so the service first runs once over other data.
      log(`warming up the broker and the service: ${options.warmupEvents} events`);
      const warmupTopic = await newTopic('warmup.customer.update.requested');
      await produceAll(
        kafka,
        warmupTopic,
        takeWorkload(
          { ...options.workload, seed: options.workload.seed + 2 },
          options.warmupEvents,
        ),
      );
      const warmup = new ServiceChild(
        serviceEnvironment(infrastructure, await newDatabase('warmup'), options, {
          groupId: `${run}-warmup`,
          requested: warmupTopic,
          updated: await newTopic('warmup.customer.updated'),
          deadLetter: await newTopic('warmup.customer.update.requested.dlq'),
        }),
      );
      await warmup.start();
      await waitForGroupToCatchUp(admin, `${run}-warmup`, warmupTopic, 600_000);
      await warmup.stop();
    }

    log('customer-sync end to end: the service as a child process');
    const serviceDatabase = await newDatabase('service');
    const updatedTopic = await newTopic('customer.updated');
    const serviceDeadLetters = await newTopic('customer.update.requested.dlq');
    const service = new ServiceChild(
      serviceEnvironment(infrastructure, serviceDatabase, options, {
        groupId: `${run}-service`,
        requested: requestTopic,
        updated: updatedTopic,
        deadLetter: serviceDeadLetters,
      }),
      options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {},
    );
    await service.start();
    const serviceMachineCpu = new MachineCpu(() => [service.pid]).start();
    const announcedAt = await waitForTopicCount(admin, updatedTopic, ceiling.announced, 600_000);
    const serviceSeconds = (announcedAt - service.joinedAt) / 1000;
    const serviceMachine = serviceMachineCpu.stop();
    // Events that announce nothing (duplicates, stale writes) may still be in flight: compare
    // the databases once the service has consumed the whole topic.
    await waitForGroupToCatchUp(admin, `${run}-service`, requestTopic, 600_000);
    await service.stop();
    const throughputService = messages.length / serviceSeconds;
    log(
      `  ${Math.round(throughputService)} events/s, peak RSS ${service.peakRssMiB.toFixed(0)} MiB`,
    );
    const consistent =
      (await customersDigest(ceilingDatabase)) === (await customersDigest(serviceDatabase));

    log('naive eachMessage consumer on the same topic');
    const naive = await measureNaiveConsumer({
      kafka,
      topic: requestTopic,
      deadLetterTopic: await newTopic('naive.dlq'),
      databaseUrl: await newDatabase('naive'),
      maxEvents: options.naiveEvents,
      maxSeconds: options.naiveSeconds,
      prepared: options.naivePrepared,
    });
    log(`  ${Math.round(naive.eventsPerSecond)} events/s over ${naive.events} events`);

    const relay: RelayRun[] = [];
    if (options.relayReplicas > 0) {
      for (const replicas of [...new Set([1, options.relayReplicas])]) {
        log(`relay only: ${replicas} replica(s), ${replicas} shard(s), the ceiling's outbox`);
        const topics = {
          requested: await newTopic(`relay${replicas}.customer.update.requested`),
          updated: await newTopic(`relay${replicas}.customer.updated`),
          deadLetter: await newTopic(`relay${replicas}.dlq`),
        };
        const databaseUrl = await newDatabase(`relay${replicas}`);
        const relayRun = await measureRelayThroughput({
          admin,
          backlogDatabaseUrl: ceilingDatabase,
          databaseUrl,
          replicas,
          environment: (groupId) =>
            serviceEnvironment(infrastructure, databaseUrl, options, {
              groupId: `${groupId}-${run}`,
              ...topics,
            }),
          updatedTopic: topics.updated,
          log,
        });
        relay.push(relayRun);
        log(`  ${Math.round(relayRun.eventsPerSecond)} events/s`);
      }
    }

    let peer: PeerResult | undefined;
    if (options.peers) {
      log('peer: Kafka Connect standalone with the Debezium JDBC sink, same events');
      peer = await measureDebeziumJdbcSink({
        kafka,
        brokers: infrastructure.kafkaBrokers,
        topic: await newTopic('peer.customer.rows'),
        databaseUrl: await newEmptyDatabase('peer'),
        messages,
        tasks: options.peerTasks,
        log: (line) => log(`  ${line}`),
      });
      log(`  ${Math.round(peer.eventsPerSecond)} events/s, ${peer.customers} rows`);
    }

    log(`latency at ${options.rate} events/s for ${options.latencySeconds} s`);
    const latencyRequests = await newTopic('latency.customer.update.requested');
    const latencyUpdated = await newTopic('latency.customer.updated');
    const pacedService = new ServiceChild(
      serviceEnvironment(infrastructure, await newDatabase('latency'), options, {
        groupId: `${run}-latency`,
        requested: latencyRequests,
        updated: latencyUpdated,
        deadLetter: await newTopic('latency.customer.update.requested.dlq'),
      }),
    );
    await pacedService.start();
    const pacedStartedAt = performance.now();
    const latency = await measurePacedLatency({
      kafka,
      requestTopic: latencyRequests,
      updatedTopic: latencyUpdated,
      workload: generateWorkload({ ...options.workload, seed: options.workload.seed + 1 }),
      rate: options.rate,
      seconds: options.latencySeconds,
      warmupSeconds: options.warmupSeconds,
    });
    const pacedSeconds = (performance.now() - pacedStartedAt) / 1000;
    if (latency.count === 0) {
      // Nothing to measure means the service stopped announcing: say what it logged.
      log(
        `  no customer.updated arrived after the warm-up; service log: ${pacedService.logTail(15)}`,
      );
    }
    await pacedService.stop();
    log(
      `  p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms; p50 applied at ${latency.stages.applied.p50.toFixed(0)} ms, published at ${latency.stages.published.p50.toFixed(0)} ms`,
    );

    const ratio = {
      vsNaive: throughputService / naive.eventsPerSecond,
      vsCeiling: throughputService / ceiling.eventsPerSecond,
      ...(peer ? { vsPeer: throughputService / peer.eventsPerSecond } : {}),
    };
    const rssPeakMiB = Math.max(service.peakRssMiB, pacedService.peakRssMiB);
    const latencyResult = {
      p50: latency.p50,
      p95: latency.p95,
      p99: latency.p99,
      max: latency.max,
      mean: latency.mean,
      count: latency.count,
      offeredRate: latency.offeredRate,
      achievedRate: latency.achievedRate,
      warmupSeconds: latency.warmupSeconds,
      timeline: latency.timeline,
      stages: latency.stages,
    };
    const phases: BenchResults['phases'] = {
      ceiling: {
        events: ceiling.events,
        seconds: ceiling.seconds,
        announced: ceiling.announced,
        cpuSeconds: ceiling.cpuSeconds,
        machineCpu: ceiling.machineCpu,
      },
      naive: { events: naive.events, seconds: naive.seconds },
      service: {
        events: messages.length,
        seconds: serviceSeconds,
        announced: ceiling.announced,
        rssPeakMiB: service.peakRssMiB,
        cpuSeconds: serviceMachine.service,
        machineCpu: serviceMachine,
      },
      latency: { sent: latency.sent, seconds: pacedSeconds, rssPeakMiB: pacedService.peakRssMiB },
      ...(relay.length > 0 ? { relay } : {}),
      ...(peer
        ? {
            peer: {
              events: peer.events,
              seconds: peer.seconds,
              customers: peer.customers,
              machineCpu: peer.machineCpu,
              settings: peer.settings,
            },
          }
        : {}),
    };
    const cpu = cpus();
    return {
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      command: options.command,
      events: messages.length,
      workload: { ...options.workload, partitions: options.partitions },
      throughput: {
        naive: naive.eventsPerSecond,
        service: throughputService,
        ceiling: ceiling.eventsPerSecond,
        ...(peer ? { peer: peer.eventsPerSecond } : {}),
      },
      ratio,
      latency: latencyResult,
      rssPeakMiB,
      phases,
      consistent,
      memory: { throughput: service.memory, latency: pacedService.memory },
      settings: {
        chunkSize: DEFAULT_CHUNK_SIZE,
        warmupEvents: options.warmupEvents,
        naiveStatements: options.naivePrepared ? 'prepared' : 'unprepared (drizzle default)',
        partitionsConsumedConcurrently: serviceDefaults.partitionsConsumedConcurrently,
        transactionsConcurrently: serviceDefaults.transactionsConcurrently,
        databasePoolMax: serviceDefaults.poolMax,
        ...imageRuntimeEnvironment(),
        ...options.serviceEnv,
      },
      targets: TARGETS,
      met: targetsMet({ ratio, latency: latencyResult, rssPeakMiB, phases }),
      machine: {
        cpus: cpu.length,
        cpuModel: cpu[0]?.model.trim() ?? 'unknown',
        memoryMiB: Math.round(totalmem() / 1024 / 1024),
        node: process.versions.node,
        platform: `${process.platform} ${process.arch}`,
        kafka: infrastructure.kafkaVersion,
        postgres: infrastructure.postgresVersion,
        loadAverage,
      },
    };
  } finally {
    if (!options.keep) {
      await admin.deleteTopics({ topics }).catch(() => {});
      for (const name of databases)
        await dropDatabase(infrastructure.databaseUrl, name).catch(() => {});
    } else {
      log(`kept databases ${databases.join(', ')} and topics ${topics.join(', ')}`);
    }
    await admin.disconnect();
  }
}

/** The service's own defaults, so the ceiling runs with the same batch and pool sizes. */
function serviceConfigDefaults(serviceEnv: Record<string, string>) {
  const loaded = loadConfig({
    KAFKA_BROKERS: 'localhost:9092',
    DATABASE_URL: 'postgres://localhost/bench',
    ...serviceEnv,
  });
  if (!loaded.ok) throw new Error(`bad service environment: ${loaded.problems.join('; ')}`);
  return {
    partitionsConsumedConcurrently: loaded.config.kafka.partitionsConsumedConcurrently,
    transactionsConcurrently: loaded.config.kafka.transactionsConcurrently,
    poolMax: loaded.config.database.poolMax,
    maxDocumentBytes: loaded.config.customerMaxDocumentBytes,
  };
}

function serviceEnvironment(
  infrastructure: BenchInfrastructure,
  url: string,
  options: BenchmarkOptions,
  names: { groupId: string; requested: string; updated: string; deadLetter: string },
): Record<string, string> {
  return {
    KAFKA_BROKERS: infrastructure.kafkaBrokers,
    KAFKA_GROUP_ID: names.groupId,
    DATABASE_URL: url,
    TOPIC_UPDATE_REQUESTED: names.requested,
    TOPIC_CUSTOMER_UPDATED: names.updated,
    TOPIC_DEAD_LETTER: names.deadLetter,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.serviceEnv,
  };
}

async function prepareDatabase(
  adminUrl: string,
  name: string,
  workload: WorkloadOptions,
): Promise<string> {
  await createDatabase(adminUrl, name);
  const url = databaseUrl(adminUrl, name);
  await applyMigrations(url);
  const connection = connectDatabase(url, { poolMax: 1, applicationName: 'bench-setup' });
  try {
    const tenants = createTenantRepository(connection.db);
    for (const tenantId of tenantIds(workload))
      await tenants.save({ tenantId, taskTypes: TASK_TYPES });
  } finally {
    await connection.close();
  }
  return url;
}

/**
 * Messages per send of the workload: with the bench's ~300-byte events over 6 partitions, about
 * 16 KiB per partition, the default batch.size of Kafka's Java producer.
 */
const PRODUCE_BATCH_MESSAGES = 300;

async function produceAll(kafka: Kafka, topic: string, messages: readonly WorkloadMessage[]) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // One send at a time: each key's messages reach Kafka in the order the ceiling applies them.
    // Each send becomes one record batch per partition; sends of PRODUCE_BATCH_MESSAGES keep
    // those near the 16 KiB batch.size of Kafka's own producer, as upstream systems write them.
    for (let start = 0; start < messages.length; start += PRODUCE_BATCH_MESSAGES) {
      await producer.send({
        topic,
        messages: messages
          .slice(start, start + PRODUCE_BATCH_MESSAGES)
          .map((message) => ({ key: message.key, value: message.value })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Waits until the group has committed the end of every partition of the topic. */
async function waitForGroupToCatchUp(
  admin: Admin,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic)).map((partition) => [
      partition.partition,
      partition.high,
    ]),
  );
  for (;;) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    // An empty partition has nothing to commit (its offset stays -1).
    const behind = (committed?.partitions ?? []).filter((partition) => {
      const end = BigInt(ends.get(partition.partition) ?? '0');
      return end > 0n && BigInt(partition.offset) < end;
    });
    if (committed !== undefined && behind.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`group ${groupId} did not consume ${topic} to its end`);
    await delay(50);
  }
}

/** Everything the events decide about each customer; timestamps of application left out. */
async function customersDigest(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ digest: string | null; count: number }[]>`
      select count(*)::int as count, md5(string_agg(
        concat_ws('|', tenant_id, external_id, task_type, first_name, last_name, email, birthday,
          ssn_last4, timezone, phone, address1, address2, city, state, zip, do_not_call, is_test,
          metadata::text, field_stamps::text, version),
        e'\\n' order by tenant_id, external_id)) as digest
      from customers`;
    return `${row?.count}:${row?.digest}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
