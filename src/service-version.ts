import packageJson from '../package.json' with { type: 'json' };

/** Written into every dead letter (SPEC §4.4) and the start-up log line. */
export const SERVICE_VERSION: string = packageJson.version;
