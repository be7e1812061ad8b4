/**
 * The corpus of plausible students (test/fixtures/corpus/<case>/): each case holds the files that
 * differ from the reference submission and a case.yaml with the verdict a TA would give, per
 * check, and where the host's cgroup version changes it (`{ v1: …, v2: … }`: the lab's target is
 * v2, and a v1 host cannot judge a script written for it). Graded in-process (one session, the
 * same gradeSubmission the CLI runs) so the corpus costs its checks and little else.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { gradeSubmission } from '../../../graders/grade.ts';
import type { LoadedLab } from '../../../graders/lab-spec.ts';
import type { CheckStatus, GradeReport } from '../../../reports/model.ts';
import type { Session } from '../../../cli/session.ts';
import { REFERENCE_DIR, REPO } from './harness.ts';

export const CORPUS_DIR = path.join(REPO, 'test/fixtures/corpus');

type PerVersion<T> = T | { v1?: T; v2?: T };

export interface CorpusCase {
  name: string;
  dir: string;
  /** What the submission does differently. */
  what: string;
  /** The verdict a TA would give, and why. */
  ta: string;
  only: string[];
  expect: Record<string, PerVersion<CheckStatus>>;
  /** Substrings each check's message must hold. */
  includes?: Record<string, PerVersion<string[]>>;
  /** Advice ids each check must give (lint findings, notes). */
  advice?: Record<string, string[]>;
}

export function loadCorpus(filter: (name: string) => boolean = () => true): CorpusCase[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && filter(d.name))
    .map((d) => {
      const dir = path.join(CORPUS_DIR, d.name);
      let spec: Omit<CorpusCase, 'name' | 'dir'>;
      try {
        spec = parse(readFileSync(path.join(dir, 'case.yaml'), 'utf8')) as typeof spec;
      } catch (err) {
        throw new Error(`test/fixtures/corpus/${d.name}/case.yaml: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return { ...spec, name: d.name, dir };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function pick<T>(v: PerVersion<T> | undefined, version: 1 | 2): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && ('v1' in v || 'v2' in v))
    return (v as { v1?: T; v2?: T })[`v${version}`];
  return v as T;
}

/** A case whose expected verdicts differ between cgroup v1 and v2 hosts. */
export function perVersion(c: CorpusCase): boolean {
  return Object.values(c.expect).some(
    (v) => typeof v === 'object' && v !== null && ('v1' in v || 'v2' in v) && v.v1 !== v.v2,
  );
}

/**
 * A reference submission (Tutorial 7's unless `base` names another) with the case's files over it
 * and its `remove` list taken out, in a folder of its own. `spec`: the case's own file, not copied.
 */
export function materialize(
  c: Pick<CorpusCase, 'name' | 'dir'> & { remove?: string[] },
  base = REFERENCE_DIR,
  spec = 'case.yaml',
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lg-corpus-${c.name}-`));
  cpSync(base, dir, { recursive: true });
  for (const f of readdirSync(c.dir)) if (f !== spec) cpSync(path.join(c.dir, f), path.join(dir, f));
  for (const f of c.remove ?? []) rmSync(path.join(dir, f), { force: true });
  return dir;
}

/**
 * Grade one case as `labgrade check --quick --only …` would, in this process: over Tutorial 7's
 * reference, or over `base` (another lab's) with the case described by its file `spec`.
 */
export async function gradeCase(
  session: Session,
  lab: LoadedLab,
  c: CorpusCase & { remove?: string[] },
  base?: string,
  spec?: string,
): Promise<GradeReport> {
  const dir = materialize(c, base, spec);
  try {
    return await gradeSubmission({
      engine: session.engine,
      cgroups: session.cgroups,
      host: session.host,
      lab,
      submissionDir: dir,
      quick: true,
      only: c.only,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What differs from the case's expectations on a host of this cgroup version; [] when nothing. */
export function differences(c: CorpusCase, report: GradeReport, version: 1 | 2): string[] {
  const out: string[] = [];
  for (const [id, want] of Object.entries(c.expect)) {
    const status = pick(want, version);
    if (status === undefined) continue;
    const got = report.checks.find((x) => x.id === id);
    if (!got) {
      out.push(`${id}: expected ${status}, got no such check in the report`);
      continue;
    }
    if (got.status !== status) out.push(`${id}: expected ${status}, got ${got.status}: ${got.message}`);
    for (const s of pick(c.includes?.[id], version) ?? [])
      if (!got.message.includes(s)) out.push(`${id}: message lacks "${s}": ${got.message}`);
    for (const a of c.advice?.[id] ?? [])
      if (!got.advice?.some((x) => x.id === a))
        out.push(
          `${id}: expected advice ${a}, got ${(got.advice ?? []).map((x) => x.id).join(', ') || 'none'}`,
        );
  }
  return out;
}
