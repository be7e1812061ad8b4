/**
 * The one hook between the slips a submission's files show (read once, in submission.ts) and the
 * checks that read those files: a file the tutorial's own command would refuse fails its check in
 * one line before anything runs; an accepted slip is advice on the check that read the file; when a
 * run fails, the slip most likely to blame is named in the message's first line.
 */
import { readFile } from 'node:fs/promises';
import type { CheckKind, CheckOutcome } from '../checks/check.ts';
import { dockerfileSlips } from '../dockerfile/preflight.ts';
import type { ManifestSection } from '../manifest.ts';

/**
 * Which submission files each check kind reads; `manifestParts`: the submission.yaml parts whose
 * value notes it shows (a number read from `"598.3 bogo ops/s"` concerns only the table's check).
 */
const READS: Record<
  string,
  { artifacts: string[]; manifest?: boolean; manifestParts?: ManifestSection[]; folder?: boolean }
> = {
  dockerfile: { artifacts: ['dockerfile'], folder: true },
  'image-build': { artifacts: ['dockerfile'], folder: true },
  'cpu-monitor': { artifacts: ['monitor'] },
  'docker-hub': { artifacts: ['manifest'], manifest: true },
  'measurement-table': {
    artifacts: ['manifest'],
    manifest: true,
    manifestParts: ['measurements.cpuScaling', 'measurements.memoryScaling', 'measurements.cpuIsolation'],
  },
};

const ADVICE_ID = 'LG0100';

/** `first line — likely cause: …` with the rest of a multi-line message kept below. */
export function withCause(message: string, cause: string): string {
  const nl = message.indexOf('\n');
  const head = nl < 0 ? message : message.slice(0, nl);
  return `${head} — likely cause: ${cause}${nl < 0 ? '' : message.slice(nl)}`;
}

export function withPreflight<P>(kind: CheckKind<P>): CheckKind<P> {
  const reads = READS[kind.kind];
  if (!reads) return kind;
  return {
    ...kind,
    async run(ctx, params): Promise<CheckOutcome> {
      const sub = ctx.submission;
      const notes: string[] = [];
      if (reads.folder) notes.push(...(sub.notes ?? []));
      for (const role of reads.artifacts) notes.push(...(sub.artifacts[role]?.notes ?? []));
      if (reads.manifest && sub.manifest?.ok) {
        notes.push(...(sub.manifest.notes ?? []));
        for (const part of reads.manifestParts ?? []) notes.push(...(sub.manifest.partNotes?.[part] ?? []));
      }
      const advice = notes.map((message) => ({ id: ADVICE_ID, message }));
      const withAdvice = (o: CheckOutcome): CheckOutcome =>
        advice.length ? { ...o, advice: [...advice, ...(o.advice ?? [])] } : o;

      let buildCauses: string[] = [];
      if (kind.kind === 'cpu-monitor') {
        const a = sub.artifacts.monitor;
        if (a?.present && a.refusal) return withAdvice({ status: 'fail', message: a.refusal });
      }
      if (kind.kind === 'image-build') {
        const a = sub.artifacts.dockerfile;
        if (a?.present && a.absPath) {
          const slips = dockerfileSlips(await readFile(a.absPath), a.path);
          if (slips.refusal)
            return withAdvice({
              status: 'fail',
              message: `expected the image to build, got none: ${slips.refusal}`,
            });
          buildCauses = slips.causes;
        }
      }
      const out = await kind.run(ctx, params);
      if (out.status === 'fail') {
        if (kind.kind === 'cpu-monitor' && sub.artifacts.monitor?.likelyCause)
          out.message = withCause(out.message, sub.artifacts.monitor.likelyCause);
        if (kind.kind === 'image-build' && buildCauses[0])
          out.message = withCause(out.message, buildCauses[0]);
      }
      return withAdvice(out);
    },
  };
}
