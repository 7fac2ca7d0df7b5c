/** EVAL_WORKERS: how many worker threads evaluate the CQL (src/cql/pool.ts); 0 = on the HTTP thread. */
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from '../../src/config/env';

describe('EVAL_WORKERS', () => {
  it('when unset, the pool has one worker per CPU', () => {
    expect(loadConfig({}).config.evalWorkers).toBe(availableParallelism());
  });

  it('when 0, the CQL runs on the HTTP thread; any other whole number is the pool size', () => {
    expect(loadConfig({ EVAL_WORKERS: '0' }).config.evalWorkers).toBe(0);
    expect(loadConfig({ EVAL_WORKERS: '3' }).config.evalWorkers).toBe(3);
  });

  it('when it is not a whole number from 0 to 64, startup stops with a message naming it', () => {
    for (const value of ['-1', 'two', '1.5', '65']) {
      let problems: string[] = [];
      try {
        loadConfig({ EVAL_WORKERS: value });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        problems = (err as ConfigError).problems;
      }
      expect(problems.join('\n')).toMatch(/EVAL_WORKERS must be a whole number from 0 to 64/);
    }
  });
});
