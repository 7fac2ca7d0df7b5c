/**
 * A semantics-preserving rewrite of the ELM that cql-execution runs, done once when the libraries are
 * loaded (the ELM files and the Library resources keep the translator's output unchanged).
 *
 * cql-execution evaluates every ELM node as an async call (a promise, an await, often a context), so a
 * node costs about as much as the work it does. Property reads are the most frequent nodes, and many
 * nodes exist only to hand an object to a property read. Two rewrites remove them:
 *
 * - Property(p2, source: Property(p1, of X)) → Property('p1.p2', of X). The engine reads a dotted path as
 *   obj['p1.p2'], then obj.get('p1.p2') (a FhirRecord reads a dotted field step by step, each step
 *   memoised), and when that gives nothing it walks the steps one by one (tuples, System values): the
 *   same value, and null as soon as a step is missing, as the nested reads give.
 * - Property(p, source: OperandRef | AliasRef | QueryLetRef n) → Property(p, scope: n). The engine reads
 *   a scope as ctx.get(n), which is exactly what those three references evaluate to. (A scope that
 *   resolves to a library expression would be run; so a reference named like anything the library
 *   declares is left as it is.)
 *
 * - Query(source: Retrieve R as A, return all A) — no let, with, where, sort or aggregate — → R. A retrieve
 *   gives a list, and such a query gives a new list of the same elements in the same order.
 *
 * (The translator itself emits dotted paths, e.g. "birthDate.value" for AgeInYears.) Paths are joined only
 * when no tuple of the libraries has an element whose name holds a '.', so a joined path can never name
 * a tuple element by itself.
 */

type Node = Record<string, unknown>;

const REFERENCES_READ_AS_SCOPE = new Set(['OperandRef', 'AliasRef', 'QueryLetRef']);

const isNode = (value: unknown): value is Node => value != null && typeof value === 'object' && !Array.isArray(value);

/** Does any tuple (value or type) in these ELM trees name an element with a '.'? */
function hasDottedTupleElement(root: unknown): boolean {
  let found = false;
  const visit = (value: unknown): void => {
    if (found || value == null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const node = value as Node;
    if ((node['type'] === 'Tuple' || node['type'] === 'TupleTypeSpecifier') && Array.isArray(node['element'])) {
      for (const element of node['element'] as unknown[]) {
        if (isNode(element) && typeof element['name'] === 'string' && element['name'].includes('.')) found = true;
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(root);
  return found;
}

export interface ElmOptimizeStats {
  /** Property reads joined into one dotted read. */
  joinedPaths: number;
  /** Property reads whose source reference became a scope. */
  scopedReferences: number;
  /** Queries that only returned their retrieve's elements, replaced by the retrieve. */
  identityQueries: number;
}

const isEmptyList = (value: unknown): boolean => value == null || (Array.isArray(value) && value.length === 0);

/** The retrieve of Query(source: Retrieve R as A, return all A) with nothing else; null for any other node. */
function identityRetrieve(node: Node): Node | null {
  if (node['type'] !== 'Query') return null;
  const sources = node['source'];
  if (!Array.isArray(sources) || sources.length !== 1 || !isNode(sources[0])) return null;
  const [source] = sources as Node[];
  const expression = source?.['expression'];
  if (!isNode(expression) || expression['type'] !== 'Retrieve') return null;
  if (!isEmptyList(node['let']) || !isEmptyList(node['relationship'])) return null;
  if (node['where'] != null || node['sort'] != null || node['aggregate'] != null) return null;
  const ret = node['return'];
  if (!isNode(ret) || ret['distinct'] !== false) return null;
  const returned = ret['expression'];
  if (!isNode(returned) || returned['type'] !== 'AliasRef' || returned['name'] !== source?.['alias']) return null;
  return expression;
}

/**
 * Rewrite, in place, the statements of ELM libraries (as parsed from JSON); returns what changed.
 * Only Property nodes are touched; every other node keeps its fields.
 */
export function optimizeElm(libraries: ReadonlyArray<{ library: Record<string, unknown> }>): ElmOptimizeStats {
  const stats: ElmOptimizeStats = { joinedPaths: 0, scopedReferences: 0, identityQueries: 0 };
  const joinPaths = !libraries.some((lib) => hasDottedTupleElement(lib.library['statements']));
  let declared = new Set<string>();

  const rewriteProperty = (node: Node): void => {
    for (;;) {
      const source = node['source'];
      if (!isNode(source) || node['scope'] != null) return;
      if (
        REFERENCES_READ_AS_SCOPE.has(String(source['type'])) &&
        typeof source['name'] === 'string' &&
        !declared.has(source['name'])
      ) {
        node['scope'] = source['name'];
        delete node['source'];
        stats.scopedReferences += 1;
        return;
      }
      const outer = node['path'];
      const inner = source['path'];
      if (!joinPaths || source['type'] !== 'Property' || typeof outer !== 'string' || typeof inner !== 'string') return;
      node['path'] = `${inner}.${outer}`;
      if (source['scope'] != null) {
        node['scope'] = source['scope'];
        delete node['source'];
      } else {
        node['source'] = source['source'];
      }
      stats.joinedPaths += 1;
    }
  };

  /** The node to keep in place of `child` (the retrieve of an identity query, else itself). */
  const replacement = (child: unknown): unknown => {
    const retrieve = isNode(child) ? identityRetrieve(child) : null;
    if (!retrieve) return child;
    stats.identityQueries += 1;
    return retrieve;
  };
  const visit = (value: unknown): void => {
    if (value == null || typeof value !== 'object') return;
    const container = value as Record<string, unknown>;
    // Children first: an inner chain is already joined when its parent looks at it.
    for (const key of Object.keys(container)) {
      container[key] = replacement(container[key]);
      visit(container[key]);
    }
    if (!Array.isArray(value) && container['type'] === 'Property') rewriteProperty(container);
  };
  for (const lib of libraries) {
    declared = declaredNames(lib.library);
    visit(lib.library['statements']);
  }
  return stats;
}

/** Every name a library declares (statements, parameters, terminology, includes): what ctx.get(n) could find. */
function declaredNames(library: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  const sections: Array<[string, string]> = [
    ['statements', 'name'],
    ['parameters', 'name'],
    ['valueSets', 'name'],
    ['codeSystems', 'name'],
    ['codes', 'name'],
    ['concepts', 'name'],
    ['includes', 'localIdentifier'],
  ];
  for (const [section, key] of sections) {
    const defs = (library[section] as { def?: unknown } | undefined)?.def;
    if (!Array.isArray(defs)) continue;
    for (const def of defs) if (isNode(def) && typeof def[key] === 'string') names.add(def[key]);
  }
  return names;
}
