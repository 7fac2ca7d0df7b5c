/**
 * The small TypeScript pre-pass before CQL: turn whatever bundle the service hands in (any type,
 * nested bundles, draft orders added) into one flat collection of the patient's resources, where
 * every reference the CQL follows has the plain `Type/id` form:
 * - a Medication contained in a MedicationRequest/MedicationAdministration (`medicationReference`
 *   `#id`) is hoisted into the bundle under a new id, and the reference is rewritten to it;
 * - a `urn:uuid:` reference (transaction/draftOrders bundles) or an absolute URL is rewritten to
 *   `Type/id` when the target is in the bundle (or the URL ends in Type/id).
 * Input resources are never mutated: a resource is copied (shallowly) only when a reference changes.
 */
import type { Bundle, FhirResource, Reference, Resource } from 'fhir/r4';
import { preconditionFailed } from '../errors';

type AnyResource = Resource & Record<string, unknown>;

/** Type/id, with a FHIR id (letters, digits, '-' and '.', at most 64). */
const ID = '[A-Za-z0-9\\-.]{1,64}';
const RELATIVE_REFERENCE = new RegExp(`^([A-Z][A-Za-z]+)/(${ID})$`);
const URL_ENDING_IN_REFERENCE = new RegExp(`/([A-Z][A-Za-z]+)/(${ID})(?:/_history/[^/]+)?$`);

/** All resources of a bundle, nested bundles flattened, in order. */
export function collect(bundle: Bundle, out: Array<{ fullUrl: string | undefined; resource: AnyResource }>): void {
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as AnyResource | undefined;
    if (!resource || typeof resource !== 'object') continue;
    if (resource.resourceType === 'Bundle') collect(resource as unknown as Bundle, out);
    else out.push({ fullUrl: entry.fullUrl, resource });
  }
}

/** The resource with an id: its own, else the stable one of its position among the collected resources. */
export function withEntryId<R extends Resource>(resource: R, index: number): R {
  return resource.id ? resource : { ...resource, id: `${resource.resourceType.toLowerCase()}-entry-${index}` };
}

export interface PreparedBundle {
  bundle: Bundle;
  patientId: string;
}

/**
 * Flatten, give id-less resources an id, hoist contained Medications and normalise references.
 * Throws a 412 OperationOutcomeError when the record holds no Patient.
 */
export function prepareBundle(input: Bundle): PreparedBundle {
  const items: Array<{ fullUrl: string | undefined; resource: AnyResource }> = [];
  collect(input, items);

  // Resources without an id get a stable one, so every fact can name its resource.
  items.forEach((item, index) => {
    item.resource = withEntryId(item.resource, index);
  });

  const byFullUrl = new Map<string, string>();
  for (const { fullUrl, resource } of items) {
    if (fullUrl) byFullUrl.set(fullUrl, `${resource.resourceType}/${resource.id ?? ''}`);
  }
  const normalise = (reference: string): string => {
    if (RELATIVE_REFERENCE.test(reference)) return reference;
    const known = byFullUrl.get(reference);
    if (known) return known;
    const m = URL_ENDING_IN_REFERENCE.exec(reference);
    return m ? `${m[1]}/${m[2]}` : reference;
  };

  const hoisted: AnyResource[] = [];
  const prepared = items.map(({ resource }) => prepareResource(resource, normalise, hoisted));
  const resources = [...prepared, ...hoisted];

  const patient = resources.find((r) => r.resourceType === 'Patient');
  if (!patient) throw preconditionFailed('The patient record holds no Patient resource');

  return {
    bundle: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: resources.map((resource) => ({ resource: resource as FhirResource })),
    },
    patientId: patient.id ?? '',
  };
}

function rewriteReference(ref: unknown, to: (reference: string) => string): Reference | undefined {
  if (!ref || typeof ref !== 'object') return undefined;
  const reference = (ref as Reference).reference;
  if (typeof reference !== 'string') return undefined;
  const next = to(reference);
  return next === reference ? undefined : { ...(ref as Reference), reference: next };
}

function prepareResource(
  resource: AnyResource,
  normalise: (reference: string) => string,
  hoisted: AnyResource[],
): AnyResource {
  let copy: AnyResource | null = null;
  const edit = (): AnyResource => (copy ??= { ...resource });

  // medicationReference: contained (#id) → hoisted Medication; else normalised.
  const medicationReference = resource['medicationReference'] as Reference | undefined;
  if (medicationReference && typeof medicationReference.reference === 'string') {
    const target = medicationReference.reference;
    if (target.startsWith('#')) {
      const containedId = target.slice(1);
      const contained = (resource['contained'] as AnyResource[] | undefined)?.find(
        (c) => c && c.resourceType === 'Medication' && c.id === containedId,
      );
      if (contained) {
        const id = `${resource.resourceType}-${resource.id ?? ''}-${containedId}`;
        hoisted.push({ ...contained, id });
        edit()['medicationReference'] = { ...medicationReference, reference: `Medication/${id}` };
      }
    } else {
      const next = rewriteReference(medicationReference, normalise);
      if (next) edit()['medicationReference'] = next;
    }
  }

  // MedicationAdministration.request → the order.
  const request = rewriteReference(resource['request'], normalise);
  if (request) edit()['request'] = request;

  // AdverseEvent.suspectEntity[].instance → the suspected administration / medication.
  const suspects = resource['suspectEntity'] as Array<{ instance?: Reference }> | undefined;
  if (Array.isArray(suspects)) {
    let changed = false;
    const next = suspects.map((s) => {
      const instance = rewriteReference(s?.instance, normalise);
      if (!instance) return s;
      changed = true;
      return { ...s, instance };
    });
    if (changed) edit()['suspectEntity'] = next;
  }

  return copy ?? resource;
}
