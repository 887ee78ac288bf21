/**
 * .tmp/dev.env, written by `npm run dev` for a second terminal. It marks the addresses it
 * exports, so that a later `npm run dev` in a shell that sourced it can tell them from
 * addresses the user chose (dev.ts ignores the former).
 */
const MARKER = 'CUSTOMER_SYNC_DEV_STACK';

const markOf = (kafkaBrokers: string, databaseUrl: string) => `${kafkaBrokers} ${databaseUrl}`;

export function writeDevEnvFile(stack: {
  kafkaBrokers: string;
  databaseUrl: string;
  /** LENDING_API_ALLOW_INSECURE_HTTP: the simulator serves plain HTTP */
  allowInsecureLendingHttp: string;
  pid: number;
}): string {
  return [
    `# written by npm run dev (pid ${stack.pid}); removed when it stops`,
    `export KAFKA_BROKERS='${stack.kafkaBrokers}'`,
    `export DATABASE_URL='${stack.databaseUrl}'`,
    `export LENDING_API_ALLOW_INSECURE_HTTP='${stack.allowInsecureLendingHttp}'`,
    `export ${MARKER}='${markOf(stack.kafkaBrokers, stack.databaseUrl)}'`,
    '',
  ].join('\n');
}

/** KAFKA_BROKERS and DATABASE_URL are still the ones a sourced dev.env exported. */
export function isFromDevEnvFile(env: NodeJS.ProcessEnv): boolean {
  const mark = env[MARKER];
  return (
    mark !== undefined &&
    env.KAFKA_BROKERS !== undefined &&
    env.DATABASE_URL !== undefined &&
    mark === markOf(env.KAFKA_BROKERS, env.DATABASE_URL)
  );
}
