import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** One line of an NDJSON file; `bytesRead` is how far into the input it ends. */
export type EventLine =
  | { lineNumber: number; bytesRead: number; ok: true; key: string | null; value: string }
  | { lineNumber: number; bytesRead: number; ok: false; problem: string };

/**
 * Reads newline-delimited JSON events one line at a time (bounded memory whatever the file
 * size). The key is `<tenantId>:<externalId>` of the event (SPEC §2); a line that is JSON but
 * not a valid event is still sent, since the service's dead-letter path is the authority on
 * that. Blank lines are skipped.
 */
export async function* readEventLines(input: Readable): AsyncGenerator<EventLine> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  let bytesRead = 0;
  for await (const text of lines) {
    lineNumber++;
    bytesRead += Buffer.byteLength(text, 'utf8') + 1;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      yield { lineNumber, bytesRead, ok: false, problem: 'is not valid JSON' };
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      yield { lineNumber, bytesRead, ok: false, problem: 'is not a JSON object' };
      continue;
    }
    const { tenantId, externalId } = parsed as { tenantId?: unknown; externalId?: unknown };
    const key =
      typeof tenantId === 'string' && typeof externalId === 'string'
        ? `${tenantId}:${externalId}`
        : null;
    yield { lineNumber, bytesRead, ok: true, key, value: text };
  }
}
