import type { IHeaders } from 'kafkajs';
import type { TraceContext } from '../application/apply-update-batch.ts';

/** A W3C trace context (https://www.w3.org/TR/trace-context/), as headers carry it. */
export type TraceCarrier = TraceContext;

/** The spans of one chunk of the input topic: its processing and its database transaction. */
export interface ChunkTrace {
  /** the context the announcement of message `index` continues (undefined: none came in) */
  contextOf(index: number): TraceCarrier | undefined;
  /** runs one attempt at the chunk's transaction inside a span of its own */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  end(failure?: unknown): void;
}

/** The spans of one produce request of the relay, one per record that carries a context. */
export interface PublishTrace {
  /** the trace headers of record `index` (undefined: it carries no context) */
  headersOf(index: number): TraceCarrier | undefined;
  end(failure?: unknown): void;
}

/**
 * OpenTelemetry tracing with the messaging semantic conventions (README "Tracing"). The
 * service holds a Tracing only when tracing is enabled: with it off, the hot path makes no
 * call at all, and the SDK is never loaded (see loadTracing).
 */
export interface Tracing {
  startChunk(chunk: {
    topic: string;
    partition: number;
    messages: ReadonlyArray<{ offset: string; headers?: IHeaders }>;
  }): ChunkTrace;
  startPublish(topic: string, contexts: ReadonlyArray<TraceCarrier | undefined>): PublishTrace;
  /** exports what is buffered, then stops */
  shutdown(): Promise<void>;
}
