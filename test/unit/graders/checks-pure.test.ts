import { expect } from 'chai';
import { parseHubRef } from '../../../graders/checks/docker-hub.ts';
import { acceptedShareRatios, weightNew, weightOld } from '../../../graders/manifest-tables.ts';
import { judgeMonitor, parseMonitorOutput } from '../../../graders/checks/cpu-monitor.ts';
import { sampleSpacing } from '../../../graders/checks/monitor-judge.ts';
import { judgeTogether } from '../../../graders/checks/isolation-cpu.ts';
import { imageTag } from '../../../graders/checks/image-build.ts';
import { overallStatus, scoreOf } from '../../../graders/grade.ts';
import { parseManifest } from '../../../graders/manifest.ts';
import type { CheckReport } from '../../../reports/model.ts';

/** A table as the tests read it (its kind's schema checked it). */
type Table = { runs: Array<{ throughput: number }>; cpuPercent: number[] };

describe('check kinds: pure parts', () => {
  it('cpu.weight mappings match both runc formulas (cgroups.md)', () => {
    expect([weightOld(1024), weightOld(512), weightOld(2048)]).to.deep.equal([39, 20, 79]);
    expect([weightNew(1024), weightNew(512), weightNew(2048)]).to.deep.equal([100, 59, 174]);
    const r = acceptedShareRatios(1024, 512);
    expect(r[0]).to.equal(2);
    expect(r[1]).to.be.closeTo(1.95, 0.001);
    expect(r[2]).to.be.closeTo(1.695, 0.001);
  });

  it('parseHubRef accepts Docker Hub references and says why others are not', () => {
    expect(parseHubRef('jdoe/tutorial7:latest')).to.deep.equal({
      ok: true,
      ref: { user: 'jdoe', repo: 'tutorial7', tag: 'latest', digest: undefined },
    });
    expect(parseHubRef('docker.io/jdoe/t7').ok).to.equal(true);
    expect(parseHubRef(`jdoe/t7@sha256:${'a'.repeat(64)}`).ok).to.equal(true);
    expect(parseHubRef('tutorial7')).to.deep.equal({
      ok: false,
      why: 'no user name: Docker Hub references are user/repo[:tag]',
    });
    expect(parseHubRef('JDoe/T7')).to.include({ ok: false, why: 'repository names must be lower-case' });
    expect(parseHubRef('ghcr.io/jdoe/t7')).to.include({
      ok: false,
      why: 'not a Docker Hub reference (another registry)',
    });
    expect(parseHubRef('https://hub.docker.com/r/jdoe/t7').ok).to.equal(false);
    expect(parseHubRef('jdoe/t7:bad tag').ok).to.equal(false);
  });

  it('parseMonitorOutput takes the last number of each line, percent signs and labels allowed', () => {
    expect(parseMonitorOutput('49.8\n50.1%\nCPU: 48 %\n\nno number\n1.2e1\n')).to.deep.equal([
      49.8, 50.1, 48, 12,
    ]);
    expect(parseMonitorOutput('')).to.deep.equal([]);
  });

  it('cpu-monitor: every way a monitor goes wrong is judged, a starved container is inconclusive', () => {
    const p = { samples: 6, interval: 1, tolerancePoints: 10 };
    const ok = { stdout: '', stderr: '', exitCode: 0, timedOut: false };
    type Watch = Parameters<typeof judgeMonitor>[0]['watch'];
    const unknown = sampleSpacing([], 1);
    const verdict = (values: number[], harness: number, run = ok, watch?: Watch) =>
      judgeMonitor({
        p,
        values,
        judged: values.length > 2 ? values.slice(1) : values,
        gaps: [],
        spacing: unknown,
        harnessPct: harness,
        expectedPct: 50,
        run,
        watch,
      });
    const judge = (values: number[], _m: number, harness: number, run = ok, watch?: Watch) =>
      verdict(values, harness, run, watch).status;
    expect(judge([50, 49, 51], 50, 48)).to.equal('pass');
    expect(judge([0.5, 0.49, 0.51], 0.5, 48)).to.equal('fail');
    expect(judge([], NaN, 48)).to.equal('fail');
    expect(judge([50], 50, 48)).to.equal('fail');
    expect(judge([50, 50, 50], 50, 48, { ...ok, timedOut: true })).to.equal('fail');
    expect(
      judge([50, 50, 50], 50, 48, ok, { forkBomb: true, oomKills: 0, peakPids: 64, pidsMax: 64 }),
    ).to.equal('fail');
    expect(judge([50, 50, 50], 50, 5)).to.equal('inconclusive');
    expect(verdict([0.5, 0.5], 48).message).to.match(/looks like cores/);
  });

  it('isolation-cpu: two pinned containers above one CPU fail, below it the host was busy', () => {
    expect(judgeTogether([1, 0.99, 1.01], 0.1)).to.equal('pass');
    expect(judgeTogether([1.9, 1.95, 2], 0.1)).to.equal('fail');
    expect(judgeTogether([0.5, 0.55, 0.52], 0.1)).to.equal('inconclusive');
  });

  it('image tags are stable per lab and folder', () => {
    expect(imageTag('tutorial7', '/a/b')).to.equal(imageTag('tutorial7', '/a/b'));
    expect(imageTag('tutorial7', '/a/b')).to.not.equal(imageTag('tutorial7', '/a/c'));
    expect(imageTag('tutorial7', '/a/b')).to.match(/^labgrade\/tutorial7:[0-9a-f]{12}$/);
  });
});

