/**
 * Canvas's "Download Submissions": its file names (`<name>[_LATE]_<user id>_<submission id>_<file>`,
 * resubmission suffixes) and the grouping of its files into one submission per student.
 */
import path from 'node:path';
import { JUNK, safeRelativePath } from './names.ts';
import type { ScanOptions, SourcePart, StudentSubmission } from './types.ts';
import type { ZipItem } from './zip.ts';

/** Canvas's "Download Submissions" file name: `<name>[_LATE]_<user id>_<submission id>_<file>`. */
export interface CanvasName {
  name: string;
  late: boolean;
  userId: string;
  submissionId: string;
  /** The student's file name, with Canvas's resubmission suffix still on. */
  file: string;
}

const CANVAS_NAME = /^(.+?)(_LATE)?_(\d+)_(\d+)_(.+)$/su;

export function parseCanvasName(fileName: string): CanvasName | null {
  const m = CANVAS_NAME.exec(fileName.normalize('NFC'));
  if (!m) return null;
  return { name: m[1]!, late: m[2] !== undefined, userId: m[3]!, submissionId: m[4]!, file: m[5]! };
}

/**
 * Undo Canvas's resubmission suffix (`Dockerfile-1`, `cpu-monitor-2.sh`) when what remains is one
 * of the lab's file names; other names are kept as they are (`test-1.txt` may be a real name).
 */
export function undoResubmissionSuffix(
  file: string,
  known: readonly string[],
): { file: string; revision: number } {
  const m = /^(.*?)-(\d+)(\.[^.]*)?$/su.exec(file);
  if (m) {
    const base = `${m[1]}${m[3] ?? ''}`;
    if (known.includes(base)) return { file: base, revision: Number(m[2]) };
  }
  return { file, revision: 0 };
}

export interface CanvasFile {
  parsed: CanvasName;
  part: SourcePart;
  /** Display of where it came from. */
  where: string;
}

/** Group Canvas files by user id: one submission per student, latest resubmission wins. */
export function groupCanvas(files: CanvasFile[], opts: ScanOptions, origin: string): StudentSubmission[] {
  const byUser = new Map<string, CanvasFile[]>();
  for (const f of files) {
    const list = byUser.get(f.parsed.userId) ?? [];
    list.push(f);
    byUser.set(f.parsed.userId, list);
  }
  const out: StudentSubmission[] = [];
  for (const [userId, list] of byUser) {
    const notes: string[] = [];
    // Canvas's bulk download holds the latest submission; if several appear, keep the newest.
    const latestSub = list.map((f) => Number(f.parsed.submissionId)).reduce((a, b) => Math.max(a, b), 0);
    const current = list.filter((f) => Number(f.parsed.submissionId) === latestSub);
    if (current.length < list.length)
      notes.push(
        `kept submission ${latestSub}; ${list.length - current.length} file(s) of older submissions ignored`,
      );
    const first = current[0]!;
    const sub: StudentSubmission = {
      key: `canvas:${userId}`,
      slug: '',
      name: first.parsed.name,
      id: userId,
      canvas: { userId, submissionId: String(latestSub), late: current.some((f) => f.parsed.late) },
      origin: `${origin} (Canvas user ${userId})`,
      parts: [],
      notes,
    };
    const chosen = new Map<string, { revision: number; part: SourcePart }>();
    for (const f of current) {
      const safe = safeRelativePath(f.parsed.file);
      // Canvas names uploads flat; a name with a path in it is an attempt to write elsewhere.
      if (!safe.ok || /[/\\]/.test(f.parsed.file)) {
        sub.error = `refused the upload named ${JSON.stringify(f.where)}: its file name holds ${safe.ok ? 'a folder path' : safe.reason}, which could write outside the submission folder`;
        continue;
      }
      const { file, revision } = undoResubmissionSuffix(safe.path, opts.artifactNames);
      if (revision > 0) notes.push(`${safe.path} is resubmission ${revision}: graded as ${file}`);
      const prev = chosen.get(file);
      const part: SourcePart =
        f.part.kind === 'zip-entry'
          ? { ...f.part, as: file }
          : { ...(f.part as Extract<SourcePart, { kind: 'file' }>), as: file };
      if (!prev || revision > prev.revision) {
        if (prev)
          notes.push(
            `${file}: the later resubmission (${revision}) replaces ${prev.revision || 'the first upload'}`,
          );
        chosen.set(file, { revision, part });
      }
    }
    sub.parts = [...chosen.keys()].sort().map((k) => chosen.get(k)!.part);
    out.push(sub);
  }
  return out;
}

/** Zips whose entries are mostly Canvas-named files are bulk downloads; others are one student's. */
export function looksLikeCanvas(names: string[]): boolean {
  const files = names.filter((n) => !n.endsWith('/') && !JUNK.has(n.split('/')[0]!));
  const canvas = files.filter((n) => parseCanvasName(n) !== null);
  return canvas.length > 0 && canvas.length * 2 >= files.length;
}

export async function scanCanvasZip(
  file: string,
  items: ZipItem[],
  opts: ScanOptions,
  notes: string[],
): Promise<StudentSubmission[]> {
  const files: CanvasFile[] = [];
  const shown = path.basename(file);
  for (const it of items) {
    if (it.isDir) continue;
    const parsed = parseCanvasName(it.name);
    if (!parsed) {
      const safe = safeRelativePath(it.name);
      notes.push(
        safe.ok
          ? `${shown}: ignored ${JSON.stringify(it.name)} (not a Canvas submission file name)`
          : `${shown}: refused entry ${JSON.stringify(it.name)} (${safe.reason}); belongs to no student`,
      );
      continue;
    }
    if (it.isLink) {
      notes.push(`${shown}: skipped ${JSON.stringify(it.name)} (a symbolic link)`);
      continue;
    }
    files.push({
      parsed,
      where: it.name,
      part: { kind: 'zip-entry', zip: path.resolve(file), entry: it.name, as: parsed.file },
    });
  }
  return groupCanvas(files, opts, shown);
}
