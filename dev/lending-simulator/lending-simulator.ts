import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WireLendingCustomer } from '../../src/contracts/lending-system.ts';
import type { Logger } from '../../src/observability/logger.ts';
import {
  externalIdOfLoanReference,
  faultGenerator,
  seededCustomer,
  seededLoans,
} from './lending-simulator-data.ts';

/**
 * A stand-in for a tenant's lending system (SPEC §6): a real HTTP server that speaks
 * schemas/lending-system.openapi.json over deterministic, seeded data
 * (lending-simulator-data.ts), with injectable latency, errors, timeouts and 429s. Faults can
 * be changed while it runs, through its admin endpoints, so a test can break and heal the
 * lending system mid-test:
 *
 *   GET  /healthz                                  alive
 *   GET  /admin/faults, PUT /admin/faults          read / change faults (a partial JSON object)
 *   PUT  /admin/tenants/{t}/customers/{x}          {customer?: object|null, loans?: array}: serve
 *                                                  this instead of the seeded data (null: 404);
 *                                                  stored as given, so it may break the contract
 *   DELETE /admin/tenants/{t}/customers/{x}        back to the seeded data
 *   GET  /admin/stats                              answers given, by outcome
 *   POST /admin/reset                              faults, overrides and stats as at start
 *
 * Admin endpoints are never slowed down or failed, and need no token.
 */

export interface LendingFaults {
  /** added before every contract answer */
  latencyMs: number;
  /** share of calls, 0..1, answered 500 or 503 */
  errorRate: number;
  /** share of calls never answered: the caller's timeout has to fire */
  timeoutRate: number;
  /** share of calls answered 429 with a Retry-After */
  rateLimitRate: number;
  retryAfterSeconds: number;
}

export const NO_FAULTS: LendingFaults = {
  latencyMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
};

export interface LendingSimulatorOptions {
  /** 0 picks a free port */
  port: number;
  host?: string;
  /** the same seed serves the same customers, loans and fault sequence */
  seed?: string;
  faults?: Partial<LendingFaults>;
  /** when set, contract calls must send `Authorization: Bearer <token>` (else 401) */
  token?: string;
  logger?: Logger;
}

export type SimulatorOutcome =
  | 'ok'
  | 'not_found'
  | 'error'
  | 'rate_limited'
  | 'timeout'
  | 'unauthorized'
  | 'bad_request';

export type SimulatorOperation = 'customer' | 'customer_by_loan_reference' | 'loans' | 'other';

export interface SimulatorStats {
  /** contract calls answered (or given up on), by outcome */
  outcomes: Record<SimulatorOutcome, number>;
  /** contract calls received, by operation */
  calls: Record<SimulatorOperation, number>;
  /** contract calls received and not answered yet (held by latency or a simulated timeout) */
  inFlight: number;
}

