/**
 * The README's CLI recipes (`load`, `hook`, `trusted-issuers` + `npm start`), run verbatim in bash, line by
 * line as written, against the program built as `npm start` builds it (tsc, into test-results/) and an
 * in-process FHIR server standing in for the public HAPI server.
 *
 * What differs from a user's terminal, and only that: `npx ketamine-cds` and `npm start` are two small
 * shims on PATH that run the built CLI and service; the public HAPI base is replaced by the in-process
 * server's URL and port 3000 by a free port (the service's PORT); HOME is a temp dir (the CLI's key file);
 * KETAMINE_CDS_JWKS_PORT picks a free port for the JWK Set instead of 3099, and KETAMINE_CDS_SERVICE points the
 * CLI's default --service (http://localhost:3000/cds-services) at that port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startMemoryFhirServer, type MemoryFhirServer } from '../../src/fhir/memory-server';
import { packageRoot } from '../../src/config/paths';
import { parseTrustedIssuers } from '../../src/security/trusted-issuers';
import { freePort } from '../cli/support';

jest.setTimeout(240_000);

const ROOT = packageRoot();
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PUBLIC_HAPI = 'https://hapi.fhir.org/baseR4';

/** The ```sh blocks of the README section headed `heading` (up to the next heading of the same level). */
function shellBlocks(heading: string): string[] {
  const start = README.indexOf(`\n### ${heading}`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = README.slice(start + 1).search(/\n#{2,3} /);
  const section = end < 0 ? README.slice(start) : README.slice(start, start + 1 + end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** The command lines of a block (comments and blank lines dropped; `\` continuations joined). */
const commands = (block: string): string[] =>
  block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

const run = promisify(execFile);

describe('the README CLI recipes, run verbatim', () => {
  let work: string;
  let build: string;
  let fhir: MemoryFhirServer;
  let port: number;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  /** bash -c with the shims first on PATH; the README's hosts put on the test's servers. */
  const sh = async (line: string) => {
    const command = line.replaceAll(PUBLIC_HAPI, fhir.baseUrl).replaceAll('localhost:3000', `localhost:${port}`);
    try {
      const { stdout, stderr } = await run('bash', ['-c', `set -euo pipefail\n${command}`], {
        env,
        cwd: ROOT,
        timeout: 120_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  /** Runs a README line that starts the service in the background (`… npm start &`), as a child we can stop. */
  const background = (line: string) => {
    const command = line.replace(/&\s*$/, '').replaceAll('localhost:3000', `localhost:${port}`);
    // its own process group (bash and the service under it), stopped as one
    const child = spawn('bash', ['-c', command], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    children.push(child);
    return { child, output: () => output };
  };

  const stopChildren = async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  };

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ketamine-cds-readme-'));
    // built as `npm start` builds it (tsc), inside the project so that it finds its files and node_modules
    mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    build = mkdtempSync(path.join(ROOT, 'test-results', 'readme-build-'));
    // its own build-info file: dist/.tsbuildinfo describes dist/ only (npm start's up-to-date check reads it)
    const tscArgs = [
      '-p',
      'tsconfig.build.json',
      '--outDir',
      build,
      '--tsBuildInfoFile',
      path.join(build, '.tsbuildinfo'),
    ];
    await run('npx', ['tsc', ...tscArgs], { cwd: ROOT, timeout: 180_000 });
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    const shim = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    shim(
      'npx',
      `if [ "$1" = ketamine-cds ]; then shift; exec node "${build}/src/cli/bin.js" "$@"; fi\necho "npx shim: only ketamine-cds" >&2; exit 127`,
    );
    shim(
      'npm',
      `if [ "$1" = start ]; then exec node "${build}/src/main.js"; fi\necho "npm shim: only start" >&2; exit 127`,
    );
    fhir = await startMemoryFhirServer();
    port = await freePort();
    env = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: work,
      PORT: String(port),
      FEEDBACK_DB: path.join(work, 'feedback.sqlite'),
      LOG_LEVEL: 'silent',
      DEADLINE_MS: '15000',
      DEMO: 'on',
      KETAMINE_CDS_JWKS_PORT: String(await freePort()),
      KETAMINE_CDS_SERVICE: `http://localhost:${port}/cds-services`,
      NO_COLOR: '1',
    };
  });

  afterAll(async () => {
    await stopChildren();
    await fhir?.close();
    rmSync(work, { recursive: true, force: true });
    if (build) rmSync(build, { recursive: true, force: true });
  });

  afterEach(stopChildren);

  const waitForService = async () => {
    for (let i = 0; i < 120; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('the service did not start');
  };

  it('when a user loads the examples at titration and plays the EHR, each line succeeds and the cards are live', async () => {
    const [block] = shellBlocks('The CLI: any FHIR server (a public HAPI sandbox), the service, and no EHR');
    const lines = commands(block ?? '');
    expect(lines).toEqual([
      expect.stringMatching(/^npx ketamine-cds load --fhir https:\/\/hapi\.fhir\.org\/baseR4 --at titration$/),
      expect.stringMatching(/^npx ketamine-cds hook patient-view /),
      expect.stringMatching(/^npx ketamine-cds hook order-select /),
      expect.stringMatching(/^npx ketamine-cds hook order-sign /),
    ]);
    // "With the service running (`npm start` in another terminal)"
    background('npm start &');
    await waitForService();
    const results = [];
    for (const line of lines) results.push({ line, ...(await sh(line)) });
    for (const r of results)
      expect({ line: r.line, code: r.code, stderr: r.stderr }).toEqual({
        line: r.line,
        code: 0,
        stderr: expect.any(String),
      });
    const [load, patientView, orderSelect, orderSign] = results;
    expect(load?.stdout).toMatch(/Patient\/case1-patient .*now: .*\(T8\)/);
    expect(patientView?.stdout).toContain('rule T8');
    expect(orderSelect?.stdout).toMatch(/rule O\d/);
    expect(JSON.parse(orderSign?.stdout ?? '')).toHaveProperty('cards');
  });

  it('when a user follows the JWT recipe, trusted-issuers prints only the JSON value, and the service starts with it and trusts the signed call', async () => {
    const blocks = shellBlocks('The CLI: any FHIR server (a public HAPI sandbox), the service, and no EHR');
    const lines = commands(blocks[1] ?? '');
    expect(lines[0]).toBe('CDS_TRUSTED_ISSUERS="$(npx ketamine-cds trusted-issuers)" npm start &');
    // the inner command alone: stdout parses as the setting's JSON (the first run's note goes to stderr)
    const printed = await sh('npx ketamine-cds trusted-issuers');
    expect(printed.code).toBe(0);
    expect(parseTrustedIssuers(printed.stdout.trim())).toHaveLength(1);
    expect(printed.stderr).toContain('Created a new ES384 key');
    const again = await sh('npx ketamine-cds trusted-issuers');
    expect(again).toEqual({ code: 0, stdout: printed.stdout, stderr: '' });

    const service = background(lines[0] ?? '');
    for (const line of lines.slice(1, -1)) {
      const r = await sh(line); // the wait for the service
      expect({ line, code: r.code, output: service.output() }).toMatchObject({ code: 0 });
    }
    const call = await sh(lines.at(-1) ?? '');
    expect({ code: call.code, stderr: call.stderr }).toMatchObject({ code: 0 });
    expect(call.stdout).toContain('rule ');
    // and unsigned, the same call is refused: the service did start with authentication on
    const unsigned = await sh((lines.at(-1) ?? '').replace(' --jwt', ''));
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toContain('401 Unauthorized');
  });

  it('when the Sandbox walk-through moves the cases to another moment, the command works as written', async () => {
    const section = README.slice(README.indexOf('### Walk through it with the CDS Hooks Sandbox'));
    const line = /`(npx ketamine-cds load --fhir http:\/\/localhost:3000\/fhir --at taper)`/.exec(section)?.[1];
    expect(line).toBeDefined();
    background('npm start &');
    await waitForService();
    const r = await sh(line ?? '');
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/Patient\/case1-patient .*now: .*\(T4\)/);
    const view = await sh(
      'npx ketamine-cds hook patient-view --fhir http://localhost:3000/fhir --patient case1-patient',
    );
    expect(view.stdout).toContain('rule T4');
  });
});
