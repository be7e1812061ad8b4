/**
 * Every lab under labs/ besides Tutorial 7 (graded in full by check-reference.test.ts and
 * corpus.test.ts) is data — lab.yaml, reference/, README.md and variants/ — and is graded here as
 * it is: its reference gets full marks on the host engine, and each variant (labs/<id>/variants/
 * <name>/: the files that differ from the reference, and variant.yaml with what it is, the checks
 * it is about and the verdict each must get) gets exactly that verdict. A new lab is tested by
 * adding its folder; nothing here names it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { openSession, type Session } from '../../cli/session.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { gradeSubmission } from '../../graders/grade.ts';
import { loadLab, type LoadedLab } from '../../graders/lab-spec.ts';
import { newRunId } from '../../harness/engine/labels.ts';
import type { GradeReport } from '../../reports/model.ts';
import { differences, gradeCase, type CorpusCase } from './helpers/corpus.ts';
import { REPO } from './helpers/harness.ts';

const LABS_DIR = path.join(REPO, 'labs');
/** Graded in full elsewhere (check-reference.test.ts, corpus.test.ts, the bench). */
const ELSEWHERE = new Set(['tutorial7']);

interface Variant extends CorpusCase {
  remove?: string[];
}

function labIds(): string[] {
  return readdirSync(LABS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(LABS_DIR, d.name, 'lab.yaml')))
    .map((d) => d.name)
    .sort();
}

function variantsOf(id: string): Variant[] {
  const root = path.join(LABS_DIR, id, 'variants');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = path.join(root, d.name);
      const spec = parse(readFileSync(path.join(dir, 'variant.yaml'), 'utf8')) as Omit<
        Variant,
        'name' | 'dir'
      >;
      return { ...spec, name: d.name, dir };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Full marks: every graded check passes; a busy host's inconclusive only with its reason. */
function fullMarks(report: GradeReport): string[] {
  const out: string[] = [];
  for (const c of report.checks) {
    if (c.maxScore === 0) continue;
    if (
      c.status === 'inconclusive' &&
      /host was busy|other work on the host|did not get their CPU|too slow a host/.test(c.message)
    )
      continue;
    if (c.status !== 'pass' || c.score !== c.maxScore)
      out.push(`${c.id}: ${c.status} ${c.score}/${c.maxScore}: ${c.message}`);
  }
  return out;
}

describe('labs as data: each reference gets full marks, each variant the verdict it names', function () {
  let session: Session;
  const ids = labIds().filter((id) => !ELSEWHERE.has(id));

  before(async function () {
    this.timeout(120_000);
    session = await openSession({ runId: newRunId('test-labs'), skipImds: true });
  });

  after(async function () {
    this.timeout(120_000);
    await session?.close({ images: true });
  });

  it('finds the labs, each a folder of lab.yaml, reference/, README.md and at least three variants', () => {
    expect(ids.length).to.be.at.least(2);
    for (const id of ids) {
      for (const f of ['lab.yaml', 'README.md', 'reference'])
        expect(existsSync(path.join(LABS_DIR, id, f)), `labs/${id}/${f}`).to.equal(true);
      const vs = variantsOf(id);
      expect(vs.length, `labs/${id}/variants`).to.be.at.least(3);
      for (const v of vs) {
        expect(v.what, `${id}/${v.name}: what`).to.be.a('string').with.length.above(10);
        expect(v.only, `${id}/${v.name}: only`).to.be.an('array').that.is.not.empty;
        expect(Object.keys(v.expect ?? {}), `${id}/${v.name}: expect`).to.not.be.empty;
      }
    }
  });

  for (const id of labIds().filter((x) => !ELSEWHERE.has(x)))
    describe(`labs/${id}`, function () {
      let lab: LoadedLab;
      let version: 1 | 2;
      before(async function () {
        const dir = path.join(LABS_DIR, id);
        lab = await loadLab(path.join(dir, 'lab.yaml'), dir, paramSchemas());
        version = session.host.cgroupVersion === 2 ? 2 : 1;
      });

      it('the reference gets full marks', async function () {
        this.timeout(600_000);
        const report = await gradeSubmission({
          engine: session.engine,
          cgroups: session.cgroups,
          host: session.host,
          lab,
          submissionDir: path.join(LABS_DIR, id, 'reference'),
          quick: true,
        });
        expect(report.checks.map((c) => c.id)).to.deep.equal(lab.spec.checks.map((c) => c.id));
        expect(fullMarks(report), `${id} reference`).to.deep.equal([]);
      });

      for (const v of variantsOf(id))
        it(`${v.name}: ${v.ta}`, async function () {
          this.timeout(300_000);
          const base = path.join(LABS_DIR, id, 'reference');
          const report = await gradeCase(session, lab, v, base, 'variant.yaml');
          expect(differences(v, report, version), `${id}/${v.name}`).to.deep.equal([]);
        });
    });
});
