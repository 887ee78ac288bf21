import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConnectFailure,
  DependencyMisconfiguredError,
  DependencyUnavailableError,
  type WaitingReport,
  type WaitOptions,
  waitForDependency,
} from '../../src/application/wait-for-dependency.ts';
import { CustomerSyncError } from '../../src/errors.ts';
import { classifyKafkaFailure } from '../../src/messaging/kafka/kafka-availability.ts';
import {
  classifyDatabaseFailure,
  databaseDependency,
} from '../../src/persistence/database-availability.ts';

const POSTGRES = { name: 'PostgreSQL', address: 'db:5432', variable: 'DATABASE_URL' };

/** A clock that only moves when the wait loop sleeps. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

function options(
  time: ReturnType<typeof fakeTime>,
  overrides: Partial<WaitOptions> = {},
): WaitOptions & { reports: WaitingReport[] } {
  const reports: WaitingReport[] = [];
  return {
    backoff: { initialDelayMs: 250, maxDelayMs: 5_000 },
    deadline: time.now() + 60_000,
    attemptTimeoutMs: 1_000,
    classify: classifyDatabaseFailure,
    onWaiting: (report) => reports.push(report),
    now: time.now,
    sleep: time.sleep,
    random: () => 1,
    ...overrides,
    reports,
  };
}

/** An attempt that fails with `failures` in turn, then returns 'connected'. */
function failingThen(...failures: unknown[]) {
  let calls = 0;
  const attempt = async () => {
    const failure = failures[calls];
    calls += 1;
    if (failure !== undefined) throw failure;
    return 'connected';
  };
  return { attempt, calls: () => calls };
}

