import { isIP } from 'node:net';
import { type ConnectionOptions, connect } from 'node:tls';
import type { KafkaTls } from '../../config/security-variables.ts';
import { CustomerSyncError } from '../../errors.ts';

/** What a broker's TLS answer means for a client configured like ours. */
type BrokerTlsOutcome =
  | { kind: 'ok' }
  | { kind: 'unreachable' }
  | { kind: 'refused'; error: Error };

const CHECK_TIMEOUT_MS = 10_000;

/** Node's codes for a certificate the client does not trust (OpenSSL verify errors). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
]);

/**
 * kafkajs retries a failed TLS handshake like a broker that is down, eight times with backoff,
 * and then reports "connection error". A certificate that is not trusted, or a broker that
 * refuses ours, never gets better by waiting, so before the first connect we do one handshake
 * of our own (and one ApiVersions request, which a broker answers before SASL, so that a
 * client certificate refused after a TLS 1.3 handshake shows too) and turn a refusal into one
 * line naming the variable to fix. A broker that cannot be reached is left to kafkajs' retries:
 * start-up waits for a dependency that is not up yet (SPEC §8).
 */
export async function checkKafkaTls(
  brokers: readonly string[],
  tls: KafkaTls,
  clientId: string,
): Promise<'verified' | 'unreachable'> {
  for (const broker of brokers) {
    const outcome = await handshake(broker, tls, clientId);
    if (outcome.kind === 'ok') return 'verified';
    if (outcome.kind === 'refused') throw refusal(broker, outcome.error);
  }
  return 'unreachable';
}

function handshake(broker: string, tls: KafkaTls, clientId: string): Promise<BrokerTlsOutcome> {
  const separator = broker.lastIndexOf(':');
  const host = broker.slice(0, separator);
  const port = Number(broker.slice(separator + 1));
  const options: ConnectionOptions = {
    host,
    port,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    rejectUnauthorized: true,
    ...tls,
  };
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect(options);
    const finish = (outcome: BrokerTlsOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'unreachable' }), CHECK_TIMEOUT_MS);
    socket.once('secureConnect', () => socket.write(apiVersionsRequest(clientId)));
    socket.on('data', (chunk: Buffer) => {
      // Any answer at all means the broker took our TLS session and our request.
      if (chunk.length > 0) finish({ kind: 'ok' });
    });
    socket.once('error', (error: Error & { code?: string }) =>
      finish(isTlsRefusal(error) ? { kind: 'refused', error } : { kind: 'unreachable' }),
    );
    socket.once('close', () => finish({ kind: 'unreachable' }));
  });
}

function isTlsRefusal(error: Error & { code?: string }): boolean {
  const code = error.code ?? '';
  return (
    UNTRUSTED_CERTIFICATE.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')
  );
}

function refusal(broker: string, error: Error & { code?: string }): CustomerSyncError {
  const code = error.code ?? 'TLS';
  const host = broker.slice(0, broker.lastIndexOf(':'));
  let message: string;
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    message = `the certificate of Kafka broker ${broker} is not trusted (${code}): KAFKA_SSL_CA must hold the CA that signed it`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    message = `the certificate of Kafka broker ${broker} is not issued for ${host} (${code}): KAFKA_BROKERS must name the broker as its certificate does`;
  } else if (/CERTIFICATE|HANDSHAKE_FAILURE|UNKNOWN_CA|ACCESS_DENIED/.test(code)) {
    message = `Kafka broker ${broker} refused our TLS handshake (${code}): it may want a client certificate (KAFKA_SSL_CERT, KAFKA_SSL_KEY) signed by a CA it trusts`;
  } else {
    message = `TLS with Kafka broker ${broker} failed (${code}): check that it listens with TLS on that port (KAFKA_SSL)`;
  }
  return new CustomerSyncError('kafka.tls_refused', message, { canRetry: false, cause: error });
}

/** ApiVersions v0 (api key 18): a size, the v1 request header, an empty body. */
function apiVersionsRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const message = Buffer.alloc(2 + 2 + 4 + 2 + id.length);
  message.writeInt16BE(18, 0);
  message.writeInt16BE(0, 2);
  message.writeInt32BE(1, 4);
  message.writeInt16BE(id.length, 8);
  id.copy(message, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(message.length, 0);
  return Buffer.concat([size, message]);
}
