import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type EventLine, readEventLines } from '../../src/messaging/kafka/event-lines.ts';

async function linesOf(text: string): Promise<EventLine[]> {
  const lines: EventLine[] = [];
  for await (const line of readEventLines(Readable.from([Buffer.from(text)]))) lines.push(line);
  return lines;
}

describe('reading NDJSON events', () => {
  it('keys each event by tenant and customer, numbers lines, and skips blank ones', async () => {
    const lines = await linesOf(
      '{"tenantId":"t","externalId":"c-1"}\r\n\n{"tenantId":"t","externalId":"é"}\n',
    );
    assert.deepEqual(
      lines.map((line) => [line.lineNumber, line.ok && line.key]),
      [
        [1, 't:c-1'],
        [3, 't:é'],
      ],
    );
    // how far into the input each line ends, for progress against the file size
    const plain = '{"tenantId":"t","externalId":"é"}\n\n{"tenantId":"t","externalId":"c"}\n';
    assert.equal((await linesOf(plain)).at(-1)?.bytesRead, Buffer.byteLength(plain));
  });

  it('reports lines that are not JSON objects, and sends keyless events as they are', async () => {
    const lines = await linesOf('not json\n[1,2]\n{"type":"x"}\n');
    assert.deepEqual(
      lines.map((line) => (line.ok ? ['ok', line.key] : [line.lineNumber, line.problem])),
      [
        [1, 'is not valid JSON'],
        [2, 'is not a JSON object'],
        ['ok', null],
      ],
    );
  });
});
