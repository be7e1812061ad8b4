/**
 * Hostile and broken input (issue 7, group "inputs"): what students and TAs really hand labgrade —
 * hostile submission.yaml files, hostile archives in a batch, markup in every name and message,
 * and malformed lab files. Each case runs the real CLI and asserts the exact outcome: verdict,
 * score, exit code, the message that says what was expected and what was got, a time bound, and
 * that nothing was written outside the student's folder or left behind.
 *
 * Fixtures: test/fixtures/hostile/inputs/ (see test/fixtures/hostile/inputs.md). What must not live
 * in git (binary, big, odd archive names) is made at test time by inputs/make-inputs.py in a temp
 * folder that is removed afterwards. No case builds an image: the checks run are static.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckStatus, GradeReport } from '../../reports/model.ts';
import type { JournalEntry } from '../../graders/journal.ts';
import { materialize, scanInputs } from '../../graders/intake.ts';
import {
  HOSTILE,
  checkDir,
  checkOf,
  registerRun,
  removeRunObjects,
  runLabgrade,
  runObjects,
  runTempDirs,
  tail,
  type CheckRun,
} from './helpers/cli.ts';

const INPUTS = path.join(HOSTILE, 'inputs');
const MANIFESTS = path.join(INPUTS, 'manifests');
const LABS = path.join(INPUTS, 'labs');
const STATIC_LAB = path.join(INPUTS, 'static-lab.yaml');
/** Every escape attempt in the generated archives carries this token in its target's name. */
const TOKEN = randomBytes(6).toString('hex');
const CANARY = `labgrade-hostile-canary-${TOKEN}`;

/** The generated half of the fixtures (make-inputs.py), made once for the whole file. */
let gen = '';
const runs: string[] = [];

function generate(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labgrade-hostile-inputs-'));
  execFileSync('python3', [path.join(INPUTS, 'make-inputs.py'), dir, TOKEN], { stdio: 'pipe' });
  return dir;
}

/** A CLI run that must have ended by itself, normally, with no crash or stack trace. */
function expectCleanExit(
  run: { exitCode: number | null; signal: string | null; stderr: string },
  code: number,
) {
  expect(run.signal, `killed (hang?); stderr:\n${tail(run.stderr)}`).to.equal(null);
  expect(run.exitCode, `exit code; stderr:\n${tail(run.stderr)}`).to.equal(code);
  expect(run.stderr).to.not.match(/internal error|Unhandled|^\s+at .+:\d+:\d+\)?$/m);
}

interface Expected {
  status: CheckStatus;
  score: number;
  includes: string[];
  excludes?: string[];
}

/** Every number in a report.json must be a number: JSON has no NaN/Infinity (they become null). */
function expectFiniteMeasurements(run: CheckRun): void {
  for (const c of run.report!.checks) {
    for (const m of c.evidence.measurements ?? []) {
      expect(m.value, `${c.id}: ${m.name}`).to.be.a('number');
      expect(Number.isFinite(m.value), `${c.id}: ${m.name} = ${m.value}`).to.equal(true);
    }
  }
}

