/**
 * report.html and summary.html opened in a real browser (Debian's Chromium via playwright-core),
 * the way a student and a TA look at them: every plot drawn with a size and its labels inside it,
 * no console or page error, no injected script running (no dialog, no request, no window.__pwned,
 * no CSP violation), no element that could run code, the links from the class summary to each
 * student's report followed by the browser to a page that exists and shows that student, and the
 * page readable at 1280 px (no sideways scrolling, tables drawn and not wider than their card).
 *
 * Three batches, each graded once for the whole file:
 *  - real: `labgrade batch --quick` of Tutorial 7 on the real engine — the reference solution (a
 *    real grade: image built, every check measured, plots) and a student whose build fails;
 *  - hostile: Tutorial 7's static checks (test/fixtures/hostile/inputs/static-lab.yaml) over the
 *    markup-injection fixtures (name, id, Docker Hub field, Dockerfile lines, a folder named as
 *    markup), a student whose payloads set window.__pwned and fetch, and her copier (the same
 *    Dockerfile and monitor: a similarity lead between two markup names), a broken student, and a
 *    truncated zip; then `--regrade --students` names the first by her markup name;
 *  - week: the same static checks over a TA's week (test/fixtures/week/: a copied pair), then two
 *    resubmissions and `--resume`, then `--regrade --students` — the similarity section and the
 *    before/after of regraded students, as a TA reads them.
 * A screenshot of every page is kept in test-artifacts/browser/ (gitignored; CI can upload it).
 */
import { expect } from 'chai';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestByKey, type JournalEntry } from '../../graders/journal.ts';
import type { GradeReport } from '../../reports/model.ts';
import { formatScore } from '../../reports/format.ts';
import {
  HOSTILE,
  REPO_ROOT,
  registerRun,
  removeRunObjects,
  runLabgrade,
  tail,
} from '../hostile/helpers/cli.ts';
import { launch, layout, visit, type Browser, type Layout, type Trouble } from './helpers/browser.ts';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts/browser');
const INJECTION = path.join(HOSTILE, 'inputs/injection');
const STATIC_LAB = path.join(HOSTILE, 'inputs/static-lab.yaml');
const BROKEN = path.join(REPO_ROOT, 'test/fixtures/class/folders/broken-carol');
const MARKUP_FOLDER = '<img src=x onerror=alert(1)>|`x`&amp;';
const PWN_NAME = `<img src=x onerror="window.__pwned='name'"><script>window.__pwned='name-script'</script>`;
const COPIER_NAME = `<svg onload="window.__pwned='copier'"></svg>Copy & <i>paste</i>`;
const WEEK = path.join(REPO_ROOT, 'test/fixtures/week');

interface Batch {
  name: string;
  out: string;
  batchId: string;
  exitCode: number | null;
  stderr: string;
  seconds: number;
  entries: JournalEntry[];
}

/** The real class: the reference solution and a student whose image does not build. */
function realClass(root: string): string {
  const dir = path.join(root, 'real-class');
  cpSync(path.join(REPO_ROOT, 'labs/tutorial7/reference'), path.join(dir, 'reference'), { recursive: true });
  cpSync(BROKEN, path.join(dir, 'broken-carol'), { recursive: true });
  return dir;
}

/**
 * Tutorial 7 with its host checks graded per student: the reference is graded once, as by
 * `labgrade check` (the lab's `batch.policy: calibrate` would also measure the host with the
 * reference image at the start and the end: minutes more, and no page of its own to look at).
 */
function perStudentLab(root: string): string {
  const text = readFileSync(path.join(REPO_ROOT, 'labs/tutorial7/lab.yaml'), 'utf8');
  const changed = text.replace(/^(\s*)policy: calibrate\b/m, '$1policy: per-student');
  const file = path.join(root, 'tutorial7-per-student.yaml');
  writeFileSync(file, changed);
  return file;
}

