export const CUSTOMER_FIELDS = [
  'taskType',
  'firstName',
  'lastName',
  'email',
  'birthday',
  'ssnLast4',
  'timezone',
  'phone',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'doNotCall',
  'isTest',
] as const;
export type CustomerFieldName = (typeof CUSTOMER_FIELDS)[number];
export interface CustomerFieldValues {
  taskType: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  /** YYYY-MM-DD */
  birthday: string | null;
  ssnLast4: string | null;
  timezone: string | null;
  /** E.164 */
  phone: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  doNotCall: boolean | null;
  isTest: boolean | null;
}
/** A partial update: an absent key leaves the field unchanged, null clears it (SPEC §3). */
export type CustomerPatch = Partial<CustomerFieldValues>;
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
