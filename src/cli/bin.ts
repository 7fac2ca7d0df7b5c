#!/usr/bin/env node
/** The `ketamine-cds` executable (package.json "bin": dist/src/cli/bin.js). */
import { runCli } from './run';

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ketamine-cds: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
