import {
  LendingSystemError,
  type LendingSystemTarget,
  type LendingTargets,
} from '../application/lending-system.ts';
import { ENRICHMENT_FAILURE_CODES } from '../contracts/error-codes.ts';

export interface LendingTargetSettings {
  /** LENDING_API_URL */
  defaultUrl?: string;
  /** LENDING_API_TOKEN: sent to LENDING_API_URL only */
  defaultToken?: string;
  /** LENDING_API_TOKENS */
  tenantTokens: ReadonlyMap<string, string>;
  /** LENDING_API_ALLOW_INSECURE_HTTP */
  allowInsecureHttp: boolean;
}

/**
 * SPEC §6: a tenant's lending system and the token that may go there. Each tenant's token is
 * another company's secret: the default LENDING_API_TOKEN goes only to LENDING_API_URL, and a
 * tenant with a lending system of its own must have a token of its own, else its jobs fail with
 * a configuration error naming the tenant. Tokens are looked up in a Map, so a tenant called
 * `constructor` or `__proto__` finds its own entry or none, never a built-in property.
 */
export function createLendingTargets(settings: LendingTargetSettings): LendingTargets {
  return {
    targetFor(tenantId, tenantLendingApiUrl): LendingSystemTarget {
      const ownToken = settings.tenantTokens.get(tenantId);
      if (tenantLendingApiUrl !== undefined) {
        requireSecureUrl(
          tenantLendingApiUrl,
          `the lending-system URL of tenant ${tenantId}`,
          settings,
        );
        if (ownToken === undefined) {
          throw notConfigured(
            `tenant ${tenantId} has a lending-system URL of its own but no token in LENDING_API_TOKENS (LENDING_API_TOKEN is sent to LENDING_API_URL only)`,
          );
        }
        return { baseUrl: tenantLendingApiUrl, tenantId, token: ownToken };
      }
      if (settings.defaultUrl === undefined) {
        throw notConfigured('neither the tenant nor LENDING_API_URL names a lending system');
      }
      requireSecureUrl(settings.defaultUrl, 'LENDING_API_URL', settings);
      const token = ownToken ?? settings.defaultToken;
      return { baseUrl: settings.defaultUrl, tenantId, ...(token !== undefined ? { token } : {}) };
    },
  };
}

/** https only: a bearer token and customer data must not cross the network in clear text. */
export function isAllowedLendingUrl(url: string, allowInsecureHttp: boolean): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === 'https:' || (allowInsecureHttp && protocol === 'http:');
}

function requireSecureUrl(url: string, what: string, settings: LendingTargetSettings): void {
  if (isAllowedLendingUrl(url, settings.allowInsecureHttp)) return;
  throw notConfigured(
    `${what} must be an https:// URL (LENDING_API_ALLOW_INSECURE_HTTP=true allows http://, for development only)`,
  );
}

function notConfigured(message: string): LendingSystemError {
  return new LendingSystemError(ENRICHMENT_FAILURE_CODES.notConfigured, message, {
    canRetry: false,
  });
}
