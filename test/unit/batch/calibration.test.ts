/**
 * Host checks measured once per batch: Tutorial 7's lab setting, the student lab (host checks →
 * smoke test), what a calibration runs, and how a student's host checks follow from the
 * calibration and their smoke test — never 0 when the calibration itself did not pass.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  applyCalibration,
  calibrationFrom,
  calibrationPolicy,
  calibrationSelection,
  studentLab,
  studentRetryIds,
  type CalibrationPolicy,
  type CalibrationRun,
} from '../../../graders/batch/calibration.ts';
import { unjudgedChecks } from '../../../graders/batch/review.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { loadLab, parseLabSpec, type LoadedLab } from '../../../graders/lab-spec.ts';
import type { CheckReport, CheckStatus, GradeReport } from '../../../reports/model.ts';

const LABS = fileURLToPath(new URL('../../../labs/', import.meta.url));
const HOST = ['scaling-cpu', 'scaling-memory', 'isolation-cpu', 'isolation-memory'];

function rep(
  id: string,
  status: CheckStatus,
  score: number,
  maxScore: number,
  message = `${id} ${status}`,
): CheckReport {
  return { id, title: id, kind: id, status, score, maxScore, message, evidence: {}, durationMs: 1 };
}

function report(checks: CheckReport[]): GradeReport {
  return {
    checks,
    score: checks.reduce((a, c) => a + c.score, 0),
    maxScore: checks.reduce((a, c) => a + c.maxScore, 0),
    status: 'pass',
    finishedAt: '2026-12-06T06:00:00.000Z',
    durationMs: 1000,
  } as unknown as GradeReport;
}

describe('batch calibration (host checks measured once per batch)', () => {
  let lab: LoadedLab;
  let policy: CalibrationPolicy;
  before(async () => {
    lab = await loadLab('tutorial7', LABS, paramSchemas());
    policy = calibrationPolicy(lab)!;
  });

  it('Tutorial 7 calibrates scaling and isolation (45 points), every 25 students', () => {
    expect(policy).to.deep.equal({ hostChecks: HOST, every: 25 });
    const pts = lab.spec.checks.filter((c) => HOST.includes(c.id)).reduce((a, c) => a + c.points, 0);
    expect(pts).to.equal(45);
    expect(lab.params.get('limits-smoke')).to.deep.include({ cpus: 0.5, memory: 64 * 1024 * 1024, over: 2 });
  });

  it('a lab naming an unknown host check, or a bad smoke param, is refused at load', () => {
    const base = (batch: string) =>
      `id: x\ntitle: X\nartifacts: {}\nchecks:\n  - { id: b, kind: image-build, title: B, points: 1 }\nbatch:\n${batch}`;
    expect(() =>
      parseLabSpec(base('  hostChecks: [nope]\n  policy: calibrate\n'), 'l.yaml', paramSchemas()),
    ).to.throw(/nope/);
    expect(() =>
      parseLabSpec(
        base('  hostChecks: [b]\n  policy: calibrate\n  smoke: { cpus: -1 }\n'),
        'l.yaml',
        paramSchemas(),
      ),
    ).to.throw(/smoke/);
    expect(calibrationPolicy({ ...lab, spec: { ...lab.spec, batch: undefined } })).to.equal(null);
  });

  it('the student lab: host checks out, the 0-point smoke test in (needing what they needed)', () => {
    const s = studentLab(lab, policy);
    const ids = s.spec.checks.map((c) => c.id);
    for (const h of HOST) expect(ids).to.not.include(h);
    const smoke = s.spec.checks.find((c) => c.id === 'limits-smoke')!;
    expect(smoke).to.deep.include({ kind: 'limits-smoke', points: 0, needs: ['tools'] });
    expect(ids.indexOf('limits-smoke')).to.be.greaterThan(ids.indexOf('tools'));
    expect(calibrationSelection(lab, policy)).to.deep.equal(['build', 'tools', ...HOST]);
    expect(studentRetryIds(['tools', 'scaling-cpu', 'isolation-cpu'], policy)).to.deep.equal([
      'tools',
      'limits-smoke',
    ]);
  });

  const good = (): CalibrationRun =>
    calibrationFrom(
      'start',
      report([
        rep('build', 'pass', 10, 10),
        rep('tools', 'pass', 10, 10),
        ...HOST.map((h) => rep(h, 'pass', 10, 10)),
      ]),
      policy,
    );
  const student = (smoke: CheckStatus) =>
    report([
      rep('dockerfile', 'pass', 10, 10),
      rep('build', 'pass', 10, 10),
      rep('tools', 'pass', 10, 10),
      rep('limits-smoke', smoke, 0, 0, `smoke ${smoke}`),
    ]);
  const host = (r: GradeReport) => r.checks.filter((c) => HOST.includes(c.id));

  it('smoke pass + a good calibration: the calibrated points', () => {
    const r = applyCalibration(lab, student('pass'), policy, good());
    expect(host(r).map((c) => [c.status, c.score])).to.deep.equal([
      ['pass', 15],
      ['pass', 10],
      ['pass', 10],
      ['pass', 10],
    ]);
    expect(r.score).to.equal(75);
    expect(host(r)[0]!.message).to.match(
      /^calibrated: measured once on this host with the reference image \(start/,
    );
    // In lab order, the smoke test kept (0 points) where the host checks start.
    expect(r.checks.map((c) => c.id)).to.deep.equal([
      'dockerfile',
      'build',
      'tools',
      'limits-smoke',
      ...HOST,
    ]);
  });

  it('smoke fail: 0 with the reason; smoke skipped: skipped like the checks would be', () => {
    const f = applyCalibration(lab, student('fail'), policy, good());
    expect(host(f).every((c) => c.status === 'fail' && c.score === 0)).to.equal(true);
    expect(host(f)[0]!.message).to.match(/does not behave under limits.*smoke fail/);
    const s = applyCalibration(lab, student('skipped'), policy, good());
    expect(host(s).every((c) => c.status === 'skipped')).to.equal(true);
  });

  it('a calibration that did not pass (or none): unjudged for everyone, never 0 as a verdict', () => {
    const busy = calibrationFrom(
      'end',
      report([
        rep('build', 'pass', 10, 10),
        rep('scaling-cpu', 'inconclusive', 0, 15),
        ...HOST.slice(1).map((h) => rep(h, 'pass', 10, 10)),
      ]),
      policy,
    );
    expect(busy.status).to.equal('inconclusive');
    const broken = calibrationFrom(
      'end',
      report([rep('build', 'pass', 10, 10), ...HOST.map((h) => rep(h, 'fail', 0, 10))]),
      policy,
    );
    expect(broken.status).to.equal('fail');
    for (const cal of [busy, broken, undefined]) {
      const r = applyCalibration(lab, student('pass'), policy, cal);
      expect(host(r).every((c) => c.status === 'error')).to.equal(true);
      expect(host(r)[0]!.message).to.match(/calibration did not pass|no calibration/);
      expect(unjudgedChecks(lab, r.checks).map((u) => u.id)).to.deep.equal(HOST);
    }
    // The smoke test without a verdict (busy host): unjudged too, retried like any other.
    const r = applyCalibration(lab, student('inconclusive'), policy, good());
    expect(unjudgedChecks(lab, r.checks).map((u) => u.id)).to.deep.equal(HOST);
  });

  it('the reference folder is the lab’s', () => {
    expect(path.basename(lab.dir)).to.equal('tutorial7');
  });
});
