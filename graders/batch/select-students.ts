/**
 * `--students`: the students a TA names, by id or by name, as gradebook.csv and summary.html show
 * them (or the folder / archive name). Each value is a comma-separated list; a whole value that is
 * a name with a comma in it (Canvas's "Ng, Alice") matches as a whole. Names match whatever their
 * case and spacing; ids and folder names exactly. A name nobody has is an error, not a no-op: a
 * typo must not silently regrade nobody. Pure.
 */
import { UsageError } from '../../harness/errors.ts';

export interface Nameable {
  key: string;
  slug: string;
  /** Names and ids this student goes by: intake's and the journal's (submission.yaml may refine them). */
  names: string[];
  ids: string[];
}

const fold = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();

function matches(item: string, s: Nameable): boolean {
  const t = item.normalize('NFC').trim();
  if (!t) return false;
  if (s.key === t || s.slug === t || s.ids.some((id) => id.trim() === t)) return true;
  return s.names.some((n) => fold(n) === fold(t));
}

export interface Selection {
  keys: Set<string>;
  /** Items that matched nobody. */
  unmatched: string[];
}

export function selectStudents(values: readonly string[], students: readonly Nameable[]): Selection {
  const keys = new Set<string>();
  const unmatched: string[] = [];
  const take = (item: string) => {
    const hit = students.filter((s) => matches(item, s));
    for (const s of hit) keys.add(s.key);
    return hit.length > 0;
  };
  for (const value of values) {
    if (take(value)) continue;
    for (const item of value.split(',')) {
      if (!item.trim()) continue;
      if (!take(item)) unmatched.push(item.trim());
    }
  }
  return { keys, unmatched };
}

/**
 * The keys of the students `--students` names in a class (intake's students, refined by their
 * journal entries); a value that names nobody is a usage error, before anything is graded.
 */
export function namedStudents(
  values: readonly string[],
  students: ReadonlyArray<{ key: string; slug: string; name: string; id: string }>,
  journaled: ReadonlyMap<string, { name: string; id: string }>,
): Set<string> {
  const sel = selectStudents(
    values,
    students.map((s) => {
      const e = journaled.get(s.key);
      return { key: s.key, slug: s.slug, names: [s.name, e?.name ?? ''], ids: [s.id, e?.id ?? ''] };
    }),
  );
  if (sel.unmatched.length)
    throw new UsageError(
      `--students: nobody in this class is ${sel.unmatched.map((u) => JSON.stringify(u)).join(', ')}`,
      {
        hint: "use an ID or a name as gradebook.csv and summary.html show them, or the submission's folder or archive name; separate several with commas",
      },
    );
  return sel.keys;
}