/** pwn's monitor script: markup in every line, and lines of its own (her copier's are the same). */
const PWN_MONITOR = [
  '#!/bin/bash',
  `# <script>window.__pwned='monitor-comment'</script>`,
  `target="$1"  # </td><img src=x onerror="window.__pwned='monitor'">`,
  `echo "<iframe src=javascript:parent.__pwned='monitor-echo'></iframe> $target"`,
  `docker stats --no-stream --format '<b>{{.CPUPerc}}</b>' "$target"`,
  `printf '%s\\n' "</code><svg onload=\\"window.__pwned='printf'\\">" >&2`,
  '',
].join('\n');

/**
 * The hostile class. The payloads of `pwn` do what an attacker wants if any of them ever runs:
 * set window.__pwned, open a dialog, or fetch a URL (the page probes record all three). `pwn-copy`
 * handed in her Dockerfile and monitor (renamed variable) under another markup name.
 */
function hostileClass(root: string): string {
  const dir = path.join(root, 'hostile-class');
  cpSync(INJECTION, path.join(dir, 'injection'), { recursive: true });
  // No submission.yaml: the folder's name is the student's name on every page.
  mkdirSync(path.join(dir, MARKUP_FOLDER));
  cpSync(path.join(INJECTION, 'Dockerfile'), path.join(dir, MARKUP_FOLDER, 'Dockerfile'));
  cpSync(BROKEN, path.join(dir, 'broken-carol'), { recursive: true });
  const pwn = path.join(dir, 'pwn');
  mkdirSync(pwn);
  writeFileSync(
    path.join(pwn, 'submission.yaml'),
    [
      'student:',
      `  name: "<img src=x onerror=\\"window.__pwned='name'\\"><script>window.__pwned='name-script'</script>"`,
      `  id: "\\"><svg onload=\\"window.__pwned='id'\\"></svg><a href=\\"javascript:window.__pwned='link'\\">x</a>"`,
      `dockerHub: "<iframe src=\\"javascript:parent.__pwned='hub'\\"></iframe><img src=http://127.0.0.1:9/hub.png>"`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(pwn, 'Dockerfile'),
    [
      'FROM ubuntu:24.04',
      `RUN apt-get update && apt-get install -y stress-ng '<script>fetch("http://127.0.0.1:9/df");window.__pwned="df"</script>' && rm -rf /var/lib/apt/lists/*`,
      `LABEL x="</pre><img src=x onerror=window.__pwned='label'>"`,
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(pwn, 'cpu-monitor.sh'), PWN_MONITOR);
  const copy = path.join(dir, 'pwn-copy');
  mkdirSync(copy);
  cpSync(path.join(pwn, 'Dockerfile'), path.join(copy, 'Dockerfile'));
  writeFileSync(path.join(copy, 'cpu-monitor.sh'), PWN_MONITOR.replace(/target/g, 'victim'));
  writeFileSync(
    path.join(copy, 'submission.yaml'),
    ['student:', `  name: "${COPIER_NAME.replace(/"/g, '\\"')}"`, `  id: "copy-<b>9</b>"`, ''].join('\n'),
  );
  // A download that stopped halfway: a zip's local header and then nothing that makes sense.
  writeFileSync(
    path.join(dir, 'truncated.zip'),
    Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x00\x00'), Buffer.alloc(64, 7)]),
  );
  return dir;
}

/**
 * A lab file of Tutorial 7's static checks beside Tutorial 7's reference (the boilerplate a class
 * comparison leaves out).
 */
function staticLabWithReference(root: string): string {
  const dir = path.join(root, 'static-lab');
  mkdirSync(dir, { recursive: true });
  cpSync(STATIC_LAB, path.join(dir, 'lab.yaml'));
  cpSync(path.join(REPO_ROOT, 'labs/tutorial7/reference'), path.join(dir, 'reference'), { recursive: true });
  return path.join(dir, 'lab.yaml');
}

/**
 * The TA's week with static checks: the class graded, Cleo and Dev resubmit and --resume grades
 * them again, then --regrade --students names Ana. Returns the last run.
 */
async function weekBatches(root: string, lab: string): Promise<Batch> {
  const cls = path.join(root, 'week-class');
  cpSync(path.join(WEEK, 'class'), cls, { recursive: true });
  const out = path.join(root, 'week-out');
  const common = [
    '--lab',
    lab,
    '--assignment-name',
    'Tutorial 7',
    '--assignment-id',
    '48732',
    '--points-possible',
    '20',
  ];
  const first = await runBatch('week', cls, out, common);
  if (first.exitCode !== 0) return first;
  const edit = (file: string, from: string, to: string) =>
    writeFileSync(path.join(cls, file), readFileSync(path.join(cls, file), 'utf8').replace(from, to));
  edit('cleo/Dockerfile', 'CMD ["bash"]', 'CMD ["stress-ng", "--version"]');
  edit('dev/submission.yaml', 'throughput: 2801', 'throughput: 2950');
  const resumed = await runBatch('week', cls, out, [...common, '--resume']);
  if (resumed.exitCode !== 0) return resumed;
  return runBatch('week', cls, out, [...common, '--regrade', '--students', 'Ana Author']);
}

async function runBatch(name: string, classDir: string, out: string, args: string[]): Promise<Batch> {
  const p = await runLabgrade(['batch', classDir, '--out', out, ...args], { timeoutMs: 540_000 });
  return readBatch(name, out, { exitCode: p.exitCode, stderr: p.stderr, seconds: p.wallMs / 1000 });
}

/** What a finished batch left in `out`: its id (registered for cleanup) and its journal. */
function readBatch(name: string, out: string, run: Pick<Batch, 'exitCode' | 'stderr' | 'seconds'>): Batch {
  let batchId = '';
  try {
    batchId = (JSON.parse(readFileSync(path.join(out, 'batch.json'), 'utf8')) as { batchId: string }).batchId;
    registerRun(batchId);
  } catch {
    /* no batch.json: the assertions below say so */
  }
  let entries: JournalEntry[] = [];
  try {
    entries = readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JournalEntry);
    entries = [...latestByKey(entries).values()];
  } catch {
    /* no journal */
  }
  return { name, out, batchId, ...run, entries };
}

/** Students' report.html files as written to disk (what the summary must link to). */
function reportsOnDisk(b: Batch): string[] {
  const dir = path.join(b.out, 'students');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((slug) => path.join(dir, slug, 'report.html'))
    .filter((f) => existsSync(f))
    .sort();
}

interface Seen {
  file: string;
  shot: string;
  layout: Layout;
  trouble: Trouble;
  /** The page's visible text (innerText). */
  text: string;
}

/** Every problem of a page a person would notice (or an attacker would want), one line each. */
function problemsOf(s: Seen): string[] {
  const p: string[] = [];
  const { layout: l, trouble: t } = s;
  for (const e of t.consoleErrors) p.push(`console error: ${e}`);
  for (const e of t.pageErrors) p.push(`page error: ${e}`);
  for (const d of t.dialogs) p.push(`dialog opened: ${d}`);
  for (const r of t.foreignRequests) p.push(`request outside the report folder: ${r}`);
  for (const v of t.cspViolations) p.push(`CSP violation (markup got through escaping): ${v}`);
  if (t.pwned !== undefined) p.push(`an injected script ran: window.__pwned = ${JSON.stringify(t.pwned)}`);
  for (const e of l.activeElements) p.push(`element that runs or loads things: ${e}`);
  for (const h of l.handlers) p.push(`event handler or javascript: URL: ${h}`);
  if (l.pageOverflowPx > 0) p.push(`page scrolls sideways at 1280 px: ${l.pageOverflowPx} px too wide`);
  l.svgs.forEach((g, i) => {
    if (!(g.width > 0 && g.height > 0))
      p.push(`plot ${i + 1} "${g.label}" has no size: ${g.width}×${g.height}`);
    if (g.shapes === 0) p.push(`plot ${i + 1} "${g.label}" draws nothing`);
    if (g.textsOutside.length)
      p.push(`plot ${i + 1} "${g.label}": labels outside the plot: ${g.textsOutside.join(' | ')}`);
  });
  l.tables.forEach((t, i) => {
    if (!(t.width > 0 && t.height > 0))
      p.push(`table ${i + 1} ("${t.caption}") is not drawn: ${t.width}×${t.height}`);
    if (t.overflowPx > 0)
      p.push(`table ${i + 1} ("${t.caption}") is ${t.overflowPx} px wider than its card at 1280 px`);
  });
  for (const c of l.squeezedCells) p.push(`long text squeezed into a narrow column: ${c}`);
  for (const w of l.brokenWords) p.push(`word split over two lines: ${w}`);
  for (const f of l.brokenFragments) p.push(`link to a missing anchor: ${f}`);
  return p;
}

describe('reports in a real browser (Chromium)', function () {
  let browser: Browser;
  let root = '';
  const batches: Record<'real' | 'hostile' | 'week', Batch | undefined> = {
    real: undefined,
    hostile: undefined,
    week: undefined,
  };
  const seen = new Map<string, Seen>();

  /** Open a page once (probes, layout, full-page screenshot); later calls reuse what was seen. */
  async function look(file: string, b: Batch): Promise<Seen> {
    const cached = seen.get(file);
    if (cached) return cached;
    const v = await visit(browser, file, b.out);
    const rel = path
      .relative(b.out, file)
      .replace(/\/report\.html$/, '')
      .replace(/^students\//, '');
    const shot = path.join(ARTIFACTS, `${b.name}-${rel.replace(/[^a-zA-Z0-9._-]+/g, '_')}.png`);
    await v.page.screenshot({ path: shot, fullPage: true });
    const s: Seen = {
      file,
      shot,
      layout: await layout(v.page),
      text: await v.page.evaluate(() => document.body.innerText),
      trouble: await v.trouble(),
    };
    await v.page.close();
    seen.set(file, s);
    return s;
  }

  function batch(name: 'real' | 'hostile' | 'week'): Batch {
    const b = batches[name];
    if (!b) throw new Error(`the ${name} batch did not run (see the before hook)`);
    return b;
  }

  before(async function () {
    this.timeout(600_000);
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    root = mkdtempSync(path.join(os.tmpdir(), 'labgrade-browser-'));
    const t0 = Date.now();
    browser = await launch();
    const launchS = (Date.now() - t0) / 1000;
    // Both at once: the hostile one is static (no image, no measurement) and done in seconds.
    const [real, hostile] = await Promise.all([
      // --retries 0: a check a busy host left without a verdict is not graded again (minutes);
      // the student then shows in summary.html's "Needs review" box, which is looked at too.
      runBatch('real', realClass(root), path.join(root, 'real-out'), [
        '--quick',
        '--retries',
        '0',
        '--lab',
        perStudentLab(root),
      ]),
      runBatch('hostile', hostileClass(root), path.join(root, 'hostile-out'), ['--lab', STATIC_LAB]),
    ]);
    batches.real = real;
    // The hostile student named by her markup name: the Regraded section shows it as text.
    batches.hostile =
      hostile.exitCode === 0
        ? await runBatch('hostile', path.join(root, 'hostile-class'), path.join(root, 'hostile-out'), [
            '--lab',
            STATIC_LAB,
            '--regrade',
            '--students',
            PWN_NAME,
          ])
        : hostile;
    const t1 = Date.now();
    batches.week = await weekBatches(root, staticLabWithReference(root));
    console.log(
      `      Chromium ${browser.version} started in ${launchS.toFixed(1)} s; real batch (reference + broken, --quick) ${real.seconds.toFixed(0)} s; hostile batch ${hostile.seconds.toFixed(0)} s; week batches (grade, --resume, --students) ${((Date.now() - t1) / 1000).toFixed(0)} s; load ${os.loadavg()[0]!.toFixed(1)}`,
    );
  });

  after(async function () {
    this.timeout(120_000);
    await browser?.close();
    for (const b of Object.values(batches)) if (b?.batchId) removeRunObjects(b.batchId);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('the probes work: a page that runs script, fetches and draws an empty plot is caught', async function () {
    const dir = path.join(root, 'probe');
    mkdirSync(dir);
    const bad = path.join(dir, 'bad.html');
    writeFileSync(
      bad,
      `<!DOCTYPE html><html><body><h1>bad</h1><svg width="0" height="0"></svg>
<div style="width:3000px">wide</div><table style="width:400px"><tr><td style="width:390px">x</td><td>${'word '.repeat(40)}</td></tr></table>
<table><tr><td style="width:30px;overflow-wrap:anywhere">reference</td></tr></table>
<img src="x" onerror="window.__pwned='img'"><script>alert('hi'); fetch('http://127.0.0.1:9/x').catch(()=>{}); console.error('boom')</script>
</body></html>`,
    );
    const s = await look(bad, { name: 'probe', out: dir } as Batch);
    const problems = problemsOf(s).join('\n');
    for (const want of [
      'an injected script ran: window.__pwned = "img"',
      'dialog opened: alert: hi',
      'request outside the report folder: GET http://127.0.0.1:9/x',
      'console error: boom',
      'element that runs or loads things: <script>',
      'event handler or javascript: URL: <img onerror=',
      'page scrolls sideways at 1280 px',
      'plot 1 "" has no size: 0×0',
      'long text squeezed into a narrow column',
      'word split over two lines: "reference"',
    ])
      expect(problems, 'the probe page must be caught').to.include(want);
  });

  for (const name of ['real', 'hostile', 'week'] as const) {
    describe(`${name} batch`, function () {
      it('finished: every student journaled; report.html written for each graded one', function () {
        const b = batch(name);
        // 4: a student has checks without a verdict (a busy host during the real grade).
        const exits = name === 'real' ? [0, 4] : [0];
        expect(exits, `labgrade batch exit code ${b.exitCode}; stderr:\n${tail(b.stderr)}`).to.include(
          b.exitCode,
        );
        const expected = { real: 2, hostile: 6, week: 6 }[name];
        expect(
          b.entries.map((e) => e.key),
          tail(b.stderr),
        ).to.have.length(expected);
        const graded = b.entries.filter((e) => e.kind !== 'harness-error');
        // Refused students get a report too (0 points, why it was refused); harness errors do not.
        expect(reportsOnDisk(b)).to.have.length(graded.length);
        if (name === 'real') {
          const ref = b.entries.find((e) => e.name === 'Reference Solution');
          expect(ref?.kind, 'the reference is graded').to.equal('graded');
        } else {
          // The hostile class's truncated zip is refused; nobody in the week's class is.
          const refused = b.entries.filter((e) => e.kind === 'refused').map((e) => e.origin);
          expect(refused).to.have.length(name === 'hostile' ? 1 : 0);
        }
      });

      it('summary.html: loads clean, histogram drawn, tables readable at 1280 px, screenshot kept', async function () {
        const b = batch(name);
        const s = await look(path.join(b.out, 'summary.html'), b);
        expect(problemsOf(s), `summary.html (screenshot ${s.shot})`).to.deep.equal([]);
        expect(s.layout.svgs, 'the score distribution plot').to.have.length(1);
        expect(s.layout.tables.length, 'checks, failing, slowest, all students').to.be.at.least(3);
        expect(existsSync(s.shot)).to.equal(true);
      });

      it('summary.html: every link, followed in the browser, opens that student’s report', async function () {
        this.timeout(120_000);
        const b = batch(name);
        const summary = path.join(b.out, 'summary.html');
        const s = await look(summary, b);
        const tab = await visit(browser, summary, b.out);
        const page = tab.page;
        const targets = new Set<string>();
        try {
          for (let i = 0; i < s.layout.links.length; i++) {
            const link = s.layout.links[i]!;
            const file = fileURLToPath(link.resolved);
            const slug = path.basename(path.dirname(file));
            const entry = b.entries.find((e) => e.slug === slug);
            expect(entry, `journal entry for the folder of ${link.href}`).to.not.equal(undefined);
            // The link (or, for a "report" link, its row) names the student the report is about.
            expect([entry!.name, entry!.id], `${link.href}: student named by the link`).to.include(
              link.text === 'report' ? link.row : link.text,
            );
            // Each distinct target is followed once, by a click, as a TA would.
            if (targets.has(file)) continue;
            await page.locator('a[href]:not([href^="#"])').nth(i).click();
            await page.waitForLoadState('load');
            expect(fileURLToPath(page.url()), `link "${link.text}" → ${link.href}`).to.equal(file);
            expect(existsSync(file), `${link.href} exists`).to.equal(true);
            const shown = await page.evaluate(() => ({
              h1: document.querySelector('h1')?.textContent ?? '',
              who: document.querySelector('.who strong')?.textContent ?? '',
              score: document.querySelector('.score-value')?.textContent ?? '',
            }));
            const report = JSON.parse(
              readFileSync(path.join(path.dirname(file), 'report.json'), 'utf8'),
            ) as GradeReport;
            expect(shown.h1, `${link.href}: the lab's title`).to.equal(report.lab.title);
            expect(shown.score, `${link.href}: score shown`).to.equal(
              `${formatScore(report.score)} / ${formatScore(report.maxScore)}`,
            );
            if (report.submission.student?.name) expect(shown.who).to.equal(report.submission.student.name);
            targets.add(file);
            await page.goBack({ waitUntil: 'load' });
            expect(fileURLToPath(page.url())).to.equal(summary);
          }
          // Nothing went wrong on the way either (errors, dialogs or requests of the pages visited).
          const t = await tab.trouble();
          expect([
            ...t.consoleErrors,
            ...t.pageErrors,
            ...t.dialogs,
            ...t.foreignRequests,
            ...t.cspViolations,
          ]).to.deep.equal([]);
        } finally {
          await page.close();
        }
        // Every report written is reachable from the summary, and nothing else is linked.
        expect([...targets].sort()).to.deep.equal(reportsOnDisk(b));
      });

      it('every student’s report.html: loads clean, plots drawn with labels inside, readable at 1280 px', async function () {
        this.timeout(120_000);
        const b = batch(name);
        const files = reportsOnDisk(b);
        expect(files.length).to.be.at.least(1);
        for (const f of files) {
          const s = await look(f, b);
          expect(problemsOf(s), `${path.relative(b.out, f)} (screenshot ${s.shot})`).to.deep.equal([]);
          // One SVG per plot in the evidence: a plot that was not drawn is missed, not excused.
          const report = JSON.parse(
            readFileSync(path.join(path.dirname(f), 'report.json'), 'utf8'),
          ) as GradeReport;
          const plots = report.checks.flatMap((c) => c.evidence.plots ?? []);
          expect(s.layout.svgs.map((g) => g.label)).to.deep.equal(plots.map((p) => p.title));
          expect(s.layout.tables.length, 'the checks table').to.be.at.least(1);
        }
      });
    });
  }

  it('real: the reference report has its plots (the measured checks drew them)', async function () {
    const b = batch('real');
    const ref = b.entries.find((e) => e.name === 'Reference Solution')!;
    const s = await look(path.join(b.out, 'students', ref.slug, 'report.html'), b);
    expect(s.layout.svgs.length, 'plots in the reference report').to.be.at.least(3);
    for (const g of s.layout.svgs) expect(g.width, g.label).to.be.at.least(300);
  });

  /** What the browser shows in a section of a page: its text and how many rows its table has. */
  async function section(
    file: string,
    b: Batch,
    id: string,
  ): Promise<{ text: string; rows: number; width: number }> {
    const v = await visit(browser, file, b.out);
    try {
      return await v.page.evaluate((sel) => {
        const el = document.getElementById(sel);
        return {
          text: el?.innerText ?? '',
          rows: el?.querySelectorAll('tbody tr').length ?? -1,
          width: el?.getBoundingClientRect().width ?? 0,
        };
      }, id);
    } finally {
      await v.page.close();
    }
  }

  it('week: summary.html shows the copied pair and the before/after of the regraded, readable at 1280 px', async function () {
    const b = batch('week');
    const summary = path.join(b.out, 'summary.html');
    const s = await look(summary, b);
    expect(problemsOf(s), `summary.html (screenshot ${s.shot})`).to.deep.equal([]);
    const sim = await section(summary, b, 'similarity');
    expect(sim.rows, 'one pair').to.equal(1);
    expect(sim.text).to.include('Similarity: leads to look at (1)');
    expect(sim.text).to.match(/Eli Original \(2005\)\s*↔ Fay Follower \(2006\)/);
    for (const what of ['Dockerfile', 'cpu-monitor.sh', 'measurement table'])
      expect(sim.text).to.include(what);
    expect(sim.text).to.include('A lead, never a verdict');
    const re = await section(summary, b, 'regraded');
    expect(re.rows, 'Cleo and Dev resubmitted, Ana named').to.equal(3);
    expect(re.text).to.match(/Ana Author\s+2001\s+named \(--students\)/);
    expect(re.text).to.match(/Cleo Coder\s+2003\s+resubmitted/);
    expect(re.text).to.match(/Dev Devlin\s+2004\s+resubmitted/);
    for (const w of [sim.width, re.width]) expect(w).to.be.within(1, 1280);
  });

  it('hostile: the similarity and regraded sections show markup names as text, and nothing ran', async function () {
    const b = batch('hostile');
    const summary = path.join(b.out, 'summary.html');
    const s = await look(summary, b);
    expect(problemsOf(s), `summary.html (screenshot ${s.shot})`).to.deep.equal([]);
    const sim = await section(summary, b, 'similarity');
    expect(sim.text).to.include(PWN_NAME);
    expect(sim.text).to.include(COPIER_NAME);
    expect(sim.text).to.include('cpu-monitor.sh');
    const re = await section(summary, b, 'regraded');
    expect(re.rows).to.equal(1);
    expect(re.text).to.include(PWN_NAME);
    expect(s.trouble.pwned).to.equal(undefined);
  });

  it('hostile: the payloads are shown as text on the pages, and none of them ran', async function () {
    const b = batch('hostile');
    const summary = await look(path.join(b.out, 'summary.html'), b);
    expect(summary.text).to.include(MARKUP_FOLDER);
    expect(summary.text).to.include(`<img src=x onerror="window.__pwned='name'">`);
    const injection = b.entries.find((e) => e.key === 'injection')!;
    const pwn = b.entries.find((e) => e.key === 'pwn')!;
    const inj = await look(path.join(b.out, 'students', injection.slug, 'report.html'), b);
    expect(inj.text).to.include("<script>alert('name')</script>");
    expect(inj.text).to.include('<img src=x onerror=alert(3)>|id]]>');
    expect(inj.text).to.include('<b onmouseover=alert(4)>x</b>');
    expect(inj.text).to.include('x</td><script>alert(2)</script>');
    const p = await look(path.join(b.out, 'students', pwn.slug, 'report.html'), b);
    expect(p.text).to.include(`<script>window.__pwned='name-script'</script>`);
    expect(p.text).to.include('<iframe src="javascript:parent.__pwned=\'hub\'"></iframe>');
    for (const s of [summary, inj, p]) {
      expect(s.trouble.pwned, s.file).to.equal(undefined);
      expect(s.trouble.dialogs, s.file).to.deep.equal([]);
      expect(s.trouble.foreignRequests, s.file).to.deep.equal([]);
    }
  });
});
