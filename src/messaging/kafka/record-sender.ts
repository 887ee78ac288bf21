import type { CompressionTypes, Message, Producer } from 'kafkajs';
import type { Logger } from '../../observability/logger.ts';
import { RECORD_BATCH_OVERHEAD_BYTES, recordBytes, splitByBytes } from './record-bytes.ts';
import { type Refusal, refusalOf } from './refused-records.ts';

/** A message of a send that the broker refused for good, by its index in that send. */
export interface RefusedMessage {
  index: number;
  refusal: Refusal;
}

/**
 * Sends records so that nothing is too big to send and nothing refused holds up the rest
 * (SPEC §4.4). Used by the outbox relay and the dead-letter publisher.
 */
export interface RecordSender {
  connect(): Promise<void>;
  /**
   * Sends the messages in order, compressed, in requests that fit KAFKA_MAX_REQUEST_BYTES.
   * Resolves once every message is acknowledged or refused for good, with the refused ones;
   * throws what is worth retrying (the caller sends the same messages again).
   */
  send(topic: string, messages: Message[]): Promise<RefusedMessage[]>;
  disconnect(): Promise<void>;
}

export interface RecordSenderOptions {
  /** a new, unconnected producer: called at start and after each refusal (below) */
  createProducer: () => Producer;
  compression: CompressionTypes;
  maxRequestBytes: number;
  logger: Logger;
}

/** One producer and the sends it is carrying. */
interface Generation {
  producer: Producer;
  connected: Promise<void>;
  inFlight: number;
  retired: boolean;
}

/**
 * A refused send is split in halves until the refused record stands alone, and the rest is
 * delivered. After a refusal the producer is replaced: a request to several partitions can
 * be appended on some and refused on others, and kafkajs 2.2.4 then rewinds the idempotent
 * sequence numbers of all of them, so the next, different send to a partition that was
 * appended would be refused as out of order, or taken for a duplicate and dropped. A new
 * producer starts with a new producer id and fresh sequences; sends still in flight on the
 * old one finish before it disconnects. Partitions that were appended by a refused request
 * receive those records again (at least once, with their stable eventId: SPEC §4.6).
 */
export function createRecordSender(options: RecordSenderOptions): RecordSender {
  const budget = options.maxRequestBytes - RECORD_BATCH_OVERHEAD_BYTES;
  const log = options.logger.child({ component: 'record-sender' });
  const generations = new Set<Generation>();
  let current: Generation | undefined;

  function start(): Generation {
    const producer = options.createProducer();
    const generation: Generation = {
      producer,
      connected: producer.connect(),
      inFlight: 0,
      retired: false,
    };
    generation.connected.catch(() => retire(generation));
    generations.add(generation);
    return generation;
  }

  function retire(generation: Generation) {
    if (current === generation) current = undefined;
    generation.retired = true;
    if (generation.inFlight === 0) void close(generation);
  }

  async function close(generation: Generation) {
    if (!generations.delete(generation)) return;
    await generation.producer.disconnect().catch(() => {});
  }

  async function sendOnce(topic: string, messages: Message[]): Promise<void> {
    current ??= start();
    const generation = current;
    generation.inFlight++;
    try {
      await generation.connected;
      await generation.producer.send({ topic, messages, compression: options.compression });
    } catch (error) {
      if (refusalOf(error) !== undefined) retire(generation);
      throw error;
    } finally {
      generation.inFlight--;
      if (generation.retired && generation.inFlight === 0) void close(generation);
    }
  }

  async function sendIsolatingRefusals(
    topic: string,
    run: Array<{ index: number; message: Message }>,
    refused: RefusedMessage[],
  ): Promise<void> {
    try {
      await sendOnce(
        topic,
        run.map((item) => item.message),
      );
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) throw error;
      if (run.length === 1) {
        refused.push({ index: (run[0] as { index: number }).index, refusal });
        return;
      }
      log.warn(
        { topic, records: run.length, code: refusal.code },
        'the broker refused a send; sending its halves apart to find the refused record',
      );
      const half = Math.ceil(run.length / 2);
      await sendIsolatingRefusals(topic, run.slice(0, half), refused);
      await sendIsolatingRefusals(topic, run.slice(half), refused);
    }
  }

  return {
    async connect() {
      current ??= start();
      await current.connected;
    },
    async send(topic, messages) {
      const refused: RefusedMessage[] = [];
      const indexed = messages.map((message, index) => ({ index, message }));
      for (const run of splitByBytes(indexed, (item) => recordBytes(item.message), budget))
        await sendIsolatingRefusals(topic, run, refused);
      return refused;
    },
    async disconnect() {
      current = undefined;
      await Promise.all(
        [...generations].map(async (generation) => {
          generation.retired = true;
          await close(generation);
        }),
      );
    },
  };
}
