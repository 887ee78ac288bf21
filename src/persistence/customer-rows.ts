import { sql } from 'drizzle-orm';
import type { CustomerFieldValues, JsonObject } from '../domain/customer-fields.ts';
import type { FieldStamps } from '../domain/customer-record.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import type { MetadataRegisters } from '../domain/metadata-registers.ts';

/** ISO 8601 in UTC with milliseconds, as every timestamp leaves the database. */
export const isoTimestamp = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** The select list that `customerFromRow` reads. */
export const CUSTOMER_COLUMNS = sql`
  c.tenant_id, c.external_id, c.task_type, c.first_name, c.last_name, c.email,
  c.birthday::text as birthday, c.ssn_last4, c.timezone, c.phone, c.address1, c.address2,
  c.city, c.state, c.zip, c.do_not_call, c.is_test, c.metadata, c.field_stamps,
  c.metadata_registers, c.version, ${isoTimestamp('c.created_at')} as created_at,
  ${isoTimestamp('c.updated_at')} as updated_at`;

export type CustomerRow = {
  tenant_id: string;
  external_id: string;
  task_type: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  birthday: string | null;
  ssn_last4: string | null;
  timezone: string | null;
  phone: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  do_not_call: boolean | null;
  is_test: boolean | null;
  metadata: JsonObject;
  field_stamps: FieldStamps;
  metadata_registers: MetadataRegisters;
  version: number;
  created_at: string;
  updated_at: string;
};

export function customerFromRow(row: CustomerRow): StoredCustomer {
  const values: CustomerFieldValues = {
    taskType: row.task_type,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    birthday: row.birthday,
    ssnLast4: row.ssn_last4,
    timezone: row.timezone,
    phone: row.phone,
    address1: row.address1,
    address2: row.address2,
    city: row.city,
    state: row.state,
    zip: row.zip,
    doNotCall: row.do_not_call,
    isTest: row.is_test,
  };
  return {
    tenantId: row.tenant_id,
    externalId: row.external_id,
    record: {
      values,
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
  return {
    tenant_id: customer.tenantId,
    external_id: customer.externalId,
    task_type: values.taskType,
    first_name: values.firstName,
    last_name: values.lastName,
    email: values.email,
    birthday: values.birthday,
    ssn_last4: values.ssnLast4,
    timezone: values.timezone,
    phone: values.phone,
    address1: values.address1,
    address2: values.address2,
    city: values.city,
    state: values.state,
    zip: values.zip,
    do_not_call: values.doNotCall,
    is_test: values.isTest,
    metadata,
    field_stamps: stamps,
    metadata_registers: metadataRegisters,
    version,
    created_at: customer.createdAt,
    updated_at: customer.updatedAt,
  };
}

/** The column list of a CustomerRow set passed as one jsonb parameter. */
export const CUSTOMER_RECORDSET = sql`(
  tenant_id text, external_id text, task_type text, first_name text, last_name text, email text,
  birthday date, ssn_last4 text, timezone text, phone text, address1 text, address2 text,
  city text, state text, zip text, do_not_call boolean, is_test boolean, metadata jsonb,
  field_stamps jsonb, metadata_registers jsonb, version integer, created_at timestamptz,
  updated_at timestamptz)`;

/** A set of customers and the pairs that name them, as jsonb parameters for set-based SQL. */
export function keysParameter(keys: ReadonlyArray<{ tenantId: string; externalId: string }>) {
  return JSON.stringify(
    keys.map((key) => ({ tenant_id: key.tenantId, external_id: key.externalId })),
  );
}
