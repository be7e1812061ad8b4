/**
 * The class comparison on real files: each student a folder written here, printed as a batch prints
 * it (submissionPrint with Tutorial 7's artifacts), compared against the lab's real reference.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { maxShare } from '../../../graders/similarity/file-leads.ts';
import { similarityLeads } from '../../../graders/similarity/leads.ts';
import type { ClassMember } from '../../../graders/similarity/member.ts';
import { submissionPrint, type SubmissionPrint } from '../../../graders/similarity/print.ts';
import {
  implausibleTable,
  matchTables,
  sameAtPrecision,
  tableNumbers,
} from '../../../graders/similarity/table.ts';

const LABS = fileURLToPath(new URL('../../../labs/', import.meta.url));
const REF = path.join(LABS, 'tutorial7', 'reference');
const refText = (f: string) => readFileSync(path.join(REF, f), 'utf8');

/** A monitor script nobody else wrote: every line is the n-th student's own. */
function ownMonitor(n: number): string {
  return [
    '#!/bin/bash',
    `# student ${n}'s monitor`,
    `cid=$(docker inspect -f "{{.Id}}" "$1" | cut -c1-${12 + n})`,
    'f=/sys/fs/cgroup/cpu,cpuacct/docker/$cid*/cpuacct.usage',
    `step=${n % 3 === 0 ? 2 : 1}`,
    `a=$(head -c ${20 + n} $f)`,
    `for i in $(seq 1 ${5 + n}); do`,
    `  sleep "$step" || exit ${n}`,
    `  b=$(tail -c ${30 + n} $f)`,
    `  echo $(( (b - a) / ${n * 1000 + 7} ))`,
    `  a=$b  # student ${n}`,
    'done',
    '',
  ].join('\n');
}

function table(cpu: number[], mem: number[], split: [number, number] = [66.4, 33.5]): string {
  return [
    'measurements:',
    '  cpuScaling:',
    '    runs:',
    ...[0.5, 1, 2].map((c, i) => `      - { cpus: ${c}, throughput: ${cpu[i]} }`),
    '  memoryScaling:',
    '    runs:',
    ...['256m', '512m'].map((m, i) => `      - { memory: ${m}, throughput: ${mem[i]} }`),
    '  cpuIsolation:',
    '    shares: [1024, 512]',
    `    cpuPercent: [${split[0]}, ${split[1]}]`,
    '',
  ].join('\n');
}

const manifest = (name: string, id: string, body = '') => `student:\n  name: ${name}\n  id: "${id}"\n${body}`;

