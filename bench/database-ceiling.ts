import { Partitioners } from 'kafkajs';
import { applyUpdateBatch } from '../src/application/apply-update-batch.ts';
import type { CustomerUpdateRequest } from '../src/contracts/customer-update-requested.ts';
import { createJsonUpdateRequestDecoder } from '../src/messaging/consumer/decode-update-request.ts';
import { connectDatabase } from '../src/persistence/database.ts';
import { createUpdateBatchStore } from '../src/persistence/update-batch-store.ts';
import { type CpuSeconds, MachineCpu } from './machine-cpu.ts';
import type { WorkloadMessage } from './workload.ts';

export interface CeilingResult {
  /** validated requests applied (messages that fail decoding never reach the database) */
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** customer.updated rows written to the outbox: what the service must publish */
  announced: number;
  /** CPU this process spent on the write path (merge, SQL parameters, driver) */
  cpuSeconds: number;
  /** the whole machine's CPU while the clock ran, by process */
  machineCpu: CpuSeconds;
}

/**
 * The database ceiling: the service's own write path (applyUpdateBatch on the set-based
 * update-batch-store) fed from memory, with no Kafka in the way. Requests are split by the same
 * partitioner Kafka uses, applied in chunks of the consumer's chunk size, with as many
 * partitions in flight as the consumer runs concurrently, each partition in order.
 * Decoding happens before the clock starts: this is what the database can take.
 */
export async function measureDatabaseCeiling(options: {
  databaseUrl: string;
  messages: readonly WorkloadMessage[];
  partitions: number;
  chunkSize: number;
  concurrency: number;
  poolMax: number;
  /** the service's CUSTOMER_MAX_DOCUMENT_BYTES: the ceiling applies the same rules */
  maxDocumentBytes: number;
}): Promise<CeilingResult> {
  const queues = await decodeByPartition(options.messages, options.partitions);
  const chunks = queues.map((requests) => chunk(requests, options.chunkSize));
  const database = connectDatabase(options.databaseUrl, {
    poolMax: options.poolMax,
    applicationName: 'bench-ceiling',
  });
  const store = createUpdateBatchStore(database.db);
  let announced = 0;
  try {
    const busy = new Set<number>();
    const next = chunks.map(() => 0);
    // Round robin over partitions, never two chunks of one partition at once (per-key order).
    const takeChunk = (): [number, CustomerUpdateRequest[]] | undefined => {
      for (let partition = 0; partition < chunks.length; partition++) {
        const queue = chunks[partition] as CustomerUpdateRequest[][];
        const position = next[partition] as number;
        if (!busy.has(partition) && position < queue.length) {
          busy.add(partition);
          next[partition] = position + 1;
          return [partition, queue[position] as CustomerUpdateRequest[]];
        }
      }
      return undefined;
    };
    const worker = async () => {
      for (let taken = takeChunk(); taken !== undefined; taken = takeChunk()) {
        const [partition, requests] = taken;
        const applied = await applyUpdateBatch(store, requests, {
          maxDocumentBytes: options.maxDocumentBytes,
        });
        announced += applied.announced;
        busy.delete(partition);
      }
    };
    const machineCpu = new MachineCpu().start();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const machine = machineCpu.stop();
    const events = queues.reduce((sum, queue) => sum + queue.length, 0);
    return {
      events,
      seconds,
      eventsPerSecond: events / seconds,
      announced,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      machineCpu: machine,
    };
  } finally {
    await database.close();
  }
}

async function decodeByPartition(
  messages: readonly WorkloadMessage[],
  partitions: number,
): Promise<CustomerUpdateRequest[][]> {
  const decoder = createJsonUpdateRequestDecoder({ maxMessageBytes: 64 * 1024 });
  const partitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
  }));
  const queues: CustomerUpdateRequest[][] = Array.from({ length: partitions }, () => []);
  for (const message of messages) {
    const decoded = await decoder.decode({
      key: Buffer.from(message.key),
      value: message.value,
      timestamp: '0',
      attributes: 0,
      offset: '0',
      headers: {},
    });
    if (!decoded.ok) continue;
    const partition = partitionOf({
      topic: 'bench',
      partitionMetadata: partitionMetadata as never,
      message: { key: message.key, value: message.value },
    });
    queues[partition]?.push(decoded.request);
  }
  return queues;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    chunks.push(items.slice(start, start + size));
  return chunks;
}
