/**
 * The oldest Node labgrade runs on: 18.19, Ubuntu 24.04's own `nodejs` (package.json engines
 * says the same; eslint forbids newer APIs in shipped code; test/integration/node18.test.ts
 * grades under Debian's nodejs 18). Older Node gets one sentence and exit 3, no stack trace.
 */
export const MIN_NODE = [18, 19] as const;

/** The sentence for a Node older than MIN_NODE, or undefined when `version` ("v18.19.1") will do. */
export function nodeTooOld(version: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return `labgrade: Node.js ${version} is too old: labgrade needs Node.js ${MIN_NODE.join('.')} or newer (Ubuntu 24.04's own nodejs is enough), or run it as an image, which needs no Node at all: see "For students" in labgrade's README.`;
}