describe('waiting for a dependency at start-up', () => {
  it('tries again after an unreachable answer, with growing delays, until it answers', async () => {
    const time = fakeTime();
    const { attempt, calls } = failingThen(refused, refused, refused);
    const available: number[] = [];
    const result = await waitForDependency(POSTGRES, attempt, {
      ...options(time),
      onAvailable: (_dependency, waitedMs) => available.push(waitedMs),
    });
    assert.equal(result, 'connected');
    assert.equal(calls(), 4);
    assert.deepEqual(
      time.sleeps,
      [250, 500, 1_000],
      'exponential backoff (random = 1: the ceiling)',
    );
    assert.deepEqual(available, [1_750]);
  });

  it('reports the first failure at once, then at most once per report interval', async () => {
    const time = fakeTime();
    const { attempt } = failingThen(...Array.from({ length: 12 }, () => refused));
    const settings = options(time, { reportIntervalMs: 10_000 });
    await waitForDependency(POSTGRES, attempt, settings);
    // Failures at 0, 0.25, 0.75, 1.75, 3.75, 7.75 s, then every 5 s: reports at 0, 12.75,
    // 22.75 and 32.75 s, each counting the attempts since the one before.
    assert.deepEqual(
      settings.reports.map((report) => report.attempts),
      [1, 6, 2, 2],
    );
    const [first] = settings.reports;
    assert.ok(first);
    assert.deepEqual(first.dependency, POSTGRES);
    assert.equal(first.reason, 'connection refused (ECONNREFUSED)');
    assert.equal(first.nextAttemptInMs, 250);
    assert.equal(first.since.getTime(), 1_000_000);
    assert.equal(first.givesUpAt?.getTime(), 1_060_000);
  });

  it('gives up at the deadline, naming the dependency, where it is and the last reason', async () => {
    const time = fakeTime();
    const attempt = async () => {
      throw refused;
    };
    await assert.rejects(
      waitForDependency(POSTGRES, attempt, options(time, { deadline: time.now() + 3_000 })),
      (error: unknown) => {
        assert.ok(error instanceof DependencyUnavailableError);
        assert.equal(
          error.message,
          'PostgreSQL at db:5432 (DATABASE_URL) was not reachable within 3 s: connection refused (ECONNREFUSED)',
        );
        return true;
      },
    );
  });

  it('waits for ever when there is no deadline', async () => {
    const time = fakeTime();
    const { attempt } = failingThen(...Array.from({ length: 200 }, () => refused));
    const settings = options(time, { deadline: undefined });
    assert.equal(await waitForDependency(POSTGRES, attempt, settings), 'connected');
    assert.equal(settings.reports.at(-1)?.givesUpAt, undefined);
  });

  it('stops at once on a configuration that waiting cannot fix', async () => {
    const time = fakeTime();
    const wrongPassword = Object.assign(new Error('password authentication failed'), {
      code: '28P01',
    });
    const { attempt, calls } = failingThen(refused, wrongPassword);
    await assert.rejects(waitForDependency(POSTGRES, attempt, options(time)), (error: unknown) => {
      assert.ok(error instanceof DependencyMisconfiguredError);
      assert.equal(error.variable, 'DATABASE_URL');
      assert.equal(
        error.message,
        'PostgreSQL at db:5432 (DATABASE_URL): the server refused the credentials (28P01); check the user name and password in DATABASE_URL',
      );
      return true;
    });
    assert.equal(calls(), 2);
  });

  it('waits for a host name to resolve for a grace period, then takes it for a typo', async () => {
    const time = fakeTime();
    const unknownHost = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const { attempt } = failingThen(...Array.from({ length: 100 }, () => unknownHost));
    await assert.rejects(
      waitForDependency(POSTGRES, attempt, options(time, { nameResolutionGraceMs: 20_000 })),
      (error: unknown) => {
        assert.ok(error instanceof DependencyMisconfiguredError);
        assert.match(
          error.message,
          /the host name does not resolve \(ENOTFOUND\) \(for 2\d\.\d s\); check DATABASE_URL$/,
        );
        return true;
      },
    );
    assert.ok(time.now() - 1_000_000 >= 20_000);
  });

  it('a host name that resolves in the end was only late (a pod not scheduled yet)', async () => {
    const time = fakeTime();
    const unknownHost = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const { attempt } = failingThen(unknownHost, unknownHost, refused);
    assert.equal(await waitForDependency(POSTGRES, attempt, options(time)), 'connected');
  });

  it('counts an attempt that does not settle in time as unreachable', async () => {
    const time = fakeTime();
    let calls = 0;
    const attempt = (signal: AbortSignal) => {
      calls += 1;
      if (calls > 1) return Promise.resolve('connected');
      return new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    };
    const settings = options(time, { attemptTimeoutMs: 20 });
    assert.equal(await waitForDependency(POSTGRES, attempt, settings), 'connected');
    assert.equal(settings.reports[0]?.reason, 'no answer (the attempt timed out)');
  });

  it('passes failures that are not about connecting through unchanged', async () => {
    const time = fakeTime();
    const bug = new TypeError('undefined is not a function');
    await assert.rejects(
      waitForDependency(POSTGRES, failingThen(bug).attempt, options(time)),
      (error: unknown) => error === bug,
    );
  });

  it('ends the wait at once when a stop is requested', async () => {
    const time = fakeTime();
    const stop = new AbortController();
    const attempt = async () => {
      stop.abort();
      throw refused;
    };
    await assert.rejects(
      waitForDependency(POSTGRES, attempt, options(time, { signal: stop.signal })),
      { code: 'service.start_aborted' },
    );
    assert.deepEqual(time.sleeps, []);
  });
});

describe('reading Postgres connection failures', () => {
  const failure = (code: string): ConnectFailure | undefined =>
    classifyDatabaseFailure(Object.assign(new Error(code), { code }));

  it('waits for a server that is down, restarting, recovering or full', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'EAI_AGAIN',
      'CONNECT_TIMEOUT',
      'CONNECTION_CLOSED',
      '57P03',
      '57P01',
      '53300',
      '08006',
    ])
      assert.equal(failure(code)?.kind, 'unreachable', code);
  });

  it('stops at once for refused credentials, a missing database and a failed TLS check', () => {
    assert.equal(failure('28P01')?.kind, 'misconfigured');
    assert.equal(failure('28000')?.kind, 'misconfigured');
    assert.match(JSON.stringify(failure('3D000')), /database does not exist/);
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'CERT_HAS_EXPIRED',
    ])
      assert.deepEqual(
        { kind: failure(code)?.kind, variable: (failure(code) as { variable?: string }).variable },
        { kind: 'misconfigured', variable: 'DATABASE_SSL_MODE and DATABASE_SSL_CA' },
        code,
      );
  });

  it('leaves failures of statements to their callers', () => {
    assert.equal(failure('23505'), undefined);
    assert.equal(classifyDatabaseFailure(new Error('no code')), undefined);
  });

  it('names where the database is without its credentials', () => {
    assert.deepEqual(databaseDependency('postgres://app:s3cret@db.internal:6432/app'), {
      name: 'PostgreSQL',
      address: 'db.internal:6432',
      variable: 'DATABASE_URL',
    });
    assert.equal(databaseDependency('postgres://app:s3cret@db/app').address, 'db:5432');
    assert.equal(
      databaseDependency('postgres://app:s3cret@a:5432,b:5432/app').address,
      'a:5432,b:5432',
    );
  });
});

