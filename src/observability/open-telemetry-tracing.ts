import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { IHeaders } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { describeFailure } from '../errors.ts';
import { SERVICE_VERSION } from '../service-version.ts';
import type { ChunkTrace, PublishTrace, TraceCarrier, Tracing } from './tracing.ts';

type TracingConfig = NonNullable<Config['tracing']>;

/** Kafka header values are bytes (kafkajs: Buffer, string, or a list of them). */
const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** A failed span says what failed by its code only: error messages may carry more (PII). */
function endSpan(span: Span, failure: unknown) {
  if (failure !== undefined) {
    const { code, kind } = describeFailure(failure);
    span.setAttribute('error.type', code ?? kind);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? kind });
  }
  span.end();
}

/**
 * Tracing with the OpenTelemetry SDK, exported as OTLP/HTTP JSON. Spans follow the messaging
 * semantic conventions (messaging.system, messaging.operation.type, messaging.destination.*):
 *
 *   lending system's span ─► `process <input topic>` (CONSUMER, one per message with a context)
 *                                 │ its context is stored with the outbox row
 *                                 ▼
 *                            `send <customer.updated>` (PRODUCER) ─► traceparent header
 *
 * Each chunk also gets a `process <input topic>` span of its own (linked to every message's
 * context, as the conventions ask for batches) with the database transaction as its child;
 * the per-message spans link to it. A message that came without a context is announced in the
 * chunk's trace. Span attributes carry topics, partitions, offsets and counts, never a key
 * (it names the customer) or a value.
 */
export function createOpenTelemetryTracing(config: TracingConfig): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': config.serviceName,
      'service.version': SERVICE_VERSION,
    }),
    sampler: samplerOf(config),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: config.tracesUrl }),
        scheduledDelayMillis: config.scheduleDelayMs,
      }),
    ],
  });
  const tracer = provider.getTracer('customer-sync', SERVICE_VERSION);
  const propagator = new W3CTraceContextPropagator();

  const carrierOf = (span: Span): TraceCarrier => {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    return carrier as unknown as TraceCarrier;
  };
  const remoteContextOf = (headers: IHeaders | undefined): Context | undefined => {
    if (headers?.traceparent === undefined) return undefined;
    const extracted = propagator.extract(ROOT_CONTEXT, headers, kafkaHeaderGetter);
    return trace.getSpanContext(extracted) ? extracted : undefined;
  };

  return {
    startChunk({ topic, partition, messages }): ChunkTrace {
      const destination = {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
      };
      const remote = messages.map((message) => remoteContextOf(message.headers));
      const chunkSpan = tracer.startSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: { ...destination, 'messaging.batch.message_count': messages.length },
          links: remote.flatMap((context) => {
            const spanContext = context && trace.getSpanContext(context);
            return spanContext ? [{ context: spanContext }] : [];
          }),
        },
        ROOT_CONTEXT,
      );
      const chunkContext = trace.setSpan(ROOT_CONTEXT, chunkSpan);
      const messageSpans = remote.map((context, index) =>
        context === undefined
          ? undefined
          : tracer.startSpan(
              `process ${topic}`,
              {
                kind: SpanKind.CONSUMER,
                attributes: {
                  ...destination,
                  'messaging.kafka.offset': Number(messages[index]?.offset),
                },
                links: [{ context: chunkSpan.spanContext() }],
              },
              context,
            ),
      );
      return {
        contextOf: (index) => carrierOf(messageSpans[index] ?? chunkSpan),
        async transaction(work) {
          const span = tracer.startSpan(
            'apply update batch',
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'db.system.name': 'postgresql',
                'db.operation.name': 'transaction',
                'db.operation.batch.size': messages.length,
              },
            },
            chunkContext,
          );
          let failure: unknown;
          try {
            return await work();
          } catch (error) {
            failure = error;
            throw error;
          } finally {
            endSpan(span, failure);
          }
        },
        end(failure) {
          for (const span of messageSpans) if (span) endSpan(span, failure);
          endSpan(chunkSpan, failure);
        },
      };
    },

    startPublish(topic, contexts): PublishTrace {
      const spans = contexts.map((carrier) =>
        carrier === undefined
          ? undefined
          : tracer.startSpan(
              `send ${topic}`,
              {
                kind: SpanKind.PRODUCER,
                attributes: {
                  'messaging.system': 'kafka',
                  'messaging.destination.name': topic,
                  'messaging.operation.type': 'send',
                  'messaging.operation.name': 'send',
                  'messaging.batch.message_count': contexts.length,
                },
              },
              propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter),
            ),
      );
      return {
        headersOf(index) {
          const span = spans[index];
          return span ? carrierOf(span) : undefined;
        },
        end(failure) {
          for (const span of spans) if (span) endSpan(span, failure);
        },
      };
    },

    shutdown: () => provider.shutdown(),
  };
}
