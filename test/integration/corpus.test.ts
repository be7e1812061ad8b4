/**
 * The corpus of plausible students (test/fixtures/corpus, README there): monitors in bash, sh,
 * awk, python3 and perl, for cgroup v1, v2 or both, per-interval and cumulative; Dockerfiles with
 * USER, WORKDIR, ENTRYPOINT, stages, CRLF, apt, pins; manifests with units, commas, words and
 * typos. Each is graded on the host engine with the checks it is about, and must get the verdict a
 * TA would give — on this host's cgroup version (a v1 host cannot judge a v2-only monitor: that is
 * `inconclusive`, never a fail). The monitor cases run again in the cgroup v2 guest
 * (test/cgroup2/forky.test.ts), where v2-only monitors must pass.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { openSession, type Session } from '../../cli/session.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { loadLab, type LoadedLab } from '../../graders/lab-spec.ts';
import { newRunId } from '../../harness/engine/labels.ts';
import { differences, gradeCase, loadCorpus } from './helpers/corpus.ts';
import { REPO } from './helpers/harness.ts';

const CASES = loadCorpus();

describe('the corpus of plausible students, graded on the host engine', function () {
  let session: Session;
  let lab: LoadedLab;
  let version: 1 | 2;
  const seen: string[] = [];

  before(async function () {
    this.timeout(120_000);
    session = await openSession({ runId: newRunId('test-corpus'), skipImds: true });
    const labDir = path.join(REPO, 'labs/tutorial7');
    lab = await loadLab(path.join(labDir, 'lab.yaml'), labDir, paramSchemas());
    const v = session.host.cgroupVersion;
    if (v !== 1 && v !== 2) throw new Error(`the host's cgroup version is unknown (${v})`);
    version = v;
  });

  after(async function () {
    this.timeout(120_000);
    process.stderr.write(`      corpus on cgroup v${version}: ${seen.join('; ')}\n`);
    await session?.close({ images: true });
  });

  it('holds at least 30 cases, each with what it is and a TA’s verdict', () => {
    expect(CASES.length).to.be.at.least(30);
    for (const c of CASES) {
      expect(c.what, c.name).to.be.a('string').with.length.above(10);
      expect(c.ta, c.name).to.be.a('string').with.length.above(3);
      expect(c.only, c.name).to.be.an('array').that.is.not.empty;
    }
  });

  for (const c of CASES)
    it(`${c.name}: ${c.ta}`, async function () {
      this.timeout(300_000);
      const t0 = Date.now();
      const report = await gradeCase(session, lab, c);
      seen.push(
        `${c.name} ${report.checks.map((x) => `${x.id}=${x.status}`).join(',')} ${((Date.now() - t0) / 1000).toFixed(0)}s`,
      );
      expect(differences(c, report, version), c.what).to.deep.equal([]);
      for (const x of report.checks) expect(x.status, `${x.id}: ${x.message}`).to.not.equal('error');
      // Nothing of the case is left running (the cgroup reader of engine mode aside).
      const mine = new Set(session.cgroups.ownedIds());
      const left = execFileSync('docker', [
        'ps',
        '-aq',
        '--no-trunc',
        '--filter',
        `label=labgrade.run=${session.engine.runId}`,
      ])
        .toString()
        .split('\n')
        .filter((id) => id && !mine.has(id));
      expect(left, 'containers left after the case').to.deep.equal([]);
    });
});
