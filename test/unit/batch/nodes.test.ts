/**
 * Each shard's node and calibrations, side by side in the merged summary: rows per shard and
 * machine (a shard resumed on another node has two), columns per calibration point, a slow or
 * failed node marked, every host text escaped.
 */
import { expect } from 'chai';
import { calibrationHost, nodeCalibrations } from '../../../graders/batch/nodes.ts';
import type { BatchRecord } from '../../../graders/journal.ts';
import { renderClassSummary } from '../../../reports/class-summary.ts';
import {
  calibrationPoints,
  renderNodeCalibrations,
  slowness,
  type NodeCalibrationRow,
} from '../../../reports/class-summary-nodes.ts';

type Run = NonNullable<BatchRecord['calibration']>['runs'][number];

const host = (hostname: string) => ({
  hostname,
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  instanceType: 'c7i-flex.large',
});
const run = (
  label: string,
  at: string,
  durationMs: number,
  h?: string,
  status: Run['status'] = 'pass',
): Run => ({
  label,
  at,
  status,
  durationMs,
  checks: [{ id: 'scaling-memory', status, score: 10, maxScore: 10, message: 'ok' }],
  ...(h ? { host: host(h) } : {}),
});

function record(index: number, runs: Run[]): BatchRecord {
  return {
    v: 1,
    batchId: `lg-${index}`,
    lab: { id: 'tutorial7', title: 'Tutorial 7' },
    shard: { index, count: 3 },
    classFingerprint: 'f',
    classSize: 9,
    students: [],
    assignment: { name: 'T7', id: '1' },
    quick: true,
    online: false,
    createdAt: '2026-12-07T09:00:00Z',
    tool: '0.1.0',
    notes: [],
    calibration: { hostChecks: ['scaling-memory'], policy: 'calibrate', every: 0, runs },
  };
}

describe('calibration per node (merged summary)', () => {
  it('stores the facts that tell nodes apart from the session host', () => {
    expect(
      calibrationHost({
        hostname: 'node-7',
        cpus: 2,
        memoryBytes: 4e9,
        cpuModel: 'Xeon',
        kernel: '6.8.0',
        engineVersion: '28.5.1',
        instanceType: 'c7i-flex.large',
        cgroupVersion: 2,
        cgroupDriver: 'systemd',
      }),
    ).to.deep.equal({
      hostname: 'node-7',
      cpus: 2,
      memoryBytes: 4e9,
      cpuModel: 'Xeon',
      kernel: '6.8.0',
      engineVersion: '28.5.1',
      instanceType: 'c7i-flex.large',
    });
  });

  it('one row per shard and machine, in shard order; a shard resumed on another node has two', () => {
    const rows = nodeCalibrations([
      record(2, [
        run('start', '2026-12-07T09:00:01Z', 50_000, 'b'),
        run('end', '2026-12-07T09:30:00Z', 51_000, 'b'),
      ]),
      record(1, [
        run('start', '2026-12-07T09:00:00Z', 52_000, 'a'),
        run('start', '2026-12-07T09:10:00Z', 49_000, 'c'),
        run('end', '2026-12-07T09:40:00Z', 50_000, 'c'),
      ]),
      record(3, [run('start', '2026-12-07T09:00:02Z', 48_000)]),
    ]);
    expect(rows.map((r) => [r.shard, r.host?.hostname ?? null, r.runs.map((x) => x.label)])).to.deep.equal([
      ['shard 1/3', 'a', ['start']],
      ['shard 1/3', 'c', ['start', 'end']],
      ['shard 2/3', 'b', ['start', 'end']],
      ['shard 3/3', null, ['start']],
    ]);
  });

  it('columns: start, the periodic points, end — whatever the nodes’ clocks said', () => {
    const rows: NodeCalibrationRow[] = [
      {
        shard: 'shard 1/2',
        host: host('a'),
        runs: [
          { label: 'end', at: '2026-12-07T08:00:00Z', status: 'pass', durationMs: 1, checks: [] },
          {
            label: 'after 25 students',
            at: '2026-12-07T07:00:00Z',
            status: 'pass',
            durationMs: 1,
            checks: [],
          },
          { label: 'start', at: '2026-12-07T09:00:00Z', status: 'pass', durationMs: 1, checks: [] },
        ],
      },
    ];
    expect(calibrationPoints(rows)).to.deep.equal(['start', 'after 25 students', 'end']);
  });

  it('a node 1.5× slower than the median of the other nodes at the same point is marked slow', () => {
    const rows = nodeCalibrations([
      record(1, [run('start', '2026-12-07T09:00:00Z', 50_000, 'a')]),
      record(2, [run('start', '2026-12-07T09:00:00Z', 52_000, 'b')]),
      record(3, [run('start', '2026-12-07T09:00:00Z', 90_000, 'slow-node')]),
    ]);
    expect(slowness(rows, 2, rows[2]!.runs[0]!)).to.be.closeTo(90 / 51, 1e-9);
    expect(slowness(rows, 0, rows[0]!.runs[0]!)).to.be.closeTo(50 / 71, 1e-9);
    const html = renderNodeCalibrations(rows).join('\n');
    const slowRow = html.split('<tr>').find((r) => r.includes('slow-node'))!;
    expect(slowRow).to.include('s-inconclusive">? slow: 1.76× the other nodes</span>');
    expect(html.match(/slow: /g)).to.have.length(1);
    // Alone, a node has nobody to be slower than.
    expect(slowness([rows[2]!], 0, rows[2]!.runs[0]!)).to.equal(undefined);
  });

  it('renders in summary.html: both hosts, each point’s result and time; host text escaped; nothing without runs', () => {
    const rows = nodeCalibrations([
      record(1, [run('start', '2026-12-07T09:00:00.123Z', 6_500, '<img src=x onerror=alert(1)>')]),
      record(2, [run('start', '2026-12-07T09:01:00Z', 7_000, 'node-2', 'fail')]),
    ]);
    const html = renderClassSummary({
      lab: { id: 'tutorial7', title: 'Tutorial 7' },
      scope: 'merged from 2 shards',
      expected: 0,
      students: [],
      pending: [],
      notes: [],
      nodes: rows,
    });
    const card = html.slice(
      html.indexOf('id="nodes"'),
      html.indexOf('</section>', html.indexOf('id="nodes"')),
    );
    expect(card).to.include('<th>start</th>');
    expect(card).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(card).to.not.include('<img');
    expect(card).to.include('node-2');
    expect(card).to.include('c7i-flex.large · 2 CPUs · 4 GiB');
    expect(card).to.match(/s-pass">✓ 6\.5 s<\/span> <span class="muted">09:00:00Z/);
    expect(card).to.match(/s-fail">✗ 7 s</);
    expect(renderNodeCalibrations(nodeCalibrations([record(1, [])]))).to.deep.equal([]);
  });
});
