import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LendingSystemError } from '../../src/application/lending-system.ts';
import { ENRICHMENT_FAILURE_CODES } from '../../src/contracts/error-codes.ts';
import { createLendingTargets } from '../../src/enrichment/lending-targets.ts';

const DEFAULT_TOKEN = 'default-token-9c2e';
const SHARED = 'https://lending.example.com/customer-sync';

const targets = createLendingTargets({
  defaultUrl: SHARED,
  defaultToken: DEFAULT_TOKEN,
  tenantTokens: new Map([['tenant-b', 'b-token']]),
  allowInsecureHttp: false,
});

function refusal(call: () => unknown): LendingSystemError {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof LendingSystemError);
    return error;
  }
  assert.fail('expected a configuration error');
}

describe("which lending system a tenant's enrichment asks, with which token (SPEC §6)", () => {
  it('sends the default token to the default lending system, a tenant token where there is one', () => {
    assert.deepEqual(targets.targetFor('tenant-a', undefined), {
      baseUrl: SHARED,
      tenantId: 'tenant-a',
      token: DEFAULT_TOKEN,
    });
    assert.equal(targets.targetFor('tenant-b', undefined).token, 'b-token');
  });

  it('sends a tenant with a lending system of its own only its own token', () => {
    assert.deepEqual(targets.targetFor('tenant-b', 'https://lending.b.example'), {
      baseUrl: 'https://lending.b.example',
      tenantId: 'tenant-b',
      token: 'b-token',
    });
  });

  it("never sends another company's token: its own URL without its own token is a configuration error naming the tenant", () => {
    const error = refusal(() => targets.targetFor('tenant-c', 'https://lending.c.example'));
    assert.equal(error.code, ENRICHMENT_FAILURE_CODES.notConfigured);
    assert.equal(error.canRetry, false);
    assert.match(error.message, /tenant tenant-c/);
    assert.ok(!error.message.includes(DEFAULT_TOKEN));
  });

  it('looks tokens up among own entries only: built-in property names are ordinary tenant ids', () => {
    for (const tenantId of ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty']) {
      assert.equal(targets.targetFor(tenantId, undefined).token, DEFAULT_TOKEN, tenantId);
      assert.equal(
        refusal(() => targets.targetFor(tenantId, 'https://x.example')).code,
        ENRICHMENT_FAILURE_CODES.notConfigured,
      );
    }
  });

  it('wants https unless the development flag allows http', () => {
    const error = refusal(() => targets.targetFor('tenant-b', 'http://lending.b.example'));
    assert.equal(error.code, ENRICHMENT_FAILURE_CODES.notConfigured);
    assert.match(error.message, /must be an https:\/\/ URL/);
    const development = createLendingTargets({
      defaultUrl: 'http://127.0.0.1:8090',
      tenantTokens: new Map(),
      allowInsecureHttp: true,
    });
    assert.deepEqual(development.targetFor('t', undefined), {
      baseUrl: 'http://127.0.0.1:8090',
      tenantId: 't',
    });
    assert.equal(
      refusal(() => development.targetFor('t', 'ftp://x.example')).code,
      ENRICHMENT_FAILURE_CODES.notConfigured,
    );
  });

  it('says so when neither the tenant nor LENDING_API_URL names a lending system', () => {
    const none = createLendingTargets({ tenantTokens: new Map(), allowInsecureHttp: false });
    assert.match(refusal(() => none.targetFor('t', undefined)).message, /neither the tenant/);
  });
});
