/**
 * The time an event happened, as SPEC §4.3 orders by it. Pure calendar arithmetic on integers:
 * no Date, so nothing is rounded to milliseconds and no year is reinterpreted (Date.UTC maps
 * years 0..99 to 1900..1999).
 */

/**
 * RFC 3339 date-time with a mandatory offset (Z or ±hh:mm, either case of T and Z), up to 9
 * fractional digits. Leap seconds (:60) are refused: ordering one against the next second
 * would need a leap-second table, and no producer we know sends them.
 */
export const OCCURRED_AT_PATTERN =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])([01]\d|2[0-3]):([0-5]\d))$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** The inverse of daysFromCivil (H. Hinnant's civil_from_days). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * RFC 3339 (with an offset) -> UTC `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: fixed width, so string
 * order is time order (SPEC §4.3 orders writes by occurredAt). Offsets are whole minutes, so
 * the arithmetic is on minutes and the fraction is carried over untouched: all 9 digits kept.
 * Returns undefined when the text is not such a timestamp, or when its UTC form falls outside
 * years 0000..9999.
 */
export function normaliseOccurredAt(text: string): string | undefined {
  const match = OCCURRED_AT_PATTERN.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', sign, offsetHours, offsetMinutes] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (day > daysInMonth(year, month)) return undefined;
  const offset = sign
    ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes))
    : 0;
  const utcMinutes = daysFromCivil(year, month, day) * 1440 + Number(h) * 60 + Number(mi) - offset;
  const utcDays = Math.floor(utcMinutes / 1440);
  const minuteOfDay = utcMinutes - utcDays * 1440;
  const utc = civilFromDays(utcDays);
  if (utc.year < 0 || utc.year > 9999) return undefined;
  const date = `${pad(utc.year, 4)}-${pad(utc.month, 2)}-${pad(utc.day, 2)}`;
  const time = `${pad(Math.floor(minuteOfDay / 60), 2)}:${pad(minuteOfDay % 60, 2)}:${s}`;
  return `${date}T${time}.${fraction.padEnd(9, '0')}Z`;
}

/** How far ahead of our clock an event's occurredAt may be (producers' clocks drift). */
export const MAX_CLOCK_SKEW_HOURS = 24;

let latestAccepted = { second: Number.NaN, text: '' };

/**
 * The latest occurredAt accepted at `nowMs`, normalised, truncated to the second: a second more
 * or less of tolerance on 24 hours changes nothing, and computed once a second instead of once
 * an event it costs nothing (it was a sixth of the validation's CPU, bench/).
 */
export function latestAcceptedOccurredAt(nowMs: number): string {
  const second = Math.floor(nowMs / 1_000);
  if (second !== latestAccepted.second) {
    const limit = new Date(second * 1_000 + MAX_CLOCK_SKEW_HOURS * 3_600_000).toISOString();
    latestAccepted = { second, text: normaliseOccurredAt(limit) ?? '' };
  }
  return latestAccepted.text;
}

/**
 * A normalised occurredAt as people read it: milliseconds, or micro-/nanoseconds when the
 * event carried them (`2026-03-01T10:00:00.120000000Z` -> `2026-03-01T10:00:00.120Z`).
 */
export function readableOccurredAt(normalised: string): string {
  const match = /^(.*\.\d{3})(\d{3})(\d{3})Z$/.exec(normalised);
  if (match === null) return normalised;
  const [, milliseconds, micro, nano] = match;
  if (nano !== '000') return normalised;
  return micro === '000' ? `${milliseconds}Z` : `${milliseconds}${micro}Z`;
}