describe('scoring', () => {
  const c = (status: CheckReport['status'], score: number, maxScore: number): CheckReport => ({
    id: status,
    title: '',
    kind: '',
    status,
    score,
    maxScore,
    message: '',
    evidence: {},
    durationMs: 0,
  });

  it('scoreOf: full points for a pass, the fraction for a partial fail, nothing for the rest; not-applicable leaves the maximum', () => {
    expect(scoreOf('pass', 10, {})).to.deep.equal({ score: 10, maxScore: 10 });
    expect(scoreOf('fail', 10, { fraction: 0.5 })).to.deep.equal({ score: 5, maxScore: 10 });
    expect(scoreOf('fail', 10, {})).to.deep.equal({ score: 0, maxScore: 10 });
    expect(scoreOf('inconclusive', 10, { fraction: 1 })).to.deep.equal({ score: 0, maxScore: 10 });
    expect(scoreOf('skipped', 3, { notApplicable: true })).to.deep.equal({ score: 0, maxScore: 0 });
    expect(scoreOf('skipped', 3, {})).to.deep.equal({ score: 0, maxScore: 3 });
    expect(scoreOf('fail', 3, { fraction: 1 / 3 })).to.deep.equal({ score: 1, maxScore: 3 });
  });

  it('overallStatus: error > fail (incl. dependency skips) > inconclusive > pass; host skips do not count', () => {
    expect(overallStatus([c('pass', 1, 1), c('skipped', 0, 0)])).to.equal('pass');
    expect(overallStatus([c('pass', 1, 1), c('skipped', 0, 5)])).to.equal('fail');
    expect(overallStatus([c('pass', 1, 1), c('inconclusive', 0, 5)])).to.equal('inconclusive');
    expect(overallStatus([c('fail', 0, 1), c('error', 0, 5)])).to.equal('error');
  });
});

