import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SETTINGS } from '../../src/config/settings';

const root = path.resolve(__dirname, '../..');

describe('the README settings table', () => {
  it('when the settings schema changes, the README table must be regenerated (src/scripts/settings-table.mjs --write)', () => {
    const table = execFileSync(process.execPath, [path.join(root, 'src/scripts/settings-table.mjs')], {
      encoding: 'utf8',
    }).trim();
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(table).toContain('| `PORT` | `3000` | port to listen on (`0` = any free port) |');
    const start = readme.indexOf('<!-- settings:begin');
    const end = readme.indexOf('<!-- settings:end -->');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(readme.indexOf('\n', start) + 1, end).trim()).toBe(table);
  });

  it('when env.ts reads a variable, the schema declares it, and every declared setting is read somewhere', () => {
    const envTs = readFileSync(path.join(root, 'src/config/env.ts'), 'utf8');
    const read = new Set([...envTs.matchAll(/\b(?:text|integer|size)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]));
    const declared = Object.entries(SETTINGS)
      .filter(([, s]) => s.readBy === undefined)
      .map(([name]) => name);
    expect([...read].sort()).toEqual([...declared].sort());
    for (const [name, s] of Object.entries(SETTINGS)) {
      if (s.readBy !== undefined)
        expect(readFileSync(path.join(root, s.readBy.split(' ')[0]!), 'utf8')).toContain(name);
    }
  });
});