export interface LendingSimulator {
  url: string;
  port: number;
  faults(): LendingFaults;
  setFaults(faults: Partial<LendingFaults>): LendingFaults;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

interface Override {
  customer?: unknown;
  loans?: unknown;
}

/** Requests that are never answered are cut after this, so a forgotten client cannot pile up. */
const HANG_LIMIT_MS = 10 * 60_000;
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

export async function startLendingSimulator(
  options: LendingSimulatorOptions,
): Promise<LendingSimulator> {
  const seed = options.seed ?? 'customer-sync';
  const initialFaults: LendingFaults = { ...NO_FAULTS, ...checkFaults(options.faults ?? {}) };
  let faults = { ...initialFaults };
  let random = faultGenerator(seed);
  const overrides = new Map<string, Override>();
  const emptyStats = (): SimulatorStats => ({
    outcomes: {
      ok: 0,
      not_found: 0,
      error: 0,
      rate_limited: 0,
      timeout: 0,
      unauthorized: 0,
      bad_request: 0,
    },
    calls: { customer: 0, customer_by_loan_reference: 0, loans: 0, other: 0 },
    inFlight: 0,
  });
  let stats = emptyStats();
  const log = options.logger?.child({ component: 'lending-simulator' });

  function customerOf(tenantId: string, externalId: string): unknown {
    const override = overrides.get(`${tenantId}\u0000${externalId}`);
    if (override && 'customer' in override) return override.customer ?? undefined;
    return seededCustomer(seed, tenantId, externalId);
  }

  function loansOf(tenantId: string, externalId: string): unknown[] | undefined {
    if (customerOf(tenantId, externalId) === undefined) return undefined;
    const override = overrides.get(`${tenantId}\u0000${externalId}`);
    if (override && 'loans' in override) return (override.loans as unknown[] | undefined) ?? [];
    return seededLoans(seed, tenantId, externalId);
  }

  function customerOfLoanReference(tenantId: string, reference: string): unknown {
    for (const [key, override] of overrides) {
      const [overrideTenant, externalId] = key.split('\u0000') as [string, string];
      if (overrideTenant !== tenantId || !Array.isArray(override.loans)) continue;
      const holds = override.loans.some(
        (loan) => (loan as { reference?: unknown } | null)?.reference === reference,
      );
      if (holds) return customerOf(tenantId, externalId);
    }
    const externalId = externalIdOfLoanReference(reference);
    if (externalId === undefined) return undefined;
    const loans = loansOf(tenantId, externalId) ?? [];
    const holds = loans.some(
      (loan) => (loan as { reference?: unknown } | null)?.reference === reference,
    );
    return holds ? customerOf(tenantId, externalId) : undefined;
  }

  /** The contract's answer to a GET, or undefined for a path it does not have. */
  function answer(segments: string[]): { status: number; body: unknown } | undefined {
    const [root, tenantId, collection, id, ...rest] = segments;
    if (root !== 'tenants' || tenantId === undefined || id === undefined) return undefined;
    const found = (body: unknown) =>
      body === undefined ? notFound() : { status: 200, body: body as WireLendingCustomer };
    if (collection === 'customers' && rest.length === 0) return found(customerOf(tenantId, id));
    if (collection === 'customers' && rest.length === 1 && rest[0] === 'loans') {
      const loans = loansOf(tenantId, id);
      return loans === undefined ? notFound() : { status: 200, body: { loans } };
    }
    if (
      collection === 'loans' &&
      id === 'by-reference' &&
      rest.length === 2 &&
      rest[1] === 'customer'
    ) {
      return found(customerOfLoanReference(tenantId, rest[0] as string));
    }
    return undefined;
  }

  async function handleContract(
    request: IncomingMessage,
    response: ServerResponse,
    segments: string[],
  ): Promise<SimulatorOutcome> {
    if (request.method !== 'GET') {
      send(response, 405, { title: 'method not allowed' }, { allow: 'GET' });
      return 'bad_request';
    }
    if (
      options.token !== undefined &&
      request.headers.authorization !== `Bearer ${options.token}`
    ) {
      send(response, 401, { title: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
      return 'unauthorized';
    }
    const timesOut = random() < faults.timeoutRate;
    const rateLimited = random() < faults.rateLimitRate;
    const fails = random() < faults.errorRate;
    const status5xx = random() < 0.5 ? 500 : 503;
    if (timesOut) {
      await waitUnlessClosed(request, HANG_LIMIT_MS);
      response.destroy();
      return 'timeout';
    }
    if (faults.latencyMs > 0) await waitUnlessClosed(request, faults.latencyMs);
    if (rateLimited) {
      send(
        response,
        429,
        { title: 'too many requests' },
        {
          'retry-after': String(faults.retryAfterSeconds),
        },
      );
      return 'rate_limited';
    }
    if (fails) {
      send(response, status5xx, { title: 'simulated failure' });
      return 'error';
    }
    const result = answer(segments);
    if (result === undefined) {
      send(response, 404, { title: 'no such resource' });
      return 'bad_request';
    }
    send(response, result.status, result.body);
    return result.status === 200 ? 'ok' : 'not_found';
  }

  async function handleAdmin(
    request: IncomingMessage,
    response: ServerResponse,
    segments: string[],
  ): Promise<void> {
    const [, resource, tenantId, collection, externalId] = segments;
    if (resource === 'faults' && segments.length === 2) {
      if (request.method === 'PUT') {
        const changes = checkFaults(await readJson(request));
        faults = { ...faults, ...changes };
        log?.info({ faults }, 'faults changed');
      }
      return send(response, 200, faults);
    }
    if (resource === 'stats' && request.method === 'GET') return send(response, 200, stats);
    if (resource === 'reset' && request.method === 'POST') {
      faults = { ...initialFaults };
      random = faultGenerator(seed);
      overrides.clear();
      stats = emptyStats();
      return send(response, 200, faults);
    }
    if (resource === 'tenants' && collection === 'customers' && segments.length === 5) {
      const key = `${tenantId}\u0000${externalId}`;
      if (request.method === 'DELETE') {
        overrides.delete(key);
        return send(response, 204);
      }
      if (request.method === 'PUT') {
        const body = await readJson(request);
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new BadRequest('expected {customer?: object|null, loans?: array}');
        }
        const { customer, loans } = body as Override;
        if (loans !== undefined && !Array.isArray(loans))
          throw new BadRequest('loans must be an array');
        const override: Override = {};
        if ('customer' in body) override.customer = customer;
        if (loans !== undefined) override.loans = loans;
        overrides.set(key, override);
        return send(response, 204);
      }
    }
    send(response, 404, { title: 'no such admin resource' });
  }

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://simulator').pathname;
    let segments: string[];
    try {
      segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      send(response, 400, { title: 'bad path' });
      return;
    }
    if (segments.length === 1 && segments[0] === 'healthz') {
      send(response, 200, { status: 'ok' });
      return;
    }
    if (segments[0] === 'admin') {
      handleAdmin(request, response, segments).catch((error: unknown) => {
        const status = error instanceof BadRequest ? 400 : 500;
        if (!response.headersSent) send(response, status, { title: (error as Error).message });
      });
      return;
    }
    const current = stats;
    current.calls[operationOf(segments)]++;
    current.inFlight++;
    handleContract(request, response, segments).then(
      (outcome) => {
        current.inFlight--;
        current.outcomes[outcome]++;
        // The path holds the customer's externalId: log the outcome, not the path.
        log?.debug({ method: request.method, outcome }, 'lending call');
      },
      () => {
        current.inFlight--;
        if (!response.headersSent) send(response, 500, { title: 'simulator failure' });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    faults: () => ({ ...faults }),
    setFaults(changes) {
      faults = { ...faults, ...checkFaults(changes) };
      return { ...faults };
    },
    stats: () => structuredClone(stats),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

class BadRequest extends Error {}

function operationOf(segments: string[]): SimulatorOperation {
  const [root, , collection, id, ...rest] = segments;
  if (root !== 'tenants') return 'other';
  if (collection === 'customers' && rest.length === 0) return 'customer';
  if (collection === 'customers' && rest.length === 1) return 'loans';
  if (collection === 'loans' && id === 'by-reference') return 'customer_by_loan_reference';
  return 'other';
}

function notFound() {
  return { status: 404, body: { title: 'not found' } };
}

function send(
  response: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed) return;
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const contentType = status >= 400 ? 'application/problem+json' : 'application/json';
  response.writeHead(status, { 'content-type': contentType, ...headers }).end(JSON.stringify(body));
}

/** Waits `ms`, or less if the caller hangs up first (it timed out, or was killed). */
function waitUnlessClosed(request: IncomingMessage, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      request.socket.off('close', done);
      resolve();
    }
    request.socket.once('close', done);
  });
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new BadRequest('body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new BadRequest('body is not JSON');
  }
}

const RATE_FIELDS = ['errorRate', 'timeoutRate', 'rateLimitRate'] as const;
const DURATION_FIELDS = ['latencyMs', 'retryAfterSeconds'] as const;

/** The fault settings in `input`, checked; unknown or out-of-range settings are refused. */
export function checkFaults(input: unknown): Partial<LendingFaults> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BadRequest('faults must be a JSON object');
  }
  const checked: Partial<LendingFaults> = {};
  for (const [name, value] of Object.entries(input)) {
    if ((RATE_FIELDS as readonly string[]).includes(name)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new BadRequest(`${name} must be a number from 0 to 1`);
      }
    } else if ((DURATION_FIELDS as readonly string[]).includes(name)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3_600_000) {
        throw new BadRequest(`${name} must be a whole number from 0 to 3600000`);
      }
    } else {
      throw new BadRequest(`unknown fault setting ${JSON.stringify(name.slice(0, 40))}`);
    }
    checked[name as keyof LendingFaults] = value;
  }
  return checked;
}
