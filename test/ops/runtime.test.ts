import { nodeVersionWarning } from '../../src/ops/runtime';

describe('the supported Node version', () => {
  it('when the service runs on Node 22 or 24, there is no warning', () => {
    expect(nodeVersionWarning('22.12.0')).toBeNull();
    expect(nodeVersionWarning('v24.21.0')).toBeNull();
  });

  it('when it runs on Node 20 (past end of life), it starts with a warning naming Node 24 LTS', () => {
    expect(nodeVersionWarning('20.20.0')).toMatch(/Node 20\.20\.0 is past end of life.*Node 24 LTS/);
  });
});
