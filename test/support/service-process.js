/**
 * Child-process entry for tests that need real service processes (test/ops/processes.test.ts): compiles
 * the TypeScript sources on the fly with @swc/core (as jest does), then runs src/main.ts's start() with the
 * environment and stops on SIGTERM like `npm start`. Not used in production (which runs dist/).
 */
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs', ignoreDynamic: true },
  });
  module._compile(code, filename);
};

const { start, stopOnSignals } = require('../../src/main.ts');
start().then(
  (running) => stopOnSignals(running),
  (err) => {
    process.stderr.write(`cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
