/** The problems loadConfig reports for an environment (the test fails when the configuration is accepted). */
import { ConfigError, loadConfig } from '../../src/config/env';

export function configProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}
