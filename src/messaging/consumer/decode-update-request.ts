import type { KafkaMessage } from 'kafkajs';
import {
  type CustomerUpdateRequest,
  decodeJsonMessage,
  parseCustomerUpdateRequested,
} from '../../contracts/customer-update-requested.ts';
import { ERROR_CODES, type ValidationFailure } from '../../contracts/error-codes.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';

export type DecodedMessage =
  | { ok: true; request: CustomerUpdateRequest }
  | { ok: false; failure: ValidationFailure };

/** Turns a Kafka message into a validated request, or says why it cannot be one. */
export interface UpdateRequestDecoder {
  decode(message: KafkaMessage): Promise<DecodedMessage>;
}

/** Plain JSON values (SPEC §1); the schema-registry decoder wraps the same validation. */
export function createJsonUpdateRequestDecoder(options: {
  maxMessageBytes: number;
}): UpdateRequestDecoder {
  return {
    async decode(message) {
      const decoded = decodeJsonMessage(message.value, options.maxMessageBytes);
      if (!decoded.ok) return decoded;
      return validateDecodedValue(decoded.value, message.key);
    },
  };
}

/** SPEC §3 validation plus the SPEC §2 rule that the key names the same customer. */
export function validateDecodedValue(value: unknown, key: Buffer | null): DecodedMessage {
  const parsed = parseCustomerUpdateRequested(value);
  if (!parsed.ok) return parsed;
  const request = parsed.request;
  if (key !== null && key.length > 0 && key.toString('utf8') !== kafkaKeyOf(request)) {
    return {
      ok: false,
      failure: {
        code: ERROR_CODES.keyMismatch,
        message: 'the message key is not <tenantId>:<externalId> of the event',
      },
    };
  }
  return { ok: true, request };
}
