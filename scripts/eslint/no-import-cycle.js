// ESLint rule: no module may reach itself through relative imports (`import … from './x.ts'`,
// `export … from`, `import('./x.ts')`), type-only imports included — a cycle of types is still two
// modules that cannot be read, tested or moved one without the other. The graph is built once per
// lint run from the files' text; each file in a cycle is reported with one cycle through it.
import fs from 'node:fs';
import path from 'node:path';

const SPEC =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
const edgesOf = new Map();

function resolve(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const f of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      if (fs.statSync(f).isFile()) return f;
    } catch {
      /* not this one */
    }
  }
  return undefined;
}

function edges(file) {
  let out = edgesOf.get(file);
  if (out) return out;
  out = [];
  edgesOf.set(file, out);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  // Comments can quote imports; drop them before matching.
  text = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of text.matchAll(SPEC)) {
    const to = resolve(file, m[1] ?? m[2] ?? m[3]);
    if (to && !out.includes(to)) out.push(to);
  }
  return out;
}

/** A shortest path from `start` back to itself, or undefined. */
function cycleThrough(start) {
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift();
    for (const next of edges(at)) {
      if (next === start) {
        const chain = [at];
        for (let p = prev.get(at); p; p = prev.get(p)) chain.unshift(p);
        return [...chain, start];
      }
      if (!prev.has(next)) {
        prev.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Disallow import cycles between local modules' },
    schema: [],
    messages: { cycle: 'Import cycle: {{chain}}' },
  },
  create(context) {
    return {
      Program(node) {
        const file = path.resolve(context.filename);
        const chain = cycleThrough(file);
        if (!chain) return;
        const root = context.cwd ?? process.cwd();
        context.report({
          node,
          loc: { line: 1, column: 0 },
          messageId: 'cycle',
          data: { chain: chain.map((f) => path.relative(root, f)).join(' → ') },
        });
      },
    };
  },
};
