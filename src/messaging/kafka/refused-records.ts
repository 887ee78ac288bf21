/**
 * The broker's verdicts that a record can never be delivered as it is, whatever the retry:
 * its size or its content. Everything else (a broker down, a leader moving, authorisation,
 * an unsupported codec configured for the whole producer) is not the record's fault and is
 * retried as before (SPEC §4.5).
 */
export interface Refusal {
  /** stable, stored with the parked record (README "Parked records") */
  code: RefusalCode;
  /** PII-free: the broker's reason in words */
  message: string;
}

const REFUSALS = {
  MESSAGE_TOO_LARGE: {
    code: 'kafka.message_too_large',
    message: 'the broker refused the record: larger than the topic accepts (max.message.bytes)',
  },
  RECORD_LIST_TOO_LARGE: {
    code: 'kafka.record_list_too_large',
    message: 'the broker refused the record batch: larger than the topic accepts',
  },
  INVALID_RECORD: {
    code: 'kafka.invalid_record',
    message:
      'the broker refused the record as invalid for this topic (e.g. a null key on a compacted topic)',
  },
  INVALID_TIMESTAMP: {
    code: 'kafka.invalid_timestamp',
    message: 'the broker refused the record: its timestamp is out of the range the topic accepts',
  },
} as const;

export type RefusalCode = (typeof REFUSALS)[keyof typeof REFUSALS]['code'];

export const REFUSAL_CODES: readonly RefusalCode[] = Object.values(REFUSALS).map(
  (refusal) => refusal.code,
);

/**
 * The refusal a failed send carries, if it is one. kafkajs raises the broker's error as a
 * KafkaJSProtocolError with its `type`, wrapped in KafkaJSNonRetriableError (`cause`).
 */
export function refusalOf(error: unknown): Refusal | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { name, type } = current as { name?: unknown; type?: unknown };
    if (
      name === 'KafkaJSProtocolError' &&
      typeof type === 'string' &&
      Object.hasOwn(REFUSALS, type)
    )
      return REFUSALS[type as keyof typeof REFUSALS];
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
