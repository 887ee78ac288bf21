import type { ValidationFailure } from '../contracts/error-codes.ts';
import type { UpdateOutcome } from './apply-update-batch.ts';

/**
 * What became of one message read from customer.update.requested: its batch outcome, or
 * dead-lettered (it could not be decoded, validated or applied), or skipped (a replay chose
 * not to process it). Counters, logs and the replay report all read it from here.
 */
export type MessageOutcome =
  | Exclude<UpdateOutcome, { kind: 'rejected' }>
  | { kind: 'dead-lettered'; failure: ValidationFailure }
  | { kind: 'skipped' };

export type MessageOutcomeKind = MessageOutcome['kind'];
