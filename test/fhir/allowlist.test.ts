import { isAllowedFhirServer, isUnderBase } from '../../src/fhir/allowlist';

describe('CH-J7 which FHIR servers the service may call', () => {
  const allowlist = ['https://ehr.example.org/fhir/R4', 'http://fhir.hospital.test:8080/'];

  it.each([
    'https://ehr.example.org/fhir/R4',
    'https://ehr.example.org/fhir/R4/',
    'HTTPS://EHR.EXAMPLE.ORG/fhir/R4',
    'https://ehr.example.org:443/fhir/R4',
    'https://ehr.example.org/fhir/R4/tenant-a',
    'http://fhir.hospital.test:8080/anything',
  ])('allows %s on the allowlist (normalized origin + path prefix)', (url) => {
    expect(isAllowedFhirServer(url, allowlist)).toBe(true);
  });

  it.each([
    'https://ehr.example.org/fhir/R4x',
    'https://ehr.example.org/fhir',
    'https://ehr.example.org/fhir/R4/../../admin',
    'https://ehr.example.org/fhir/R4/%2e%2e/%2e%2e/admin',
    'http://ehr.example.org/fhir/R4',
    'https://ehr.example.org.evil.test/fhir/R4',
    'https://evil.test@ehr.example.org/fhir/R4',
    'https://ehr.example.org/fhir/R4?x=1',
    'http://fhir.hospital.test/',
    'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:8080/fhir',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isAllowedFhirServer(url, allowlist)).toBe(false);
  });

  it('with an empty allowlist allows loopback hosts only', () => {
    for (const url of [
      'http://127.0.0.1:3000/fhir',
      'http://127.8.9.10/fhir',
      'http://localhost:8080/fhir',
      'http://[::1]:9000/fhir',
      'http://127.1/fhir',
    ]) {
      expect(isAllowedFhirServer(url, [])).toBe(true);
    }
    for (const url of [
      'http://10.0.0.5/fhir',
      'http://169.254.169.254/',
      'http://localhost.evil.test/fhir',
      'http://0.0.0.0/fhir',
      'https://ehr.example.org/fhir',
    ]) {
      expect(isAllowedFhirServer(url, [])).toBe(false);
    }
  });

  it('keeps paging links on the same server and under its base path', () => {
    const base = 'https://ehr.example.org/fhir/R4';
    expect(isUnderBase('https://ehr.example.org/fhir/R4/Observation?page=2', base)).toBe(true);
    expect(isUnderBase('https://ehr.example.org/other/Observation?page=2', base)).toBe(false);
    expect(isUnderBase('https://attacker.test/fhir/R4/Observation', base)).toBe(false);
    expect(isUnderBase('https://ehr.example.org:8443/fhir/R4/Observation', base)).toBe(false);
  });
});
