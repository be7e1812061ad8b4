import { Buffer } from 'node:buffer';
import { expect } from 'chai';
import { DEFAULT_MAX_LOG_CHARS, normaliseReport, renderJson } from '../../../reports/json.ts';
import type { GradeReport } from '../../../reports/model.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';

/** The same object with every key inserted in reverse order, recursively. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => reversedKeys(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).reverse())
    out[key] = reversedKeys((value as Record<string, unknown>)[key]);
  return out as T;
}

describe('reports/json', () => {
  it('is valid JSON with a trailing newline and 2-space indent', () => {
    const text = renderJson(tutorial7Report());
    expect(text.endsWith('}\n')).to.equal(true);
    expect(text.split('\n')[1]).to.equal('  "schemaVersion": 1,');
    const parsed = JSON.parse(text) as GradeReport;
    expect(parsed.checks).to.have.length(11);
    expect(parsed.score).to.equal(77.5);
  });

  it('round-trips the fixture: nothing lost, nothing added (logs under the cap)', () => {
    const report = tutorial7Report();
    expect(JSON.parse(renderJson(report))).to.deep.equal(JSON.parse(JSON.stringify(report)));
  });

  it('puts keys in the model order whatever order the grader built the object in', () => {
    const report = tutorial7Report();
    expect(renderJson(reversedKeys(report))).to.equal(renderJson(report));
    expect(Object.keys(JSON.parse(renderJson(reversedKeys(report))) as object)).to.deep.equal([
      'schemaVersion',
      'tool',
      'lab',
      'submission',
      'host',
      'startedAt',
      'finishedAt',
      'durationMs',
      'score',
      'maxScore',
      'status',
      'checks',
      'options',
    ]);
  });

  it('sorts evidence.files and evidence.details by key', () => {
    const report = tutorial7Report();
    report.checks[0]!.evidence.files = { b: '2', a: '1', c: '3' };
    report.checks[0]!.evidence.details = { z: { y: 1, x: 2 }, a: [{ d: 1, c: 2 }] };
    const check = (JSON.parse(renderJson(report)) as GradeReport).checks[0]!;
    expect(Object.keys(check.evidence.files ?? {})).to.deep.equal(['a', 'b', 'c']);
    expect(JSON.stringify(check.evidence.details)).to.equal('{"a":[{"c":2,"d":1}],"z":{"x":2,"y":1}}');
  });

  it('keeps fields the model does not know yet, after the known ones, alphabetically', () => {
    const report = tutorial7Report() as GradeReport & { zeta?: number; alpha?: string };
    report.zeta = 1;
    report.alpha = 'a';
    const keys = Object.keys(JSON.parse(renderJson(report)) as object);
    expect(keys.slice(-3)).to.deep.equal(['options', 'alpha', 'zeta']);
  });

  it('drops undefined optional fields and turns non-finite numbers into null', () => {
    const report = tutorial7Report();
    report.lab.version = undefined;
    report.checks[1]!.evidence.measurements = [
      { name: 'n', value: Number.NaN, expected: Number.POSITIVE_INFINITY, unit: '', status: 'inconclusive' },
    ];
    const parsed = JSON.parse(renderJson(report)) as GradeReport;
    expect(parsed.lab).not.to.have.property('version');
    expect(parsed.checks[1]!.evidence.measurements![0]!.value).to.equal(null);
    expect(parsed.checks[1]!.evidence.measurements![0]!.expected).to.equal(null);
  });

  it('caps each log at 64 Ki characters by default, keeping the tail', () => {
    const report = tutorial7Report();
    const log = `${'start\n'.repeat(50_000)}THE ERROR AT THE END\n`;
    for (const check of report.checks) check.evidence.log = log;
    const text = renderJson(report);
    const parsed = JSON.parse(text) as GradeReport;
    for (const check of parsed.checks) {
      expect(check.evidence.log!.length).to.be.at.most(DEFAULT_MAX_LOG_CHARS);
      expect(check.evidence.log).to.match(/… \[\d+ characters cut\] …/);
      expect(check.evidence.log!.endsWith('THE ERROR AT THE END\n')).to.equal(true);
    }
    // 11 checks × 64 Ki characters of log (a newline is two bytes once escaped), plus the rest of
    // the report: bounded whatever the input size.
    expect(Buffer.byteLength(text)).to.be.below(11 * 2 * DEFAULT_MAX_LOG_CHARS + 64 * 1024);
  });

  it('takes the caps as options, for logs and file contents', () => {
    const report = tutorial7Report();
    report.checks[2]!.evidence.log = 'x'.repeat(10_000);
    report.checks[2]!.evidence.files = { big: 'y'.repeat(10_000) };
    const check = (normaliseReport(report, { maxLogChars: 100, maxFileChars: 50 }) as unknown as GradeReport)
      .checks[2]!;
    expect(check.evidence.log!.length).to.be.at.most(100);
    expect(check.evidence.files!.big!.length).to.be.at.most(50);
  });
});
