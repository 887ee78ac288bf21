/**
 * A Log4j 2 configuration for a JVM we start (the broker, Kafka Connect): everything on stdout,
 * which owned-process.ts sends to the process's log file, at `rootLevel`, with the named
 * loggers quieter.
 */
export function log4j2Config(rootLevel: string, warnOnly: readonly string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <Console name="log" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d{ISO8601}] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="${rootLevel}">
      <AppenderRef ref="log"/>
    </Root>
${warnOnly.map((name) => `    <Logger name="${name}" level="WARN"/>`).join('\n')}
  </Loggers>
</Configuration>
`;
}
