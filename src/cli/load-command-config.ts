import { type Config, type ConfigNeed, loadConfig } from '../config/config.ts';
import { ConfigurationError } from './usage-error.ts';

/** The configuration a command needs, or a ConfigurationError naming every bad variable. */
export function loadCommandConfig(needs: readonly ConfigNeed[]): Config {
  const result = loadConfig(process.env, needs);
  if (!result.ok) throw new ConfigurationError(result.problems);
  return result.config;
}
