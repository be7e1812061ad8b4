/**
 * One student's submission as found on disk: the folder, which artifacts are there, and the
 * parsed manifest. Reading never throws for a student's mistake; it records what is missing.
 *
 * Which file is which is decided the way the tutorial's commands decide it (preflight/names.ts):
 * the Dockerfile as `docker build .` resolves it, the lab's other files by their name give or take
 * spelling. A folder zipped one level deep (`lab7/Dockerfile`, with `__MACOSX/` beside it) is graded
 * from inside, with a note. Each file a student hands in is looked at for the slips of an editor on
 * Windows or macOS (preflight/script.ts for the monitor script).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../harness/errors.ts';
import { artifactOfRole, type ArtifactRole, type LoadedLab } from './lab-spec.ts';
import { parseManifest, type ManifestResult } from './manifest.ts';
import { tableKinds } from './manifest-tables.ts';
import { loneFolder, resolveDockerfile, resolveLabFile } from './preflight/names.ts';
import { analyzeScript, bashSyntaxCheck, judgeScript, ownInterpreter } from './preflight/script.ts';

export interface ArtifactFile {
  /** What the file is (lab.yaml artifacts.<name>.role). */
  role: ArtifactRole;
  /** The file's name in the folder (the one found, which may be spelt differently from the lab's). */
  path: string;
  /** Absolute path when present. */
  absPath?: string;
  present: boolean;
  sizeBytes?: number;
  /** Why it cannot be used (too large, a symlink, not a regular file, a name Docker does not read). */
  problem?: string;
  /** Accepted slips worth telling (a spelling of the name, a line-ending or encoding oddity). */
  notes?: string[];
  /** A script the tutorial's `bash <script>` would not run: one line, cause and fix. */
  refusal?: string;
  /** The first slip that can break a script's run: named when its run fails. */
  likelyCause?: string;
}

export interface Submission {
  dir: string;
  /** A display id: the student id from the manifest, else the folder name. */
  id: string;
  /** By artifact name (the keys of lab.yaml's artifacts). */
  artifacts: Record<string, ArtifactFile>;
  manifest?: ManifestResult;
  /** About the folder itself (graded from a folder inside it). */
  notes?: string[];
}

/** The submission's file of a role (dockerfile, manifest: at most one each), if the lab has one. */
export function fileOfRole(sub: Submission, role: ArtifactRole): ArtifactFile | undefined {
  return Object.values(sub.artifacts).find((a) => a.role === role);
}

export async function readSubmission(dir: string, lab: LoadedLab): Promise<Submission> {
  let abs = path.resolve(dir);
  try {
    const st = await lstat(abs);
    if (!st.isDirectory()) throw new UsageError(`${dir} is not a folder: pass the submission folder`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`submission folder ${dir} does not exist`);
  }
  const folderNotes: string[] = [];
  const dockerfileSpec = artifactOfRole(lab.spec, 'dockerfile');
  let entries = await readdir(abs, { withFileTypes: true });
  if (dockerfileSpec) {
    const inner = loneFolder(
      entries.map((e) => ({ name: e.name, isDirectory: e.isDirectory() })),
      dockerfileSpec.path,
    );
    if (inner) {
      abs = path.join(abs, inner);
      entries = await readdir(abs, { withFileTypes: true });
      folderNotes.push(
        `graded the folder ${inner}/ inside the submission (it holds the files; the top holds no ${dockerfileSpec.path})`,
      );
    }
  }
  const names = entries.map((e) => e.name);
  const artifacts: Record<string, ArtifactFile> = {};
  for (const [name, a] of Object.entries(lab.spec.artifacts)) {
    const top = !a.path.includes('/');
    const res = !top
      ? { found: a.path }
      : a.role === 'dockerfile'
        ? resolveDockerfile(names, a.path)
        : resolveLabFile(names, a.path);
    const found = res.found ?? a.path;
    const p = path.join(abs, found);
    const entry: ArtifactFile = { role: a.role, path: found, present: false };
    if (res.note) entry.notes = [res.note];
    if (res.problem) {
      entry.problem = res.problem;
      artifacts[name] = entry;
      continue;
    }
    try {
      const st = await lstat(p);
      entry.sizeBytes = st.size;
      if (st.isSymbolicLink()) entry.problem = `${found} is a symbolic link; submit the file itself`;
      else if (st.isDirectory()) entry.problem = `${found} is a folder, not a file`;
      else if (!st.isFile()) entry.problem = `${found} is not a regular file`;
      else if (st.size > a.maxSize)
        entry.problem = `${found} is ${st.size} bytes; at most ${a.maxSize} accepted`;
      else {
        entry.present = true;
        entry.absPath = p;
        if (a.role === 'script') {
          const bytes = await readFile(p);
          const analysis = analyzeScript(bytes, found, st.mode);
          const fatal = analysis.findings.some((f) => f.fatal);
          // bash's parse says nothing of a python3, perl or awk script: it runs by its #! line.
          const bashRuns = !fatal && !ownInterpreter(bytes);
          const verdict = judgeScript(
            analysis,
            bashRuns ? await bashSyntaxCheck(bytes, found) : undefined,
            found,
          );
          if (verdict.refusal) entry.refusal = verdict.refusal;
          if (verdict.likelyCause) entry.likelyCause = verdict.likelyCause;
          if (verdict.notes.length) entry.notes = [...(entry.notes ?? []), ...verdict.notes];
        }
      }
    } catch {
      // absent: entry.present stays false
    }
    artifacts[name] = entry;
  }
  const sub: Submission = { dir: abs, id: path.basename(path.resolve(dir)), artifacts };
  if (folderNotes.length) sub.notes = folderNotes;
  const m = fileOfRole(sub, 'manifest');
  if (m?.present && m.absPath) {
    sub.manifest = parseManifest(
      await readFile(m.absPath),
      artifactOfRole(lab.spec, 'manifest')?.maxSize,
      tableKinds(lab.spec.manifest.tables),
    );
    if (sub.manifest.ok && sub.manifest.manifest.student?.id) sub.id = sub.manifest.manifest.student.id;
  } else if (m?.problem) {
    // There is a submission.yaml, but it cannot be used (too large, a link): say so, not "no file".
    sub.manifest = { ok: false, error: m.problem };
  }
  return sub;
}