describe('similarity: leads across a class', function () {
  let lab: LoadedLab;
  let tmp: string;
  let reference: SubmissionPrint;

  before(async () => {
    lab = await loadLab('tutorial7', LABS, paramSchemas());
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-similarity-'));
    reference = await submissionPrint(REF, lab);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function member(key: string, files: Record<string, string>, over: Partial<ClassMember> = {}) {
    const dir = path.join(tmp, key);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    const id = over.id ?? key;
    return { key, name: key, id, print: await submissionPrint(dir, lab), ...over } as ClassMember;
  }

  it('finds the copied pair, the reference table, a table no instance gives and a shared id — and nothing else', async () => {
    const aliceMonitor = ownMonitor(1);
    const bobMonitor = aliceMonitor
      .replace(/\bcid\b/g, 'container_id')
      .replace(/\bstep\b/g, 'interval')
      .replace(/# student 1's monitor/, '# cpu monitor for tutorial 7')
      .replace(/^ {2}/gm, '    ');
    const members = await Promise.all([
      member('alice', {
        Dockerfile: refText('Dockerfile'),
        'cpu-monitor.sh': aliceMonitor,
        'submission.yaml': manifest('Alice', '2001', table([811, 1630, 2950], [8800, 8910])),
      }),
      member('bob', {
        // Bob's Dockerfile is the reference's, re-commented: boilerplate, never a lead.
        Dockerfile: refText('Dockerfile').replace(/^# .*$/m, '# my docker file'),
        'cpu-monitor.sh': bobMonitor,
        // Alice's numbers written another way (runs reordered, 811.0, 66.40, a comment, block
        // style) and one re-rounded (2950 → 2950.4): the same table as numbers.
        'submission.yaml': manifest(
          'Bob',
          '2002',
          [
            'measurements:',
            '  cpuScaling:',
            '    runs:',
            '      - cpus: 2',
            '        throughput: 2950.4',
            '      - { cpus: 0.5, throughput: 811.0 }   # measured on my instance',
            '      - { cpus: 1, throughput: 1630 }',
            '  memoryScaling:',
            '    runs:',
            '      - { memory: 512m, throughput: 8910 }',
            '      - { memory: 256m, throughput: 8800 }',
            '  cpuIsolation: { shares: [1024, 512], cpuPercent: [66.40, 33.5] }',
            '',
          ].join('\n'),
        ),
      }),
      // Carol and Dave hand in the reference's monitor unchanged: all of it is boilerplate.
      member('carol', {
        Dockerfile: refText('Dockerfile'),
        'cpu-monitor.sh': refText('cpu-monitor.sh'),
        'submission.yaml': manifest('Carol', '2003', table([790, 1577, 3011], [9020, 9101])),
      }),
      member('dave', {
        Dockerfile: refText('Dockerfile'),
        'cpu-monitor.sh': refText('cpu-monitor.sh'),
        'submission.yaml': manifest('Dave', '2004', table([836, 1702, 3120], [9300, 9250])),
      }),
      member('erin', {
        Dockerfile: refText('Dockerfile'),
        'cpu-monitor.sh': ownMonitor(5),
        'submission.yaml': refText('submission.yaml').replace('id: reference', 'id: "2005"'),
      }),
      member('frank', {
        Dockerfile: refText('Dockerfile'),
        'cpu-monitor.sh': ownMonitor(6),
        'submission.yaml': manifest('Frank', '2006', table([1000, 2000, 4000], [9000, 9100])),
      }),
      // Grace copied Heidi's submission.yaml header: the same student id (the batch's gradebook id).
      member(
        'grace',
        { Dockerfile: refText('Dockerfile'), 'submission.yaml': manifest('Grace', '2008') },
        { id: '2008' },
      ),
      member(
        'heidi',
        { Dockerfile: refText('Dockerfile'), 'submission.yaml': manifest('Heidi', '2008') },
        { id: '2008' },
      ),
    ]);
    const leads = similarityLeads(members, reference);
    const seen = leads.map(
      (l) => `${l.kind} ${l.subject}: ${l.students.map((s) => s.key).join('+')} (${l.match})`,
    );
    expect(seen).to.deep.equal([
      'file cpu-monitor.sh: alice+bob (identical after normalising)',
      'table measurement table: alice+bob (near-identical)',
      'reference-table measurement table: erin (identical)',
      'implausible-table measurement table: frank (implausible)',
      'id student id: grace+heidi (same id)',
    ]);
    const file = leads[0]!;
    expect(file.detail).to.equal(
      '5 of 5 distinctive lines the same after normalising whitespace, comments and variable names; 1 comment line(s) the same; e.g. line 3 ↔ line 3',
    );
    expect(leads[3]!.detail).to.match(/exactly proportional to --cpus at 3 limits \(1000, 2000, 4000\)/);
    expect(leads[4]!.detail).to.equal(
      'both give the id "2008" (gradebook id, from submission.yaml; gradebook id, from submission.yaml)',
    );
  });

  it('lines most of the class wrote are boilerplate even when the reference lacks them; a pair that shares its own lines is a lead', async () => {
    const common = [
      'cid=$(docker inspect -f "{{.Id}}" "$1")',
      'f=/sys/fs/cgroup/cpuacct/docker/$cid/cpuacct.usage',
      'while true; do',
      '  cat "$f"',
      '  sleep 1',
      'done',
    ];
    const members = await Promise.all(
      Array.from({ length: 8 }, (_x, i) =>
        member(`s${i}`, {
          Dockerfile: refText('Dockerfile'),
          // Everyone: the common snippet; s0 and s1 also the same five lines of their own.
          'cpu-monitor.sh': [
            ...common,
            ...(i < 2
              ? ['echo "pair 1"', 'echo "pair 2"', 'echo "pair 3"', 'echo "pair 4"', 'echo "pair 5"']
              : [`echo "own ${i}"`]),
          ].join('\n'),
        }),
      ),
    );
    expect(maxShare(8)).to.equal(4);
    const leads = similarityLeads(members, reference);
    expect(leads.map((l) => `${l.subject}: ${l.students.map((s) => s.key).join('+')}`)).to.deep.equal([
      'cpu-monitor.sh: s0+s1',
    ]);
    expect(leads[0]!.detail).to.match(/^5 of 5 distinctive lines/);
  });

  it('two shared lines are chance, not a lead; a near copy with one line added still is', async () => {
    const base = [
      'echo "alpha one"',
      'echo "beta two"',
      'echo "gamma three"',
      'echo "delta four"',
      'echo "epsilon five"',
      'echo "zeta six"',
    ];
    const members = await Promise.all([
      member('a', { 'cpu-monitor.sh': base.join('\n') }),
      member('b', { 'cpu-monitor.sh': [...base, 'echo "eta seven"'].join('\n') }),
      member('c', {
        'cpu-monitor.sh': ['echo "x one"', 'echo "x two"', 'echo "c own"', 'echo "c more"'].join('\n'),
      }),
      member('d', {
        'cpu-monitor.sh': ['echo "x one"', 'echo "x two"', 'echo "d own"', 'echo "d more"'].join('\n'),
      }),
    ]);
    const leads = similarityLeads(members);
    expect(leads.map((l) => `${l.students.map((s) => s.key).join('+')} ${l.match} ${l.score}`)).to.deep.equal(
      ['a+b near-identical 0.86'],
    );
  });

  it('tables: the same numbers at the precision both give; a shares split alone, or two throughputs, never match', () => {
    expect(sameAtPrecision(842.37, 842.4)).to.equal(true);
    expect(sameAtPrecision(842, 842.4)).to.equal(true);
    expect(sameAtPrecision(842, 843)).to.equal(false);
    expect(sameAtPrecision(842.3, 842.5)).to.equal(false);
    const t = (cpu: number[], split = [66.4, 33.5]) =>
      tableNumbers({
        cpuScaling: { runs: cpu.map((x, i) => ({ cpus: [0.5, 1, 2][i]!, throughput: x })) },
        cpuIsolation: { shares: [1024, 512], cpuPercent: split as [number, number] },
      });
    expect(matchTables(t([842, 1684, 3020]), t([842, 1684, 3020]))?.strength).to.equal('identical');
    expect(matchTables(t([842.37, 1684, 3020]), t([842.4, 1684, 3020]))?.strength).to.equal('near-identical');
    expect(matchTables(t([842, 1684, 3020]), t([843, 1684, 3020]))).to.equal(null);
    expect(matchTables(t([842, 1684, 3020]), t([842, 1684, 3020], [60, 40]))).to.equal(null);
    expect(matchTables(t([842, 1684]), t([842, 1684]))).to.equal(null);
  });

  it('tables no instance gives: every ratio exact at three limits, or a pinned pair above one CPU', () => {
    const t = (cpu: number[], split: [number, number]) =>
      tableNumbers({
        cpuScaling: { runs: cpu.map((x, i) => ({ cpus: [0.5, 1, 2][i]!, throughput: x })) },
        cpuIsolation: { shares: [1024, 512], cpuPercent: split },
      });
    expect(implausibleTable(t([842, 1684, 3020], [66.5, 33.4]))).to.deep.equal([]);
    // The reference's own first two runs are exactly 2×: two limits prove nothing.
    expect(implausibleTable(t([842, 1684], [66.5, 33.4]))).to.deep.equal([]);
    expect(implausibleTable(t([700, 1400, 2800], [66.5, 33.4]))).to.have.length(1);
    expect(implausibleTable(t([842, 1684, 3020], [90, 45]))).to.deep.equal([
      'the two containers pinned to one CPU add up to 135 % of a CPU: together they cannot use more than 100 %',
    ]);
  });

  it('a Canvas student keeps their Canvas id; the same id in two submission.yaml files is still a lead', async () => {
    const members = await Promise.all([
      member('canvas:1001', { 'submission.yaml': manifest('Ivana', '123456') }, { id: '1001', canvas: true }),
      member(
        'canvas:1002',
        { 'submission.yaml': manifest('Jürgen', '123456') },
        { id: '1002', canvas: true },
      ),
      member('canvas:1003', { 'submission.yaml': manifest('Mallory', '1003') }, { id: '1003', canvas: true }),
    ]);
    const leads = similarityLeads(members);
    expect(leads.map((l) => `${l.students.map((s) => s.key).join('+')}: ${l.detail}`)).to.deep.equal([
      'canvas:1001+canvas:1002: both give the id "123456" (submission.yaml; submission.yaml)',
    ]);
  });
});
