import { type SQL, sql } from 'drizzle-orm';
import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerFieldValues,
  type JsonObject,
} from '../domain/customer-fields.ts';
import type { FieldStamps } from '../domain/customer-record.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import type { MetadataRegisters } from '../domain/metadata-registers.ts';

/**
 * The one table of how customer fields map to columns (schema.ts declares the same columns for
 * migrations); every customer statement below is derived from it, so adding a field is one line.
 */
const FIELD_COLUMNS = {
  taskType: ['task_type', 'text'],
  firstName: ['first_name', 'text'],
  lastName: ['last_name', 'text'],
  email: ['email', 'text'],
  birthday: ['birthday', 'date'],
  ssnLast4: ['ssn_last4', 'text'],
  timezone: ['timezone', 'text'],
  phone: ['phone', 'text'],
  address1: ['address1', 'text'],
  address2: ['address2', 'text'],
  city: ['city', 'text'],
  state: ['state', 'text'],
  zip: ['zip', 'text'],
  doNotCall: ['do_not_call', 'boolean'],
  isTest: ['is_test', 'boolean'],
} as const satisfies Record<CustomerFieldName, readonly [string, 'text' | 'date' | 'boolean']>;

/** Columns that follow the fields, with their types as the recordset declares them. */
const STATE_COLUMNS = [
  ['metadata', 'jsonb'],
  ['field_stamps', 'jsonb'],
  ['metadata_registers', 'jsonb'],
  ['version', 'integer'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
] as const;

type FieldColumn = (typeof FIELD_COLUMNS)[CustomerFieldName][0];

/** A customers row as the statements below read and write it (snake_case, dates as text). */
export type CustomerRow = {
  tenant_id: string;
  external_id: string;
  metadata: JsonObject;
  field_stamps: FieldStamps;
  metadata_registers: MetadataRegisters;
  version: number;
  created_at: string;
  updated_at: string;
} & Record<FieldColumn, string | boolean | null>;

const ALL_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['tenant_id', 'text'],
  ['external_id', 'text'],
  ...CUSTOMER_FIELDS.map((field) => FIELD_COLUMNS[field]),
  ...STATE_COLUMNS,
];

/** ISO 8601 in UTC with milliseconds, as every timestamp leaves the database. */
const isoTimestampText = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const isoTimestamp = (column: string) => sql.raw(isoTimestampText(column));

const SELECT_LIST = sql.raw(
  ALL_COLUMNS.map(([column, type]) => {
    if (type === 'date') return `c.${column}::text as ${column}`;
    if (type === 'timestamptz') return `${isoTimestampText(`c.${column}`)} as ${column}`;
    return `c.${column}`;
  }).join(', '),
);

const RECORDSET_COLUMNS = sql.raw(
  ALL_COLUMNS.map(([column, type]) => `${column} ${type}`).join(', '),
);
const INSERT_COLUMNS = sql.raw(ALL_COLUMNS.map(([column]) => column).join(', '));
// created_at is kept from the first insert: it is when the customer was created.
const UPDATE_ASSIGNMENTS = sql.raw(
  ALL_COLUMNS.filter(([column]) => !['tenant_id', 'external_id', 'created_at'].includes(column))
    .map(([column]) => `${column} = excluded.${column}`)
    .join(', '),
);

/** The customers named by `keys` (the pairs, SPEC §4.7), one set-based statement. */
export function selectCustomersByKeys(
  keys: ReadonlyArray<{ tenantId: string; externalId: string }>,
): SQL {
  return sql`
    select ${SELECT_LIST} from customers c
    join json_to_recordset(${keysParameter(keys)}::json) as k(tenant_id text, external_id text)
      on c.tenant_id = k.tenant_id and c.external_id = k.external_id`;
}

/** Inserts or overwrites whole customers, one set-based statement whatever their number. */
export function upsertCustomers(customers: readonly StoredCustomer[]): SQL {
  return sql`
    insert into customers (${INSERT_COLUMNS})
    select * from jsonb_to_recordset(${JSON.stringify(customers.map(customerToRow))}::jsonb)
      as r(${RECORDSET_COLUMNS})
    on conflict (tenant_id, external_id) do update set ${UPDATE_ASSIGNMENTS}`;
}

export function customerFromRow(row: CustomerRow): StoredCustomer {
  const values = {} as Record<CustomerFieldName, unknown>;
  for (const field of CUSTOMER_FIELDS) values[field] = row[FIELD_COLUMNS[field][0]];
  return {
    tenantId: row.tenant_id,
    externalId: row.external_id,
    record: {
      values: values as unknown as CustomerFieldValues,
      stamps: row.field_stamps,
      metadataRegisters: row.metadata_registers,
      metadata: row.metadata,
      version: row.version,
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function customerToRow(customer: StoredCustomer): CustomerRow {
  const { values, stamps, metadataRegisters, metadata, version } = customer.record;
  const row: Record<string, unknown> = {
    tenant_id: customer.tenantId,
    external_id: customer.externalId,
  };
  for (const field of CUSTOMER_FIELDS) row[FIELD_COLUMNS[field][0]] = values[field];
  return {
    ...(row as Pick<CustomerRow, 'tenant_id' | 'external_id'> &
      Record<FieldColumn, string | boolean | null>),
    metadata,
    field_stamps: stamps,
    metadata_registers: metadataRegisters,
    version,
    created_at: customer.createdAt,
    updated_at: customer.updatedAt,
  };
}

/** A set of customers and the pairs that name them, as jsonb parameters for set-based SQL. */
export function keysParameter(keys: ReadonlyArray<{ tenantId: string; externalId: string }>) {
  return JSON.stringify(
    keys.map((key) => ({ tenant_id: key.tenantId, external_id: key.externalId })),
  );
}
