import { loadParameters } from '../../src/config/parameters';
import { renderProtocolPage } from '../../src/http/docs';

describe('the protocol page the cards link to', () => {
  const { file, values } = loadParameters();
  const html = renderProtocolPage(file, values, new Date('2026-03-10T12:00:00Z'));

  it('lists every rule id with its meaning and every parameter with its value, unit and provenance', () => {
    for (const id of ['P0', 'S1', 'S3', 'T8', 'O6']) expect(html).toContain(`<td>${id}</td>`);
    for (const [name, p] of Object.entries(file.parameters))
      expect(html).toContain(`<td>${name}</td><td>${p.value}</td>`);
    expect(html).toContain(file.protocolVersion);
  });

  it('escapes what it prints from the parameter file (no markup injection from a rationale)', () => {
    const tampered = { ...file, title: '<script>alert(1)</script>' };
    const page = renderProtocolPage(tampered, values, new Date());
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;');
  });
});
