// The EHR side of CDS Hooks: discovery, prefetch rendered from the service's templates and read from this
// EHR's FHIR server (as of the scenario time), the hook call, and feedback.
import { readJson } from './fhir.js';
import { bundleAsOf } from './record.js';
import { iso } from './time.js';

const UNAUTHORIZED =
  'The CDS service requires a signed JWT (CDS_TRUSTED_ISSUERS is set) and this sandbox sends unsigned calls: run the demo without CDS_TRUSTED_ISSUERS, or use `ketamine-cds hook --jwt`.';

const USER_TOKEN_TYPES = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

/** Render a prefetch template; null when a token has no value (the key is then sent as null: no data). */
function renderTemplate(template, context) {
  let missing = false;
  const out = template.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_m, token) => {
    let value;
    if (token.startsWith('context.')) value = context[token.slice('context.'.length)];
    else if (USER_TOKEN_TYPES[token]) {
      const [type, id] = String(context.userId ?? '').split('/');
      value = type === USER_TOKEN_TYPES[token] ? id : undefined;
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      missing = true;
      return '';
    }
    return encodeURIComponent(String(value));
  });
  return missing ? null : out;
}

export function createCdsClient({ cdsBase, demoNowHeader, fhir }) {
  const base = cdsBase.replace(/\/+$/, '');

  async function post(url, body, nowMs, signal) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', [demoNowHeader]: iso(nowMs) },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    const json = await readJson(res);
    if (res.status === 401) throw new Error(UNAUTHORIZED);
    if (!res.ok) {
      const detail =
        json?.resourceType === 'OperationOutcome'
          ? (json.issue ?? [])
              .map((i) => i.diagnostics)
              .filter(Boolean)
              .join('; ')
          : '';
      throw new Error(`The CDS service answered ${res.status}${detail ? `: ${detail}` : ''}`);
    }
    return json;
  }

  return {
    async discover() {
      const res = await fetch(base, { headers: { Accept: 'application/json' } });
      if (res.status === 401) throw new Error(UNAUTHORIZED);
      if (!res.ok) throw new Error(`Discovery failed (${res.status})`);
      return (await res.json()).services ?? [];
    },

    async prefetch(service, context, nowMs, signal) {
      const entries = await Promise.all(
        Object.entries(service.prefetch ?? {}).map(async ([key, template]) => {
          const rendered = renderTemplate(template, context);
          if (rendered === null) return [key, null];
          const res = await fhir.getAll(rendered, signal);
          if (res.status === 404) return [key, null];
          if (!res.ok) throw new Error(`Prefetch "${key}" failed on the FHIR server (${res.status})`);
          return [key, bundleAsOf(res.json, nowMs)];
        }),
      );
      return Object.fromEntries(entries);
    },

    /** Send one hook; resolves to { request, response, ms }. `signal` aborts it (a newer choice replaced it). */
    async call(service, context, nowMs, signal) {
      const request = {
        hook: service.hook,
        hookInstance: crypto.randomUUID(),
        fhirServer: fhir.base,
        context,
        prefetch: await this.prefetch(service, context, nowMs, signal),
      };
      const started = performance.now();
      const response = await post(`${base}/${encodeURIComponent(service.id)}`, request, nowMs, signal);
      return { request, response, ms: Math.round(performance.now() - started) };
    },

    feedback(serviceId, items, nowMs) {
      return post(`${base}/${encodeURIComponent(serviceId)}/feedback`, { feedback: items }, nowMs);
    },
  };
}
