/**
 * The lending-system contract three ways: schemas/lending-system.openapi.json (for the people
 * who build a lending system's side), the zod parsers the client uses, and the simulator's
 * seeded data. They must agree, so that the simulator is a fair stand-in and the document
 * tells the truth about what the client accepts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  externalIdOfLoanReference,
  seededCustomer,
  seededLoans,
  UNKNOWN_CUSTOMER_PREFIX,
} from '../../dev/lending-simulator/lending-simulator-data.ts';
import {
  LENDING_PATHS,
  parseLendingCustomer,
  parseLendingLoans,
} from '../../src/contracts/lending-system.ts';
import { ENRICHABLE_FIELDS } from '../../src/domain/fill-missing-fields.ts';

const document = JSON.parse(
  readFileSync(new URL('../../schemas/lending-system.openapi.json', import.meta.url), 'utf8'),
) as {
  openapi: string;
  paths: Record<string, unknown>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, 'lending-system');
const validator = (name: string) => {
  const validate = ajv.getSchema(`lending-system#/components/schemas/${name}`);
  assert.ok(validate, name);
  return (value: unknown) => {
    const ok = validate(value) as boolean;
    return { ok, errors: JSON.stringify(validate.errors) };
  };
};
const openApiCustomer = validator('Customer');
const openApiLoans = validator('LoanList');

const externalIds = Array.from({ length: 200 }, (_, index) => `customer-${index}`);

describe('the lending-system contract (SPEC §6)', () => {
  it('is an OpenAPI 3.1 document with the three lookups the client makes', () => {
    assert.equal(document.openapi, '3.1.0');
    const paths = Object.keys(document.paths).map((path) =>
      path.slice(1).replace(/\{(\w+)\}/g, (_, name: string) => `:${name}`),
    );
    assert.deepEqual(
      paths.toSorted(),
      [
        LENDING_PATHS.customer(':tenantId', ':externalId'),
        LENDING_PATHS.customerByLoanReference(':tenantId', ':loanReferenceId'),
        LENDING_PATHS.loans(':tenantId', ':externalId'),
      ]
        .map((path) => decodeURIComponent(path))
        .toSorted(),
    );
  });

  it('describes exactly the customer fields enrichment may fill', () => {
    const properties = Object.keys(document.components.schemas.Customer?.properties ?? {});
    assert.deepEqual(properties.toSorted(), ['externalId', ...ENRICHABLE_FIELDS].toSorted());
  });

  it("serves simulator customers and loans that both the document and the client's parser accept", () => {
    for (const externalId of externalIds) {
      const customer = seededCustomer('seed', 'tenant-a', externalId);
      const verdict = openApiCustomer(customer);
      assert.ok(verdict.ok, verdict.errors);
      const parsed = parseLendingCustomer(customer);
      assert.deepEqual(parsed?.rejectedFields, [], externalId);
      const loans = { loans: seededLoans('seed', 'tenant-a', externalId) };
      const loansVerdict = openApiLoans(loans);
      assert.ok(loansVerdict.ok, loansVerdict.errors);
      assert.equal(parseLendingLoans(loans)?.length, loans.loans.length);
    }
  });

  it('normalises lending-system data exactly like event data', () => {
    const parsed = parseLendingCustomer({
      externalId: 'c-1',
      firstName: '  Ann ',
      email: 'Ann.Lee@Example.COM',
      phone: '(415) 555-0132',
      state: 'ca',
      timezone: 'america/new_york',
    });
    assert.deepEqual(parsed?.values, {
      firstName: 'Ann',
      email: 'Ann.Lee@example.com',
      phone: '+14155550132',
      state: 'CA',
      timezone: 'America/New_York',
    });
  });

  it('drops, and names, the fields that break their rule; keeps the rest', () => {
    const parsed = parseLendingCustomer({
      externalId: 'c-1',
      firstName: 'Ann',
      phone: 'call me',
      zip: 123,
      birthday: '2999-01-01',
      unknownExtra: 'ignored',
    });
    assert.deepEqual(parsed?.values, { firstName: 'Ann' });
    assert.deepEqual(parsed?.rejectedFields, ['birthday', 'phone', 'zip']);
  });

  it('refuses a customer without a valid externalId', () => {
    assert.equal(parseLendingCustomer({ firstName: 'Ann' }), undefined);
    assert.equal(parseLendingCustomer({ externalId: 'has space' }), undefined);
    assert.equal(parseLendingCustomer([]), undefined);
  });

  it('refuses loans that break the contract, in the document and in the parser alike', () => {
    const good = seededLoans('seed', 'tenant-a', 'c-1')[0];
    const broken = [
      { ...good, principal: 1234.5 },
      { ...good, currency: 'usd' },
      { ...good, openedOn: '2020-02-30' },
      { ...good, status: 'Open' },
      { ...good, id: 0 },
    ];
    for (const loan of broken) {
      assert.equal(parseLendingLoans({ loans: [loan] }), undefined, JSON.stringify(loan));
    }
    // The document's pattern cannot see that February 30 does not exist; the parser can.
    for (const loan of broken.filter((l) => l.openedOn !== '2020-02-30')) {
      assert.equal(openApiLoans({ loans: [loan] }).ok, false, JSON.stringify(loan));
    }
    assert.equal(parseLendingLoans({ loans: [good, good] }), undefined, 'duplicate ids');
    assert.equal(parseLendingLoans({}), undefined);
  });

  it('fills in the optional loan members a lending system leaves out', () => {
    const [loan] = parseLendingLoans({ loans: [{ id: 7, status: 'open' }] }) ?? [];
    assert.deepEqual(loan, {
      id: 7,
      reference: null,
      status: 'open',
      principal: null,
      balance: null,
      currency: null,
      openedOn: null,
      closedOn: null,
      daysPastDue: null,
    });
  });

  describe('the simulator data', () => {
    it('is the same for the same seed, and differs between seeds', () => {
      assert.deepEqual(seededCustomer('a', 't', 'c-1'), seededCustomer('a', 't', 'c-1'));
      assert.deepEqual(seededLoans('a', 't', 'c-1'), seededLoans('a', 't', 'c-1'));
      assert.notDeepEqual(seededCustomer('a', 't', 'c-1'), seededCustomer('b', 't', 'c-1'));
    });

    it(`knows no customer whose externalId starts with "${UNKNOWN_CUSTOMER_PREFIX}"`, () => {
      assert.equal(seededCustomer('a', 't', `${UNKNOWN_CUSTOMER_PREFIX}1`), undefined);
      assert.deepEqual(seededLoans('a', 't', `${UNKNOWN_CUSTOMER_PREFIX}1`), []);
    });

    it('finds the customer from each of their loan references', () => {
      for (const externalId of ['c-1', 'a:b.c_d-e']) {
        for (const loan of seededLoans('a', 't', externalId)) {
          assert.equal(externalIdOfLoanReference(loan.reference ?? ''), externalId);
        }
      }
      assert.equal(externalIdOfLoanReference('no-reference'), undefined);
    });
  });
});
