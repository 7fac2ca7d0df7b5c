// A small FHIR R4 REST client over fetch, for the page's own reads and writes.
const FHIR_JSON = 'application/fhir+json';
const MAX_PAGES = 20;

/** A response body as JSON, or undefined when it is empty or not JSON (servers answer errors in many shapes). */
export async function readJson(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

class FhirError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function outcomeText(body) {
  if (body?.resourceType !== 'OperationOutcome') return '';
  return (body.issue ?? [])
    .map((i) => i.diagnostics ?? i.details?.text ?? '')
    .filter(Boolean)
    .join('; ');
}

export function createFhirClient(base) {
  const root = base.replace(/\/+$/, '');
  const url = (relative) => (/^https?:/.test(relative) ? relative : `${root}/${relative.replace(/^\/+/, '')}`);

  async function request(method, relative, body, signal) {
    const res = await fetch(url(relative), {
      method,
      headers: { Accept: FHIR_JSON, ...(body ? { 'Content-Type': FHIR_JSON } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    const json = await readJson(res);
    return { status: res.status, ok: res.ok, json };
  }

  async function must(method, relative, body, signal) {
    const res = await request(method, relative, body, signal);
    if (!res.ok)
      throw new FhirError(
        `FHIR ${method} ${relative} failed (${res.status})${outcomeText(res.json) ? `: ${outcomeText(res.json)}` : ''}`,
        res.status,
        res.json,
      );
    return res.json;
  }

  /**
   * GET relative; a searchset's next pages are merged (as an EHR hands a whole result to the service).
   * Reads take an optional AbortSignal: the page aborts the reads of a choice the user has replaced.
   */
  async function getAll(relative, signal) {
    const first = await request('GET', relative, undefined, signal);
    if (!first.ok || first.json?.resourceType !== 'Bundle') return first;
    const bundle = first.json;
    let next = bundle.link?.find((l) => l.relation === 'next')?.url;
    for (let page = 1; next && page < MAX_PAGES; page++) {
      const more = await request('GET', next, undefined, signal);
      if (!more.ok) break;
      bundle.entry = [...(bundle.entry ?? []), ...(more.json.entry ?? [])];
      next = more.json.link?.find((l) => l.relation === 'next')?.url;
    }
    bundle.link = (bundle.link ?? []).filter((l) => l.relation !== 'next');
    return first;
  }

  return {
    base: root,
    getAll,
    read: (type, id, signal) => must('GET', `${type}/${encodeURIComponent(id)}`, undefined, signal),
    async search(type, query, signal) {
      const res = await getAll(`${type}?${query}`, signal);
      if (!res.ok) throw new FhirError(`FHIR search ${type} failed (${res.status})`, res.status, res.json);
      return (res.json.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type);
    },
    create: (resource) => must('POST', resource.resourceType, resource),
    update: (resource) => must('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, resource),
    remove: (reference) => must('DELETE', reference),
  };
}
