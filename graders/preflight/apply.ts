/**
 * The one hook between the slips a submission's files show (read once, in submission.ts) and the
 * checks that read those files: a file the tutorial's own command would refuse fails its check in
 * one line before anything runs; an accepted slip is advice on the check that read the file; when a
 * run fails, the slip most likely to blame is named in the message's first line.
 */
import { readFile } from 'node:fs/promises';
import type { CheckKind, CheckOutcome, Reads } from '../checks/check.ts';
import { dockerfileSlips } from '../dockerfile/preflight.ts';
import type { ArtifactFile, Submission } from '../submission.ts';

const ADVICE_ID = 'LG0100';

/** `first line — likely cause: …` with the rest of a multi-line message kept below. */
export function withCause(message: string, cause: string): string {
  const nl = message.indexOf('\n');
  const head = nl < 0 ? message : message.slice(0, nl);
  return `${head} — likely cause: ${cause}${nl < 0 ? '' : message.slice(nl)}`;
}

/** The slips of the files a check reads, as its advice (the submission's own order). */
function notesFor(sub: Submission, reads: Reads, files: ArtifactFile[]): string[] {
  const notes: string[] = [];
  if (reads.folder) notes.push(...(sub.notes ?? []));
  for (const f of files) notes.push(...(f.notes ?? []));
  if (files.some((f) => f.role === 'manifest') && sub.manifest?.ok) {
    notes.push(...(sub.manifest.notes ?? []));
    for (const part of reads.manifestParts ?? []) notes.push(...(sub.manifest.partNotes?.[part] ?? []));
  }
  return notes;
}

/**
 * Before a check that runs or builds a file: the refusal that fails it unrun (a script bash would
 * not run; a Dockerfile docker would not read), or the likely causes to name if its run fails.
 */
async function refusalOrCauses(file: ArtifactFile): Promise<{ refusal?: string; causes: string[] }> {
  if (!file.present) return { causes: [] };
  if (file.role === 'script')
    return file.refusal
      ? { refusal: file.refusal, causes: [] }
      : { causes: file.likelyCause ? [file.likelyCause] : [] };
  if (file.role === 'dockerfile' && file.absPath) {
    const slips = dockerfileSlips(await readFile(file.absPath), file.path);
    if (slips.refusal)
      return { refusal: `expected the image to build, got none: ${slips.refusal}`, causes: [] };
    return { causes: slips.causes };
  }
  return { causes: [] };
}

/** A kind with the slips of what it reads (kind.reads) said before and after its run. */
export function withPreflight<P>(kind: CheckKind<P>): CheckKind<P> {
  const declared = kind.reads;
  if (!declared) return kind;
  return {
    ...kind,
    async run(ctx, params): Promise<CheckOutcome> {
      const sub = ctx.submission;
      const reads = declared(ctx.lab, params);
      const files = reads.artifacts.flatMap((name) => sub.artifacts[name] ?? []);
      const advice = notesFor(sub, reads, files).map((message) => ({ id: ADVICE_ID, message }));
      const withAdvice = (o: CheckOutcome): CheckOutcome =>
        advice.length ? { ...o, advice: [...advice, ...(o.advice ?? [])] } : o;
      const causes: string[] = [];
      if (reads.runs)
        for (const f of files) {
          const r = await refusalOrCauses(f);
          if (r.refusal) return withAdvice({ status: 'fail', message: r.refusal });
          causes.push(...r.causes);
        }
      const out = await kind.run(ctx, params);
      if (out.status === 'fail' && causes[0]) out.message = withCause(out.message, causes[0]);
      return withAdvice(out);
    },
  };
}