describe('reading Kafka connection failures', () => {
  /** kafkajs' shape: the last retry's failure wrapped in KafkaJSNumberOfRetriesExceeded. */
  function retriesExceeded(cause: Error) {
    return Object.assign(new Error(cause.message), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause,
    });
  }
  const connectionError = (message: string, code?: string) =>
    Object.assign(new Error(message), {
      name: 'KafkaJSConnectionError',
      retriable: true,
      ...(code ? { code } : {}),
    });

  it('waits for a broker that refuses, resets, does not answer or has no leader yet', () => {
    assert.deepEqual(
      classifyKafkaFailure(
        retriesExceeded(connectionError('Connection error: connect ECONNREFUSED', 'ECONNREFUSED')),
      ),
      { kind: 'unreachable', reason: 'connection refused (ECONNREFUSED)' },
    );
    assert.equal(classifyKafkaFailure(connectionError('Connection timeout'))?.kind, 'unreachable');
    const notReady = Object.assign(new Error('coordinator not available'), {
      name: 'KafkaJSProtocolError',
      type: 'COORDINATOR_NOT_AVAILABLE',
      retriable: true,
    });
    assert.equal(classifyKafkaFailure(notReady)?.kind, 'unreachable');
  });

  it('stops at once for refused SASL credentials, missing ACLs and failed TLS checks', () => {
    const sasl = Object.assign(new Error('SASL PLAIN authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
      retriable: false,
    });
    assert.equal(classifyKafkaFailure(retriesExceeded(sasl))?.kind, 'misconfigured');
    const acl = Object.assign(new Error('not authorized'), {
      name: 'KafkaJSProtocolError',
      type: 'GROUP_AUTHORIZATION_FAILED',
      retriable: false,
    });
    assert.equal(classifyKafkaFailure(acl)?.kind, 'misconfigured');
    const tls = connectionError(
      'Connection error: self-signed certificate',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    );
    assert.deepEqual(classifyKafkaFailure(retriesExceeded(tls)), {
      kind: 'misconfigured',
      reason: 'TLS failed (DEPTH_ZERO_SELF_SIGNED_CERT)',
      variable: 'KAFKA_SSL',
    });
  });

  it("keeps the TLS check's own words for a certificate refused either way", () => {
    const refused = new CustomerSyncError(
      'kafka.tls_refused',
      'the certificate of Kafka broker k:9093 is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): KAFKA_SSL_CA must hold the CA that signed it',
      { canRetry: false },
    );
    const failure = classifyKafkaFailure(retriesExceeded(refused));
    assert.deepEqual(failure, {
      kind: 'misconfigured',
      reason: refused.message,
      variable: 'KAFKA_SSL_CA',
      fix: '',
    });
    assert.equal(
      new DependencyMisconfiguredError(POSTGRES, 'it is wrong', 'X', '').message,
      'PostgreSQL at db:5432 (DATABASE_URL): it is wrong',
    );
  });

  it('treats an unknown broker host name as a name that may resolve later', () => {
    assert.equal(
      classifyKafkaFailure(
        retriesExceeded(connectionError('getaddrinfo ENOTFOUND kafka', 'ENOTFOUND')),
      )?.kind,
      'unresolved-name',
    );
  });

  it('leaves failures that are not Kafka errors to their callers', () => {
    assert.equal(classifyKafkaFailure(new TypeError('bug')), undefined);
  });
});
