/**
 * The supported runtime: Node 24 LTS is the target, 22 the oldest supported (package.json engines). Node 20
 * (end of life since April 2026) still runs the service where it is the machine's only Node, with a
 * warning at startup.
 */
const MIN_SUPPORTED_NODE_MAJOR = 22;

/** The startup warning for an unsupported Node version, or null. */
export function nodeVersionWarning(version: string): string | null {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!Number.isFinite(major) || major >= MIN_SUPPORTED_NODE_MAJOR) return null;
  return `Node ${version} is past end of life and not supported: run Node 24 LTS (${MIN_SUPPORTED_NODE_MAJOR} at least)`;
}
