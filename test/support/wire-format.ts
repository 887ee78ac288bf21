import type { KafkaMessage } from 'kafkajs';

/** Confluent wire format: magic byte 0, the schema id as 4 bytes big-endian, the payload. */
export function wireFormat(schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

/** A consumed message as kafkajs hands it to a decoder. */
export function aKafkaMessage(value: Buffer, key: string | null = null): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value,
    offset: '0',
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}