/** Run `fn` over `items`, at most `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

describe('hostile inputs', function () {
  before(function () {
    this.timeout(120_000);
    gen = generate();
  });

  after(function () {
    this.timeout(120_000);
    for (const id of runs) removeRunObjects(id);
    if (gen) rmSync(gen, { recursive: true, force: true });
  });

  // -------------------------------------------------------------------------------------------
  describe('submission.yaml: labgrade check --only measurements,docker-hub', function () {
    const unreadable = (error: string): { hub: Expected; table: Expected } => ({
      hub: { status: 'fail', score: 0, includes: [`expected a readable submission.yaml, got: ${error}`] },
      table: { status: 'fail', score: 0, includes: [`expected a readable submission.yaml, got: ${error}`] },
    });
    /** One part of the file is wrong: only the check that reads that part fails (issue 15). */
    const tableOnly = (error: string): { hub: Expected; table: Expected } => ({
      hub: HUB_OK,
      table: {
        status: 'fail',
        score: 0,
        includes: [`expected a measurements: table in submission.yaml, got: ${error}`],
      },
    });
    const tableProblem = (error: string): { hub: Expected; table: Expected } => ({
      hub: HUB_OK,
      table: { status: 'fail', score: 0, includes: [error] },
    });
    const HUB_OK: Expected = {
      status: 'pass',
      score: 2,
      includes: ['ada/t7:v1 is a well-formed Docker Hub reference'],
    };

    interface ManifestCase {
      name: string;
      what: string;
      /** Folder under manifests/ (committed) or, when generated, under the generated manifests/. */
      generated?: boolean;
      expect: () => { hub: Expected; table: Expected };
      env?: Record<string, string>;
      extra?: (run: CheckRun) => void;
    }

    const CASES: ManifestCase[] = [
      {
        name: 'billion-laughs',
        what: '9 levels of 9 YAML aliases (387 million strings expanded), run in a 96 MiB heap',
        // Expanding it would need gigabytes: a 96 MiB heap proves it is refused, not expanded.
        env: { NODE_OPTIONS: '--max-old-space-size=96' },
        expect: () =>
          unreadable(
            'submission.yaml expands YAML aliases (*name) more than 50 times: refused as an alias-expansion ("billion laughs") document',
          ),
      },
      {
        name: 'huge-number',
        what: 'throughput: 1e308',
        expect: () =>
          tableProblem(
            'submission.yaml measurements.cpuScaling.runs[1].throughput: Too big: expected number to be <=1000000000000000, got 1e+308 (line 7)',
          ),
      },
      {
        name: 'overflow-infinity',
        what: 'throughput: 1e400 (Infinity once read)',
        expect: () =>
          tableProblem(
            'submission.yaml measurements.cpuScaling.runs[1].throughput: Invalid input: expected number, received Infinity, got Infinity (line 7)',
          ),
      },
      {
        name: 'nan',
        what: 'throughput: .nan',
        expect: () =>
          tableProblem(
            'submission.yaml measurements.cpuScaling.runs[0].throughput: Invalid input: expected number, received NaN, got NaN (line 6)',
          ),
      },
      {
        name: 'int-2-64',
        what: 'student id 18446744073709551616 (2^64)',
        // No check grades the student part: the wrong id is a note on the checks that read the file.
        expect: () => ({
          hub: HUB_OK,
          table: {
            status: 'fail',
            score: 0,
            includes: ['expected a measurements.cpuScaling table, got none'],
          },
        }),
        extra: (run) => {
          const hub = run.report!.checks.find((c) => c.id === 'docker-hub')!;
          expect((hub.advice ?? []).map((a) => a.message)).to.include(
            'submission.yaml student.id: expected a whole number of at most 15 digits (a longer one loses digits: write the id in quotes), got 18446744073709552000 (line 2); the student: part was not used',
          );
        },
      },
      {
        name: 'negative-zero',
        what: 'cpuPercent [66.5, -0]: valid numbers with no ratio',
        expect: () => ({
          hub: HUB_OK,
          table: {
            status: 'fail',
            score: 3.75,
            includes: [
              'your CPU split for shares 1024:512: expected both containers to get some CPU, got 66.5 % and 0 %',
            ],
            excludes: ['Infinity', 'NaN'],
          },
        }),
        extra: expectFiniteMeasurements,
      },
      {
        name: 'extreme-but-valid',
        what: 'the smallest and largest accepted throughputs: ratios of 1e21 and 1e-21',
        expect: () => ({
          hub: HUB_OK,
          table: {
            status: 'fail',
            score: 0,
            includes: [
              'your throughput ratio --cpus 0.5 ÷ 1: expected 0.50 ± 20 %, got 1e+21',
              'your memory throughput ratio at 512 MiB ÷ 256 MiB: expected ≈ 1',
              'your CPU split for shares 262144:2: expected between',
            ],
            excludes: ['Infinity', 'NaN'],
          },
        }),
        extra: expectFiniteMeasurements,
      },
      {
        name: 'list-for-mapping',
        what: 'measurements: is a list',
        expect: () =>
          tableOnly(
            'submission.yaml measurements: Invalid input: expected object, received array, got ["cpuScaling","memoryScaling"] (line 4)',
          ),
      },
      {
        name: 'string-for-number',
        // "1684 ops/s" is read since values may carry their unit; one that overflows once read is not.
        what: 'throughput: "1e400 ops/s"',
        expect: () =>
          tableProblem(
            'submission.yaml measurements.cpuScaling.runs[1].throughput: expected a number such as 598.3, or with its unit: "598.3 bogo ops/s", got "1e400 ops/s": it is too large to be a number (line 8)',
          ),
      },
      {
        name: 'memory-not-a-size',
        what: 'memory: lots (was a harness error before the fix)',
        expect: () =>
          tableProblem(
            'submission.yaml measurements.memoryScaling.runs[0].memory: expected a size such as 256m or 1g, got "lots" (line 6)',
          ),
      },
      {
        name: 'duplicate-keys',
        what: 'dockerHub: twice',
        expect: () =>
          unreadable(
            'submission.yaml line 4: the key "dockerHub" appears twice in the same mapping (keys must be unique)',
          ),
      },
      {
        name: 'scalar',
        what: 'the whole file is one string',
        expect: () =>
          unreadable(
            'submission.yaml (top level): expected a mapping with student:, dockerHub: and measurements: (see the example in the lab README), got string "just my name and nothing else"',
          ),
      },
      {
        name: 'empty',
        what: 'an empty file (valid YAML: nothing in it)',
        expect: () => ({
          hub: {
            status: 'fail',
            score: 0,
            includes: ['expected dockerHub: user/repo:tag in submission.yaml, got nothing'],
          },
          table: {
            status: 'fail',
            score: 0,
            includes: [
              'expected a measurements.cpuScaling table, got none',
              'expected a measurements.cpuIsolation table, got none',
            ],
          },
        }),
      },
      {
        name: 'deep-nesting',
        what: '30 000 nested flow sequences (60 KB, under the size cap)',
        generated: true,
        expect: () =>
          unreadable(
            'submission.yaml line 1: nested too deeply to read (hundreds of levels of brackets or indentation)',
          ),
      },
      {
        name: 'over-max-size',
        what: "valid YAML over the lab's maxSize (64k)",
        generated: true,
        expect: () => {
          const size = statSync(path.join(gen, 'manifests/over-max-size/submission.yaml')).size;
          expect(size).to.be.greaterThan(65536);
          return unreadable(`submission.yaml is ${size} bytes; at most 65536 accepted`);
        },
      },
      {
        name: 'binary-garbage',
        what: 'every byte value 16 times (NULs, invalid UTF-8)',
        generated: true,
        expect: () =>
          unreadable(
            'submission.yaml cannot be read: it is not UTF-8 text (byte 0x80 at line 2, column 118): save it as UTF-8',
          ),
      },
      {
        name: 'utf16',
        what: 'UTF-16 with a byte-order mark (Notepad "Unicode")',
        generated: true,
        expect: () =>
          unreadable(
            'submission.yaml cannot be read: it is UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8',
          ),
      },
    ];

    // The CLI runs are independent and build nothing: three at a time, then one test per case.
    const done = new Map<string, CheckRun>();
    before(async function () {
      this.timeout(600_000);
      await pool(CASES, 3, async (c) => {
        const dir = path.join(c.generated ? path.join(gen, 'manifests') : MANIFESTS, c.name);
        const run = await checkDir(dir, {
          only: ['measurements', 'docker-hub'],
          env: c.env,
          timeoutMs: 90_000,
        });
        runs.push(run.runId);
        done.set(c.name, run);
      });
    });

    for (const c of CASES) {
      it(`${c.name}: ${c.what}`, function () {
        this.timeout(60_000);
        const run = done.get(c.name)!;
        const want = c.expect();
        expectCleanExit(run, 1);
        expect(run.wallMs, 'wall time').to.be.below(60_000);
        expect(run.report?.status).to.equal('fail');
        expect(run.report?.score).to.equal(want.hub.score + want.table.score);
        expect(run.report?.maxScore).to.equal(7);
        for (const [id, w] of [
          ['docker-hub', want.hub],
          ['measurements', want.table],
        ] as const) {
          const got = checkOf(run, id);
          const where = `${id}: ${got.status} ${got.score} "${got.message}"`;
          expect(got.status, where).to.equal(w.status);
          expect(got.score, where).to.equal(w.score);
          for (const s of w.includes) expect(got.message, where).to.include(s);
          for (const s of w.excludes ?? []) expect(got.message, where).to.not.include(s);
          // Refused at once: nothing was expanded or walked for long.
          expect(got.durationMs, where).to.be.below(5_000);
        }
        c.extra?.(run);
        expect(runObjects(run.runId), 'engine objects of the run').to.deep.equal([]);
        expect(runTempDirs(run.runId), 'temp folders of the run').to.deep.equal([]);
      });
    }
  });

  // -------------------------------------------------------------------------------------------
  describe('archives: one labgrade batch of hostile archives and good students', function () {
    let out = '';
    let batch: { exitCode: number | null; signal: string | null; stderr: string; wallMs: number };
    let batchId = '';
    let entries = new Map<string, JournalEntry>();

    before(async function () {
      this.timeout(300_000);
      out = path.join(gen, 'out');
      batch = await runLabgrade(['batch', path.join(gen, 'class'), '--out', out, '--lab', STATIC_LAB], {
        timeoutMs: 240_000,
      });
      batchId = (JSON.parse(readFileSync(path.join(out, 'batch.json'), 'utf8')) as { batchId: string })
        .batchId;
      runs.push(registerRun(batchId));
      entries = new Map(
        readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as JournalEntry)
          .map((e) => [e.key, e]),
      );
    });

    const report = (key: string): GradeReport =>
      JSON.parse(
        readFileSync(path.join(out, 'students', entries.get(key)!.slug, 'report.json'), 'utf8'),
      ) as GradeReport;

    /** A refused student: 0/17, the intake check fails with the message, every lab check skipped. */
    function expectRefused(key: string, message: string): void {
      const e = entries.get(key);
      expect(e, `journal entry of ${key}; stderr:\n${tail(batch.stderr)}`).to.not.equal(undefined);
      expect(e!.kind).to.equal('refused');
      expect(e!.status).to.equal('fail');
      expect(e!.score).to.equal(0);
      expect(e!.maxScore).to.equal(17);
      expect(e!.message).to.equal(`intake: ${message}`);
      const r = report(key);
      expect(r.checks.map((c) => `${c.id}:${c.status}`)).to.deep.equal([
        'intake:fail',
        'dockerfile:skipped',
        'docker-hub:skipped',
        'measurements:skipped',
      ]);
      expect(r.checks[0]!.message).to.equal(message);
      for (const f of ['report.html', 'report.md', 'junit.xml', 'results.json'])
        expect(existsSync(path.join(out, 'students', e!.slug, f)), f).to.equal(true);
    }

    /** A graded student: exact score, per-check statuses, and the notes the TA sees. */
    function expectGraded(
      key: string,
      score: number,
      checks: Record<string, CheckStatus>,
      o: { message?: string; notes?: string[] } = {},
    ): void {
      const e = entries.get(key);
      expect(e, `journal entry of ${key}; stderr:\n${tail(batch.stderr)}`).to.not.equal(undefined);
      expect(e!.kind).to.equal('graded');
      expect(e!.score, e!.message).to.equal(score);
      expect(e!.maxScore).to.equal(17);
      expect(e!.name).to.equal(key);
      expect(Object.fromEntries(report(key).checks.map((c) => [c.id, c.status]))).to.deep.equal(checks);
      if (o.message) expect(e!.message).to.include(o.message);
      expect(e!.notes ?? []).to.deep.equal(o.notes ?? []);
    }
    const ALL_PASS = { dockerfile: 'pass', 'docker-hub': 'pass', measurements: 'pass' } as const;
    const NO_DOCKERFILE = { dockerfile: 'fail', 'docker-hub': 'pass', measurements: 'pass' } as const;

    it('the batch finishes (exit 0), grades all 18 students, and the good ones get full marks', function () {
      expectCleanExit(batch, 0);
      expect(batch.stderr).to.include('done: 18/18 student(s) finished (18 by this run)');
      expect(batch.wallMs, 'batch wall time').to.be.below(120_000);
      expect(entries.size).to.equal(18);
      expectGraded('good-folder', 17, ALL_PASS);
      expectGraded('good-zip', 17, ALL_PASS);
      expectGraded('non-utf8-names-zip', 17, ALL_PASS);
      expectGraded('non-utf8-names-tar', 17, ALL_PASS);
    });

    it('zip slip: ../../ and ..\\..\\ entries refuse that student, nothing unpacked', function () {
      expectRefused(
        'zip-slip',
        `zip-slip.zip holds an entry named "../../${CANARY}-slip": a ".." segment that climbs out of the folder. Nothing was unpacked from it`,
      );
      expectRefused(
        'zip-slip-backslash',
        `zip-slip-backslash.zip holds an entry named "..\\\\..\\\\${CANARY}-backslash": a ".." segment that climbs out of the folder. Nothing was unpacked from it`,
      );
    });

    it('absolute paths (/tmp/…) in a zip and in a tar refuse that student', function () {
      expectRefused(
        'absolute-zip',
        `absolute-zip.zip holds an entry named "/tmp/${CANARY}-abs-zip": an absolute path. Nothing was unpacked from it`,
      );
      expectRefused(
        'absolute-tar',
        `absolute-tar.tar holds an entry named "/tmp/${CANARY}-abs-tar": an absolute path. Nothing was unpacked from it`,
      );
    });

    it('symbolic links (zip unix mode 0120777, tar symlink and hard link) are skipped, never followed', function () {
      // The Dockerfile was a link to /etc/passwd: the student has no Dockerfile, and the TA is told why.
      expectGraded('symlink-zip', 7, NO_DOCKERFILE, {
        message: 'dockerfile: expected Dockerfile in the submission folder, got no such file',
        notes: [
          'symlink-zip.zip: skipped Dockerfile (a symbolic link; submit the file itself)',
          'symlink-zip.zip: skipped escape (a symbolic link; submit the file itself)',
        ],
      });
      expectGraded('symlink-tar', 7, NO_DOCKERFILE, {
        message: 'dockerfile: expected Dockerfile in the submission folder, got no such file',
        notes: [
          'symlink-tar.tar.gz: skipped Dockerfile (a symbolic link; submit the file itself)',
          'symlink-tar.tar.gz: skipped escape (a symbolic link; submit the file itself)',
          'symlink-tar.tar.gz: skipped hard (a hard link; submit the file itself)',
        ],
      });
      expect(readdirSync(path.join(gen, 'outside')), 'the folder the links pointed at').to.deep.equal([]);
    });

    it('zip bombs: 80 MiB of zeros, and an entry whose header says 100 bytes, are refused', function () {
      expectRefused(
        'zip-bomb',
        'more than 64 MiB once unpacked (at bomb.bin); the submission is refused (an archive bomb, or files that do not belong in it)',
      );
      // Before the fix this one crashed the whole batch (an unhandled stream error).
      expectRefused(
        'zip-bomb-lying',
        "small.txt holds more bytes than the archive's header declares (a forged size: an archive bomb, or a corrupt archive); the submission is refused",
      );
    });

    it('duplicate names: refused in a zip (ambiguous); in a tar the last copy wins, with a note', function () {
      expectRefused(
        'duplicate-zip',
        'duplicate-zip.zip holds two entries named "Dockerfile"; which one is the submission cannot be told. Nothing was unpacked from it: zip the folder again',
      );
      // The tar's first Dockerfile is FROM alpine, the appended one is the good one (tar -r).
      expectGraded('duplicate-tar', 17, ALL_PASS, {
        notes: ['duplicate-tar.tar: Dockerfile appears more than once; the last copy was unpacked'],
      });
    });

    it('entry names that are not UTF-8 are unpacked under a readable name (zip: CP437; tar: U+FFFD)', async function () {
      // Graded 17/17 with no notes (first test). Here, through the intake API, the exact names written.
      const opts = {
        artifactNames: ['Dockerfile', 'cpu-monitor.sh', 'submission.yaml'],
        dockerfile: 'Dockerfile',
      };
      const names: Record<string, string[]> = {};
      for (const f of ['non-utf8-names-zip.zip', 'non-utf8-names-tar.tar']) {
        const scan = await scanInputs([path.join(gen, 'class', f)], opts);
        expect(scan.students).to.have.length(1);
        const m = await materialize(scan.students[0]!, path.join(gen, 'materialized', f), opts);
        expect(m.ok, JSON.stringify(m)).to.equal(true);
        if (m.ok) names[f] = readdirSync(m.dir).sort();
      }
      // Bytes FF FE E9 80 without the UTF-8 flag are CP437, as the zip format says.
      expect(names['non-utf8-names-zip.zip']).to.deep.equal([
        'Dockerfile',
        'notes-\u00a0\u25a0\u0398\u00c7.txt',
        'submission.yaml',
      ]);
      expect(names['non-utf8-names-tar.tar']).to.deep.equal(
        ['Dockerfile', 'notes-\uFFFD\uFFFD\uFFFD.txt', 'submission.yaml'].sort(),
      );
    });

    it('a truncated zip and random bytes named .zip cost only their student', function () {
      expectRefused(
        'truncated',
        'truncated.zip could not be unpacked (End of central directory record signature not found. Either not a zip file, or file is truncated.); upload it again, or as a plain folder',
      );
      expectRefused(
        'garbage',
        'garbage.zip could not be unpacked (End of central directory record signature not found. Either not a zip file, or file is truncated.); upload it again, or as a plain folder',
      );
    });

    it('nothing was written outside the students’ folders, and nothing of the batch remains', function () {
      this.timeout(60_000);
      const found: string[] = [];
      const walk = (dir: string, depth: number) => {
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          return;
        }
        for (const n of names) {
          const p = path.join(dir, n);
          if (p === gen) continue;
          if (n.includes(TOKEN)) found.push(p);
          if (depth > 0) {
            try {
              if (statSync(p).isDirectory()) walk(p, depth - 1);
            } catch {
              /* gone meanwhile */
            }
          }
        }
      };
      walk(os.tmpdir(), 3);
      expect(found, 'files named after the escape token outside the test folder').to.deep.equal([]);
      for (const p of [
        path.join(os.tmpdir(), `${CANARY}-slip`),
        path.join(os.tmpdir(), `${CANARY}-backslash`),
        `/tmp/${CANARY}-abs-zip`,
        `/tmp/${CANARY}-abs-tar`,
      ])
        expect(existsSync(p), p).to.equal(false);
      expect(readdirSync(path.join(gen, 'outside'))).to.deep.equal([]);
      // The batch's own unpack folder is removed; no engine object carries its id.
      expect(existsSync(path.join(os.tmpdir(), `labgrade-${batchId}`)), 'batch work folder').to.equal(false);
      expect(runTempDirs(batchId)).to.deep.equal([]);
      expect(runObjects(batchId)).to.deep.equal([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('markup in names, messages and logs: every report escapes it', function () {
    const NAME = "<script>alert('name')</script> | pipe `tick` </td>\n# heading on a new line";
    const ID = '<img src=x onerror=alert(3)>|id]]>';
    const HUB = '<b onmouseover=alert(4)>x</b>|y/`z`';
    let run: CheckRun;

    before(async function () {
      this.timeout(120_000);
      run = await checkDir(path.join(INPUTS, 'injection'), {
        only: ['dockerfile', 'docker-hub', 'measurements'],
        timeoutMs: 90_000,
      });
      runs.push(run.runId);
    });

    it('grades it like any other submission: exact verdicts, the student’s text kept verbatim in report.json', function () {
      expectCleanExit(run, 1);
      expect(run.report!.score).to.equal(6.67);
      expect(run.report!.submission.student).to.deep.equal({ name: NAME, id: ID });
      const df = checkOf(run, 'dockerfile');
      expect([df.status, df.score]).to.deep.equal(['fail', 6.67]);
      expect(df.message).to.include(
        'expected sysbench installed by apt in the final image, got: not installed (line 3 installs `sysbench|x</td><script>alert(2)</script>`',
      );
      const hub = checkOf(run, 'docker-hub');
      expect([hub.status, hub.score]).to.deep.equal(['fail', 0]);
      expect(hub.message).to.equal(
        `expected a Docker Hub reference user/repo[:tag], got "${HUB}": not of the form user/repo[:tag]`,
      );
      expect(Object.keys(run.files).sort()).to.deep.equal([
        'junit.xml',
        'report.html',
        'report.json',
        'report.md',
        'results.json',
      ]);
    });

    it('report.html: no live tag or event handler from student text; the text is shown escaped', function () {
      const html = run.files['report.html']!;
      expect(html).to.not.match(/<script/i);
      expect(html).to.not.match(/<img/i);
      expect(html).to.not.match(/<b\s/i);
      expect(html).to.not.match(/<[a-z][^>]*\son[a-z]+\s*=/i);
      expect(html).to.include('&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;');
      expect(html).to.include('&lt;img src=x onerror=alert(3)&gt;|id]]&gt;');
      expect(html).to.include('x&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(html).to.include('&lt;b onmouseover=alert(4)&gt;x&lt;/b&gt;');
    });

    it('report.md: every table row keeps its 5 cell borders; no raw HTML but <br> and <sub>', function () {
      const md = run.files['report.md']!;
      const rows = md.split('\n').filter((l) => l.startsWith('|'));
      expect(rows.length).to.equal(5); // header, rule, 3 checks
      for (const r of rows) expect(r.match(/(?<!\\)\|/g)?.length, r).to.equal(5);
      const tags = [...md.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]!.toLowerCase());
      expect([...new Set(tags)].sort()).to.deep.equal(['br', 'sub']);
      // The student's line break did not start a heading of its own: only the report's headings.
      expect(md.split('\n').filter((l) => l.startsWith('#'))).to.deep.equal([
        '# Tutorial 7 — Introduction to Docker',
        '## Advice (no points)',
      ]);
    });

    it('junit.xml parses as XML and gives back the student’s exact text', function () {
      const parsed = JSON.parse(
        execFileSync(
          'python3',
          [
            '-c',
            `import json,sys,xml.dom.minidom as m
d=m.parseString(sys.stdin.buffer.read())
props={p.getAttribute('name'):p.getAttribute('value') for p in d.getElementsByTagName('property')}
fails=[f.getAttribute('message') for f in d.getElementsByTagName('failure')]
print(json.dumps({'student':props.get('student'),'failures':fails}))`,
          ],
          { input: run.files['junit.xml']!, encoding: 'utf8' },
        ),
      ) as { student: string; failures: string[] };
      expect(parsed.student).to.equal(`${NAME} (${ID})`);
      expect(parsed.failures).to.have.length(3);
      expect(parsed.failures[1]).to.include(`got "${HUB}"`);
    });

    it('results.json (Gradescope, rendered as Markdown) is valid JSON with no raw markup', function () {
      const gs = JSON.parse(run.files['results.json']!) as {
        score: number;
        tests: Array<{ output: string }>;
      };
      expect(gs.score).to.equal(6.67);
      expect(gs.tests).to.have.length(3);
      const all = JSON.stringify(gs);
      expect(all).to.not.match(/<script|<img|<b\s|<\/td>/i);
      expect(gs.tests[1]!.output).to.include('&lt;b onmouseover=alert(4)&gt;x&lt;/b&gt;\\|y/\\`z\\`');
    });
  });

  describe('markup in a batch: a folder named as markup and a formula for a name', function () {
    const FOLDER = '<img src=x onerror=alert(1)>|`x`&amp;';
    const FORMULA_NAME = '=HYPERLINK("http://evil.example","grade")|</td><script>alert(1)</script>';
    const FORMULA_ID = '@SUM(1+1)|`id`';

    it('summary.html escapes the folder name and the manifest name everywhere', function () {
      const html = readFileSync(path.join(gen, 'out', 'summary.html'), 'utf8');
      expect(html).to.not.match(/<script/i);
      expect(html).to.not.match(/<img/i);
      expect(html).to.not.match(/<[a-z][^>]*\son[a-z]+\s*=/i);
      expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;|`x`&amp;amp;');
      expect(html).to.include(
        '=HYPERLINK(&quot;http://evil.example&quot;,&quot;grade&quot;)|&lt;/td&gt;&lt;script&gt;',
      );
      // Its report folder has a safe name, and the link to it is the only href for that student.
      expect(html).to.include('href="students/img-src-x-onerror-alert-1-x-amp-');
    });

    it('gradebook.csv neutralises the formula and keeps the rows intact', function () {
      const csv = readFileSync(path.join(gen, 'out', 'gradebook.csv'), 'utf8');
      const lines = csv.split('\r\n').filter(Boolean);
      expect(lines).to.have.length(19); // header + 18 students
      expect(lines).to.include(`${FOLDER},${FOLDER},,,,10`);
      expect(lines).to.include(`"'${FORMULA_NAME.replace(/"/g, '""')}",'${FORMULA_ID},,,,17`);
      expect(lines.filter((l) => /^[=+\-@]/.test(l))).to.deep.equal([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('malformed lab files: labgrade check --lab <bad lab.yaml>', function () {
    interface LabCase {
      file: string;
      what: string;
      /** The exact text after "labgrade: " (the first lines of stderr). */
      message: (file: string) => string;
    }
    const v = (f: string, rest: string) => `lab file is not valid:\n${f}${rest}`;
    const LAB_CASES: LabCase[] = [
      {
        file: 'tab-indent.yaml',
        what: 'a tab indents a line',
        message: (f) =>
          `${f}:20 after checks[1].kind: a tab is used for indentation; YAML indents with spaces only`,
      },
      {
        file: 'unclosed-quote.yaml',
        what: 'a quote that never closes (the parser notices at the end of the file)',
        message: (f) =>
          `${f}:25 checks[2].title: a quoted value that starts on this line is never closed (missing closing quote)`,
      },
      {
        file: 'unknown-kind.yaml',
        what: 'kind: docker-hubb',
        message: (f) =>
          v(
            f,
            ':19 checks[1].kind: unknown check kind "docker-hubb" (known: docker-hub, dockerfile, environment, image-build, isolation-cpu, isolation-memory, limits-smoke, measurement-table, memory-swap, monitor, scaling-cpu, scaling-memory, tools)',
          ),
      },
      {
        file: 'wrong-param-type.yaml',
        what: 'packages: stress-ng (a string for a list)',
        message: (f) =>
          v(
            f,
            ':17 checks[0].params.packages: Invalid input: expected array, received string, got "stress-ng"',
          ),
      },
      {
        file: 'wrong-points-type.yaml',
        what: 'points: two',
        message: (f) =>
          v(f, ':21 checks[1].points: Invalid input: expected number, received string, got "two"'),
      },
      {
        file: 'unknown-param.yaml',
        what: 'a parameter the kind does not have',
        message: (f) => v(f, ':17 checks[0].params: Unrecognized key: "bogus"'),
      },
      {
        file: 'duplicate-check-id.yaml',
        what: 'two checks with one id',
        message: (f) => v(f, ':23 checks[2].id: duplicate check id "docker-hub"'),
      },
      {
        file: 'duplicate-key.yaml',
        what: 'points: twice in one check',
        message: (f) =>
          `${f}:22 checks[1].points: the key "points" appears twice in the same mapping (keys must be unique)`,
      },
      {
        file: 'needs-missing.yaml',
        what: 'needs: [docker-hubz]',
        message: (f) => v(f, ':27 checks[2].needs[0]: needs unknown check "docker-hubz"'),
      },
      {
        file: 'needs-later.yaml',
        what: 'the first check needs the last (was silently ignored before the fix)',
        message: (f) =>
          v(
            f,
            ':17 checks[0].needs[0]: needs "measurements", which comes later (checks run in the listed order): list "measurements" before "dockerfile"',
          ),
      },
      {
        file: 'alias-bomb.yaml',
        what: 'billion laughs in a lab file',
        message: (f) =>
          `${f}: expands YAML aliases (*name) more than 100 times: refused as an alias-expansion ("billion laughs") document`,
      },
      {
        file: 'empty.yaml',
        what: 'only a comment',
        message: (f) =>
          `${f}: the file holds no YAML (it is empty or only comments); expected a lab: id, title, artifacts and checks`,
      },
      {
        file: 'latin1.yaml',
        what: 'a title saved in Latin-1 (generated)',
        message: (f) =>
          `${f}: cannot read the lab file: it is not UTF-8 text (byte 0xdc at line 2, column 9): save it as UTF-8`,
      },
    ];

    const fileOf = (c: LabCase) =>
      c.file === 'latin1.yaml' ? path.join(gen, 'latin1.yaml') : path.join(LABS, c.file);
    const done = new Map<string, CheckRun>();
    before(async function () {
      this.timeout(600_000);
      const base = readFileSync(STATIC_LAB, 'latin1').replace(/^#.*\n/gm, '');
      // "Übung" in ISO-8859-1: byte 0xDC where UTF-8 needs two bytes.
      writeFileSync(
        path.join(gen, 'latin1.yaml'),
        Buffer.from(base.replace('title: "Tutorial 7, static checks"', 'title: "Übung 7"'), 'latin1'),
      );
      await pool(LAB_CASES, 3, async (c) => {
        const run = await checkDir(path.join(INPUTS, 'injection'), { lab: fileOf(c), timeoutMs: 45_000 });
        runs.push(run.runId);
        done.set(c.file, run);
      });
    });

    for (const c of LAB_CASES) {
      it(`${c.file}: ${c.what} → exit 2, file:line and field, no stack trace`, function () {
        const file = fileOf(c);
        const run = done.get(c.file)!;
        expectCleanExit(run, 2);
        expect(run.stderr.trimEnd()).to.equal(`labgrade: ${c.message(file)}`);
        expect(run.report, 'no report for a lab that does not load').to.equal(undefined);
        expect(run.wallMs).to.be.below(30_000);
      });
    }
  });
});
