/** A Kafka cluster the caller may use until it calls `stop()`. */
export type RunningKafka = {
  /** Bootstrap address, `host:port`, as kafkajs `brokers` expects it. */
  brokers: string;
  /** Apache Kafka version of the broker, or a note saying why it is not known. */
  version: string;
  /** Its log, when it is a process started here; kept readable until `stop()`. */
  logFile?: string;
  /** Releases what was started for this caller; a no-op for services someone else runs. */
  stop(): Promise<void>;
  /** Settles when the broker we started ends, whoever ended it, saying how; absent if not ours. */
  exited?: Promise<string>;
};

/** A Postgres server the caller may use until it calls `stop()`. */
export type RunningPostgres = {
  /** Superuser URL of the `postgres` database; create per-test databases from it. */
  url: string;
  /** `server_version` as the server reports it. */
  version: string;
  /** Its log, when it is a process started here; kept readable until `stop()`. */
  logFile?: string;
  /** Releases what was started for this caller; a no-op for services someone else runs. */
  stop(): Promise<void>;
  /** Settles when the server we started ends, whoever ended it, saying how; absent if not ours. */
  exited?: Promise<string>;
};

/** A Confluent-compatible Schema Registry the caller may use until it calls `stop()`. */
export type RunningSchemaRegistry = {
  /** Base URL of the Confluent Schema Registry REST API, as SCHEMA_REGISTRY_URL expects it. */
  url: string;
  /** Product and version, or a note saying why it is not known. */
  version: string;
  /** Its log, when it is a process started here; kept readable until `stop()`. */
  logFile?: string;
  /** Releases what was started for this caller; a no-op for services someone else runs. */
  stop(): Promise<void>;
};
