import pLimit from 'p-limit';
import type { AppliedBatch, TraceContext } from '../../application/apply-update-batch.ts';
import type { CustomerUpdateRequest } from '../../contracts/customer-update-requested.ts';
import { canRetry } from '../../errors.ts';
import type { ApplyBatch } from './update-chunk-processor.ts';

/** One partition's chunk waiting to go into a shared transaction. */
interface WaitingChunk {
  requests: CustomerUpdateRequest[];
  signal: AbortSignal | undefined;
  traceContextOf: ((eventId: string) => TraceContext | undefined) | undefined;
  settle: (result: Promise<AppliedBatch>) => void;
}

/**
 * Lets the chunks of different partitions that reach the database at the same moment share one
 * transaction. kafkajs hands a fetch's batches to its workers together, so at light load every
 * fetch brought one small chunk per partition, each paying a whole transaction (BEGIN, locks,
 * reads, writes, COMMIT) and, with more partitions than workers, waiting for a second wave of
 * them (docs/performance.md "Latency, traced"). Chunks that arrive in the same turn of the
 * event loop now go together, up to `maxRequests` in all; a full chunk goes alone at once, so
 * under load nothing changes.
 *
 * At most `maxTransactions` are in flight at once, the rest wait their turn in order: handling
 * many partitions at once costs little, but each transaction holds a connection and its
 * chunk's rows, so their number is what bounds the memory and the database's load.
 *
 * What holds as before (SPEC §4): each chunk's requests keep their order (a customer lives in
 * one partition, so its events are all in one chunk); the shared transaction commits all of
 * them or none; and each chunk gets its own outcomes. When the shared transaction fails:
 * - for a chunk's content (a poison event), each chunk is applied again on its own, so only the
 *   poisoned one hears of it and isolates its poison as before;
 * - because one chunk's attempt was abandoned, that chunk gets its own abort and the others
 *   are applied on their own;
 * - for a reason worth retrying (the database is away or slow), every chunk gets the error at
 *   once and retries on its own backoff: redoing each now would only double the load and the
 *   wait inside the attempt's deadline.
 */
export function sharingTransactions(
  unlimited: ApplyBatch,
  options: { maxRequests: number; maxTransactions: number },
): ApplyBatch {
  const inTurn = pLimit(options.maxTransactions);
  const apply: ApplyBatch = (requests, signal, traceContextOf) =>
    inTurn(() => unlimited(requests, signal, traceContextOf));
  let waiting: WaitingChunk[] = [];
  let waitingRequests = 0;

  function dispatch() {
    const group = waiting;
    waiting = [];
    waitingRequests = 0;
    if (group.length === 1) {
      const [only] = group as [WaitingChunk];
      only.settle(apply(only.requests, only.signal, only.traceContextOf));
    } else if (group.length > 1) {
      applyTogether(group);
    }
  }

  function applyTogether(group: WaitingChunk[]) {
    const shared = apply(
      group.flatMap((chunk) => chunk.requests),
      anySignal(group),
      traceContextOfAll(group),
    );
    // Each chunk's answer is either its slice of the shared one, or its own transaction.
    shared.then(
      ({ outcomes }) => {
        let start = 0;
        for (const chunk of group) {
          const mine = outcomes.slice(start, start + chunk.requests.length);
          start += chunk.requests.length;
          const announced = mine.filter((outcome) => outcome.kind === 'applied').length;
          chunk.settle(Promise.resolve({ outcomes: mine, announced }));
        }
      },
      (error: unknown) => {
        const abandoned = group.some((chunk) => chunk.signal?.aborted);
        for (const chunk of group) {
          if (chunk.signal?.aborted) chunk.settle(Promise.reject(chunk.signal.reason));
          else if (!abandoned && canRetry(error)) chunk.settle(Promise.reject(error));
          else chunk.settle(apply(chunk.requests, chunk.signal, chunk.traceContextOf));
        }
      },
    );
  }

  return (requests, signal, traceContextOf) => {
    // A full chunk has nothing to share; an abandoned attempt would only fail its group.
    if (requests.length >= options.maxRequests || signal?.aborted)
      return apply(requests, signal, traceContextOf);
    if (waitingRequests + requests.length > options.maxRequests) dispatch();
    return new Promise<AppliedBatch>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(dispatch);
      waiting.push({
        requests,
        signal,
        traceContextOf,
        settle: (result) => result.then(resolve, reject),
      });
      waitingRequests += requests.length;
    });
  };
}

/** The shared transaction is abandoned when any of its chunks' attempts is. */
function anySignal(group: readonly WaitingChunk[]): AbortSignal | undefined {
  const signals = group.flatMap((chunk) => (chunk.signal ? [chunk.signal] : []));
  return signals.length === 0 ? undefined : AbortSignal.any(signals);
}

function traceContextOfAll(
  group: readonly WaitingChunk[],
): ((eventId: string) => TraceContext | undefined) | undefined {
  const lookups = group.flatMap((chunk) => (chunk.traceContextOf ? [chunk.traceContextOf] : []));
  if (lookups.length === 0) return undefined;
  return (eventId) => {
    for (const lookup of lookups) {
      const context = lookup(eventId);
      if (context !== undefined) return context;
    }
    return undefined;
  };
}
