import { parseTrustedIssuers, TrustedIssuersError } from '../../src/security/jwt';

const sandbox = {
  iss: 'https://sandbox.cds-hooks.org',
  jwks_uri: 'https://sandbox.cds-hooks.org/.well-known/jwks.json',
  jku: ['https://sandbox.cds-hooks.org/.well-known/jwks.json'],
};

describe('CDS_TRUSTED_ISSUERS', () => {
  it('CH-J4 a list of issuers with https key URLs is read as given', () => {
    const epic = { iss: 'https://fhir.epic.example/interconnect', jwks_uri: 'https://fhir.epic.example/jwks' };
    expect(parseTrustedIssuers(JSON.stringify([sandbox, epic]))).toEqual([sandbox, epic]);
  });

  it('CH-J4 plain http is allowed only for loopback key URLs (tests and the demo)', () => {
    const local = [
      { iss: 'http://127.0.0.1:9000', jwks_uri: 'http://127.0.0.1:9000/jwks', jku: ['http://localhost:9000/jwks'] },
    ];
    expect(parseTrustedIssuers(JSON.stringify(local))).toEqual(local);
    expect(() => parseTrustedIssuers(JSON.stringify([{ iss: 'x', jwks_uri: 'http://ehr.example.org/jwks' }]))).toThrow(
      /\[0\]\.jwks_uri must be an https URL/,
    );
    expect(() => parseTrustedIssuers(JSON.stringify([{ ...sandbox, jku: ['http://10.0.0.5/jwks'] }]))).toThrow(
      /\[0\]\.jku\[0\] must be an https URL/,
    );
  });

  it('when the value is not JSON or not a non-empty list, startup stops with a clear message', () => {
    expect(() => parseTrustedIssuers('not json')).toThrow(TrustedIssuersError);
    expect(() => parseTrustedIssuers('not json')).toThrow(/not valid JSON/);
    expect(() => parseTrustedIssuers(JSON.stringify(sandbox))).toThrow(/must be a JSON array/);
    expect(() => parseTrustedIssuers('[]')).toThrow(/at least one/);
  });

  it('every problem is listed with its position: missing iss, bad URL, unknown field, duplicate', () => {
    const value = JSON.stringify([
      { jwks_uri: 'https://a.example/jwks' },
      { iss: 'https://b.example', jwks_uri: 'not a url' },
      { iss: 'https://c.example', jwksUri: 'https://c.example/jwks', jwks_uri: 'https://c.example/jwks' },
      sandbox,
      sandbox,
      { iss: 'https://d.example', jwks_uri: 'https://user:pw@d.example/jwks', jku: 'https://d.example/jwks' },
      'https://e.example',
    ]);
    let message = '';
    try {
      parseTrustedIssuers(value);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/\[0\]\.iss must be a non-empty string/);
    expect(message).toMatch(/\[1\]\.jwks_uri is not a URL/);
    expect(message).toMatch(/\[2\]\.jwksUri is not a known field/);
    expect(message).toMatch(/\[4\]\.iss "https:\/\/sandbox\.cds-hooks\.org" is listed twice/);
    expect(message).toMatch(/\[5\]\.jwks_uri must not carry credentials/);
    expect(message).toMatch(/\[5\]\.jku must be an array/);
    expect(message).toMatch(/\[6\] must be an object/);
  });
});
