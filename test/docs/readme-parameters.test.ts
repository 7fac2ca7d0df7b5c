import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

describe('the README parameter table', () => {
  it('when the parameter file changes, the README table must be regenerated (src/scripts/params-table.mjs --write)', () => {
    const root = path.resolve(__dirname, '../..');
    const table = execFileSync(process.execPath, [path.join(root, 'src/scripts/params-table.mjs')], {
      encoding: 'utf8',
    }).trim();
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(table).toContain('| `hardMaxRate` | 1 | `mg/kg/h` |');
    expect(readme).toContain(table);
  });
});