describe('submission.yaml', () => {
  it('parses the documented table', () => {
    const r = parseManifest(
      'student: { name: Ada, id: 42 }\ndockerHub: ada/t7:v1\nmeasurements:\n  cpuIsolation: { shares: [1024, 512], cpuPercent: [66, 34] }\n',
    );
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.manifest.student?.id).to.equal('42');
      expect((r.manifest.measurements?.cpuIsolation as Table | undefined)?.cpuPercent).to.deep.equal([
        66, 34,
      ]);
    }
  });

  it('names the field of a wrong type, refuses unknown fields and huge or negative numbers (in their own part)', () => {
    const errors = (text: string) => {
      const r = parseManifest(text);
      return (r.ok ? (r.errors ?? {}) : { file: r.error }) as Record<string, string>;
    };
    const wrong = errors(
      'dockerHub: a/b\nmeasurements:\n  cpuScaling:\n    runs:\n      - { cpus: half, throughput: 1 }\n      - { cpus: 1, throughput: 2 }\n',
    );
    expect(wrong).to.have.keys(['measurements.cpuScaling']);
    expect(wrong['measurements.cpuScaling']).to.match(
      /measurements\.cpuScaling\.runs\[0\]\.cpus.*\(line 5\)$/,
    );
    expect(errors('nonsense: x\n')).to.deep.equal({
      '': 'submission.yaml line 1: unknown key "nonsense" in the top level; expected student, dockerHub, measurements',
    });
    const huge = errors(
      'measurements:\n  cpuScaling:\n    runs:\n      - { cpus: 1, throughput: 1e308 }\n      - { cpus: 2, throughput: -5 }\n',
    );
    expect(huge).to.have.keys(['measurements.cpuScaling']);
  });

  it('refuses a billion-laughs document and oversized input without expanding it', () => {
    const lines = ['a: &a [x,x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10)
          .fill(`*${'abcdefghij'[i - 1]}`)
          .join(',')}]`,
      );
    const r = parseManifest(lines.join('\n'));
    expect(r.ok).to.equal(false);
    expect(r.ok ? '' : r.error).to.match(/alias/i);
    expect(parseManifest('x'.repeat(70_000)).ok).to.equal(false);
  });

  it('reads bytes: refuses UTF-16 and non-UTF-8 with where, keeps a BOM-led UTF-8 file', () => {
    const err = (r: ReturnType<typeof parseManifest>) => (r.ok ? '' : r.error);
    expect(err(parseManifest(Buffer.from('\uFEFFdockerHub: a/b\n', 'utf16le')))).to.equal(
      'submission.yaml cannot be read: it is UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8',
    );
    expect(err(parseManifest(Buffer.from('student:\n  name: J\xfcrgen\n', 'latin1')))).to.equal(
      'submission.yaml cannot be read: it is not UTF-8 text (byte 0xfc at line 2, column 10): save it as UTF-8',
    );
    expect(parseManifest(Buffer.from('\uFEFFdockerHub: a/b:1\n'))).to.deep.equal({
      ok: true,
      manifest: { dockerHub: 'a/b:1' },
    });
  });

  it('says what the top level, a memory size and a long id must be', () => {
    const err = (text: string) => {
      const r = parseManifest(text);
      return r.ok ? '' : r.error;
    };
    expect(err('- a\n- b\n')).to.equal(
      'submission.yaml (top level): expected a mapping with student:, dockerHub: and measurements: (see the example in the lab README), got a list',
    );
    const part = (text: string) => {
      const r = parseManifest(text);
      return r.ok ? Object.values(r.errors ?? {}).join(' | ') : r.error;
    };
    expect(
      part(
        'measurements:\n  memoryScaling:\n    runs:\n      - { memory: lots, throughput: 1 }\n      - { memory: 1g, throughput: 1 }\n',
      ),
    ).to.equal(
      'submission.yaml measurements.memoryScaling.runs[0].memory: expected a size such as 256m or 1g, got "lots" (line 4)',
    );
    expect(part('student: { id: 123456789012345678 }\n')).to.match(
      /^submission\.yaml student\.id: expected a whole number of at most 15 digits .*, got 123456789012345680 \(line 1\)$/,
    );
    expect(parseManifest('student: { id: "123456789012345678" }\n')).to.deep.include({ ok: true });
    expect(err('dockerHub: a/b\ndockerHub: c/d\n')).to.match(
      /^submission\.yaml line 2: the key "dockerHub" appears twice/,
    );
  });

  it('a syntax error names its line', () => {
    const r = parseManifest('student:\n  name: [unclosed\n');
    expect(r.ok ? '' : r.error).to.match(/^submission\.yaml line \d+: /);
  });
});
