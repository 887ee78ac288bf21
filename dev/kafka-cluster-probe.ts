import { Kafka, logLevel } from 'kafkajs';

export type KafkaClusterDescription = { brokerCount: number; clusterId: string };

/**
 * One metadata round trip, the proof that a broker really serves clients (an open port is
 * not: a KRaft broker listens before it has registered with its controller).
 */
export async function describeKafkaCluster(
  brokers: string,
  timeoutMs = 2_000,
): Promise<KafkaClusterDescription> {
  const kafka = new Kafka({
    clientId: 'devstack-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no broker has registered yet');
    return { brokerCount: cluster.brokers.length, clusterId: cluster.clusterId };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
