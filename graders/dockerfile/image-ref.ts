// Docker image references (`ubuntu:24.04`, `docker.io/library/ubuntu:24.04@sha256:…`) split and
// normalised the way the engine reads them, so equal images compare equal.

export interface ImageName {
  /** Registry host when one is written and it is not Docker Hub, else null. */
  registry: string | null;
  /** Repository path in Docker's short ("familiar") form: `ubuntu`, `myuser/app`, `ghcr.io/x/y` keeps its registry in `registry`. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

const DOCKER_HUB_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** Splits an image reference. Docker Hub's `docker.io/` and `library/` prefixes are dropped. */
export function parseImageName(ref: string): ImageName {
  let rest = ref.trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry: string | null = null;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const head = rest.slice(0, firstSlash);
    // Docker's rule: the first component is a registry if it has a dot or a port, or is localhost.
    if (head.includes('.') || head.includes(':') || head === 'localhost') {
      registry = head;
      rest = rest.slice(firstSlash + 1);
    }
  }
  if (registry !== null && DOCKER_HUB_HOSTS.has(registry.toLowerCase())) registry = null;
  if (registry === null && rest.startsWith('library/') && rest.indexOf('/', 'library/'.length) < 0) {
    rest = rest.slice('library/'.length);
  }
  return { registry, repository: rest, tag, digest };
}

/** `ubuntu:24.04`, `ghcr.io/x/y:1@sha256:…`: the short form Docker prints. */
export function formatImageName(n: ImageName): string {
  return `${n.registry !== null ? `${n.registry}/` : ''}${n.repository}${n.tag !== null ? `:${n.tag}` : ''}${n.digest !== null ? `@${n.digest}` : ''}`;
}

/** Result of substituting Dockerfile variables (`$VAR`, `${VAR:-x}`) in one instruction word. */
export interface Substituted {
  value: string;
  /** Names of variables that had no value. */
  unresolved: string[];
}

/**
 * Dockerfile-level substitution for FROM, ENV, ARG, USER, …: `$NAME`, `${NAME}`, `${NAME:-word}`,
 * `${NAME:+word}` (and the forms without colon), with quote removal and `\` escapes. A variable with
 * no value is listed in `unresolved` and left as written.
 */
export function substituteVariables(
  text: string,
  lookup: (name: string) => string | undefined,
  escape = '\\',
): Substituted {
  const unresolved: string[] = [];
  let out = '';
  let quote: '"' | "'" | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else out += c;
      i++;
      continue;
    }
    if (c === escape && i + 1 < text.length) {
      out += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '"' || (c === "'" && quote === null)) {
      quote = quote === c ? null : (c as '"' | "'");
      i++;
      continue;
    }
    if (c === '$') {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(text.slice(i));
      const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      const m = braced ?? plain;
      if (m) {
        const name = m[1] as string;
        const op = braced ? (m[2] ?? null) : null;
        const word = braced ? (m[3] ?? '') : '';
        const v = lookup(name);
        const set = v !== undefined;
        const nonEmpty = set && v !== '';
        if (op === ':-' || op === '-') {
          out += (op === ':-' ? nonEmpty : set) ? v : substituteVariables(word, lookup, escape).value;
        } else if (op === ':+' || op === '+') {
          out += (op === ':+' ? nonEmpty : set) ? substituteVariables(word, lookup, escape).value : '';
        } else if (set) {
          out += v;
        } else {
          out += m[0];
          unresolved.push(name);
        }
        i += m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return { value: out, unresolved };
}
