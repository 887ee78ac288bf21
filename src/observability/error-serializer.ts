/**
 * The one way an error is written to a log (SPEC §8: no personal data in logs). Drivers put
 * values in their errors: postgres.js a `query`, its `parameters` and a `detail` such as
 * `Key (tenant_id, email)=(t, ann@example.com) already exists`; drizzle wraps that in an error
 * whose message is the query and its params; Postgres quotes the offending value in messages
 * like `invalid input syntax for type uuid: "…"`. What is kept: the class, the code, the
 * SQLSTATE, the names of the constraint, table and column, whether kafkajs may retry, the
 * message's first line with every quoted part replaced, and the same for the cause.
 */
export interface SerializedError {
  type: string;
  code?: string;
  /** Postgres's SQLSTATE, for a database error */
  sqlState?: string;
  message?: string;
  constraint?: string;
  table?: string;
  column?: string;
  retriable?: boolean;
  /** stack frames only (file and line), never the message line a stack starts with */
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
}

const MAX_MESSAGE_CHARS = 300;
const MAX_CAUSE_DEPTH = 4;
const MAX_STACK_FRAMES = 12;

/**
 * A message with nothing in it that could be a value: only its first line (the rest of a
 * driver's message is a query or a dump), quoted parts (`"…"`, `'…'`, `` `…` ``) and
 * `(…)=(…)` key/value pairs replaced, cut to a few hundred characters.
 */
export function scrubErrorMessage(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  // drizzle: `Failed query: <sql>` then `params: <values>`; the SQL is not ours to print either.
  if (firstLine.startsWith('Failed query')) return 'Failed query';
  const scrubbed = firstLine
    .replace(/\([^()]*\)=\([^()]*\)/g, '(…)=(…)')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '"…"');
  return scrubbed.length > MAX_MESSAGE_CHARS
    ? `${scrubbed.slice(0, MAX_MESSAGE_CHARS)}…`
    : scrubbed;
}

/** A stack's frames without its first line, which repeats the unscrubbed message. */
export function stackFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_STACK_FRAMES)
    .join('\n');
}

export function serializeError(
  error: unknown,
  options: { stack?: boolean } = {},
  depth = 0,
): SerializedError {
  if (typeof error !== 'object' || error === null) {
    return {
      type: typeof error,
      ...(error !== undefined && error !== null
        ? { message: scrubErrorMessage(String(error)) }
        : {}),
    };
  }
  const fields = error as Record<string, unknown>;
  const name = typeof fields.name === 'string' ? fields.name : error.constructor?.name;
  const serialized: SerializedError = { type: name ?? 'object' };
  const code = fields.code;
  if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
  if (name === 'PostgresError' && typeof code === 'string') serialized.sqlState = code;
  if (typeof fields.message === 'string') serialized.message = scrubErrorMessage(fields.message);
  // postgres.js's names of what was violated: identifiers from our schema, never values.
  if (typeof fields.constraint_name === 'string') serialized.constraint = fields.constraint_name;
  if (typeof fields.table_name === 'string') serialized.table = fields.table_name;
  if (typeof fields.column_name === 'string') serialized.column = fields.column_name;
  if (typeof fields.retriable === 'boolean') serialized.retriable = fields.retriable;
  if (options.stack && typeof fields.stack === 'string')
    serialized.stack = stackFrames(fields.stack);
  if (depth < MAX_CAUSE_DEPTH) {
    if (fields.cause !== undefined && fields.cause !== error)
      serialized.cause = serializeError(fields.cause, options, depth + 1);
    if (Array.isArray(fields.errors) && fields.errors.length > 0)
      serialized.errors = fields.errors
        .slice(0, 3)
        .map((inner) => serializeError(inner, options, depth + 1));
  }
  return serialized;
}
