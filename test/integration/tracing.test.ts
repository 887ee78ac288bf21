import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { runCommand } from '../../dev/run-command.ts';
import { ensureDebianTool } from '../support/debian-tool.ts';
import { type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { testInfrastructure } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const CONSUMER = 5;
const PRODUCER = 4;
const CLIENT = 3;

/** customer.updated headers as kcat (a client that is not ours) reads them off the topic. */
async function headersReadByKcat(topic: string): Promise<Array<Record<string, string>>> {
  const kcat = await ensureDebianTool('kcat', 'kcat');
  const { stdout } = await runCommand(kcat, [
    '-b',
    testInfrastructure().kafkaBrokers,
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%h\\n',
  ]);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      Object.fromEntries(
        line
          .split(',')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      ),
    );
}

describe('tracing: the W3C trace context of a request continues into customer.updated (OpenTelemetry)', () => {
  it('exports the spans over OTLP/HTTP and links the announcement to the lending system’s trace', async () => {
    const receiver = await startOtlpReceiver();
    const fixture = await startPipelineFixture({ partitions: 1 });
    const service = await fixture
      .newService({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: 'customer-sync-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      })
      .start();
    assert.equal(service.countLogs('tracing enabled: spans are exported over OTLP/HTTP'), 1);

    // The lending system's producer span, as its OpenTelemetry SDK would send it.
    const traceId = randomBytes(16).toString('hex');
    const upstreamSpanId = randomBytes(8).toString('hex');
    const traced = anUpdateRequest().withExternalId('traced-1').withData({
      taskType: 'collections',
      firstName: 'Ada',
    });
    const untraced = anUpdateRequest().withExternalId('untraced-1').withData({
      taskType: 'collections',
      lastName: 'Lovelace',
    });
    await fixture.publishRaw([
      {
        key: 'tenant-a:traced-1',
        value: JSON.stringify(traced.build()),
        headers: { traceparent: `00-${traceId}-${upstreamSpanId}-01`, tracestate: 'lender=7' },
      },
      { key: 'tenant-a:untraced-1', value: JSON.stringify(untraced.build()) },
    ]);
    const [first, second] = await fixture.updated.waitForCount(2);
    const announced = [first, second].find((message) => message?.key?.endsWith(':traced-1'));
    assert.ok(announced, 'the traced request was announced');

    // customer.updated continues the lending system's trace: same trace id, our send span.
    const outgoing = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(
      announced.headers.traceparent ?? '',
    );
    assert.ok(outgoing, `a sampled traceparent header: ${JSON.stringify(announced.headers)}`);
    assert.equal(outgoing[1], traceId);
    assert.equal(announced.headers.tracestate, 'lender=7');

    const span = (description: string, match: (span: ReceivedSpan) => boolean) =>
      waitFor(
        `${description} (spans received: ${JSON.stringify(receiver.spans.map(({ name, traceId: id, kind }) => ({ name, id, kind })))}; rejected: ${receiver.rejected})`,
        () => receiver.spans.find(match),
      );
    const send = await span(
      'the send span of the announcement',
      (candidate) => candidate.spanId === outgoing[2],
    );
    assert.equal(send.traceId, traceId);
    assert.equal(send.kind, PRODUCER);
    assert.equal(send.name, `send ${fixture.topics.customerUpdated}`);
    assert.deepEqual(
      {
        system: send.attributes['messaging.system'],
        operation: send.attributes['messaging.operation.type'],
        destination: send.attributes['messaging.destination.name'],
      },
      { system: 'kafka', operation: 'send', destination: fixture.topics.customerUpdated },
    );
    assert.equal(send.serviceName, 'customer-sync-under-test');

    const processed = await span(
      'the process span of the request',
      (candidate) => candidate.spanId === send.parentSpanId,
    );
    assert.equal(processed.traceId, traceId);
    assert.equal(processed.parentSpanId, upstreamSpanId, 'a child of the lending system’s span');
    assert.equal(processed.kind, CONSUMER);
    assert.equal(processed.name, `process ${fixture.topics.updateRequested}`);
    assert.equal(processed.attributes['messaging.operation.type'], 'process');
    assert.equal(processed.attributes['messaging.destination.partition.id'], '0');
    assert.equal(typeof processed.attributes['messaging.kafka.offset'], 'number');

    // The chunk's span links the request and holds the database transaction.
    const [link] = processed.links;
    assert.ok(link, 'the process span links to its chunk');
    const chunk = await span('the chunk span', (candidate) => candidate.spanId === link.spanId);
    assert.ok(
      chunk.links.some((each) => each.traceId === traceId && each.spanId === upstreamSpanId),
      'the chunk links to the request’s context',
    );
    const transaction = await span(
      'the database transaction span',
      (candidate) => candidate.parentSpanId === chunk.spanId && candidate.kind === CLIENT,
    );
    assert.equal(transaction.attributes['db.system.name'], 'postgresql');

    // No span carries customer data: no keys, no values.
    const everything = JSON.stringify(receiver.spans);
    for (const secret of ['Ada', 'Lovelace', 'traced-1'])
      assert.ok(!everything.includes(secret), `no span mentions ${secret}`);

    // The request without a context is announced in its chunk's trace; a client that is not
    // ours reads the same headers off the topic.
    const viaKcat = await headersReadByKcat(fixture.topics.customerUpdated);
    assert.equal(viaKcat.length, 2);
    assert.ok(viaKcat.some((headers) => headers.traceparent === announced.headers.traceparent));
    assert.ok(
      viaKcat.every((headers) =>
        /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(headers.traceparent ?? ''),
      ),
      `every announcement carries a traceparent: ${JSON.stringify(viaKcat)}`,
    );
  });

  it('is off by default: no trace headers on customer.updated without an OTLP endpoint', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const service = await fixture.newService().start();
    await fixture.publishRaw([
      {
        key: 'tenant-a:plain-1',
        value: JSON.stringify(anUpdateRequest().withExternalId('plain-1').build()),
        headers: {
          traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        },
      },
    ]);
    const [announced] = await fixture.updated.waitForCount(1);
    assert.equal(announced?.headers.traceparent, undefined);
    assert.equal(service.countLogs('tracing enabled: spans are exported over OTLP/HTTP'), 0);
  });
});
