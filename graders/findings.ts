/**
 * What a measured check found, gathered as it runs, and the outcome it adds up to — so a check
 * file holds its experiment and its judgement, not this bookkeeping.
 *
 *   const f = new Findings();
 *   f.judge(decision, problem)   one judged claim. Its decision counts; when it is not 'pass' the
 *                                problem ("expected X, got Y" with units; for 'inconclusive' also
 *                                why it could not be told) goes into the message.
 *   f.expect(ok, problem)        a yes/no claim: judge(ok ? 'pass' : 'fail', problem).
 *   f.row(m)                     a measurement row for the report. Its status must come from a
 *                                judgement, or be 'info' (see notJudged()) — never a bare 'pass'.
 *   f.files(prefix, files)       cgroup files as read, each key under a prefix ("--cpus 0.5: ").
 *   f.plot(p)
 *   f.status                     combine(decisions): any fail → fail, else any inconclusive → inconclusive.
 *   f.outcome(passMessage, { fraction?, log? })  → CheckOutcome; the message is passMessage on pass,
 *                                else the problems joined with "; ". Throws when nothing was judged.
 *
 *   windowOptions(ctx)           { minRepeats, maxRepeats, signal } for repeatUntilSettled.
 *   unsettled(n)                 " — did not settle within n windows (the spread of the windows …)"
 *   prefixKeys(files, prefix)
 */
import { LabgradeError } from '../harness/errors.ts';
import type { Measurement, Plot } from '../reports/model.ts';
import type { CheckContext, CheckOutcome } from './checks/check.ts';
import { combine, expectedGot, stats, type Decision, type RepeatOptions } from './verdict.ts';

export class Findings {
  readonly decisions: Decision[] = [];
  readonly problems: string[] = [];
  readonly measurements: Measurement[] = [];
  readonly evidenceFiles: Record<string, string> = {};
  readonly plots: Plot[] = [];

  judge(decision: Decision, problem: string): Decision {
    this.decisions.push(decision);
    if (decision !== 'pass') this.problems.push(problem);
    return decision;
  }

  expect(ok: boolean, problem: string): boolean {
    this.judge(ok ? 'pass' : 'fail', problem);
    return ok;
  }

  row(m: Measurement): Measurement {
    this.measurements.push(m);
    return m;
  }

  files(prefix: string, files: Record<string, string>): void {
    Object.assign(this.evidenceFiles, prefixKeys(files, prefix));
  }

  plot(p: Plot): void {
    this.plots.push(p);
  }

  get status(): Decision {
    return combine(this.decisions);
  }

  /** Share of the claims that passed (for checks that give partial credit). */
  get fraction(): number {
    return this.decisions.length
      ? this.decisions.filter((d) => d === 'pass').length / this.decisions.length
      : 0;
  }

  outcome(passMessage: string, o: { fraction?: boolean; log?: string } = {}): CheckOutcome {
    // A pass must rest on at least one judgement; none at all is the check's defect, not a pass.
    if (!this.decisions.length) throw new LabgradeError('the check judged nothing: no status can be given');
    const status = this.status;
    const out: CheckOutcome = {
      status,
      message: status === 'pass' ? passMessage : this.problems.join('; '),
      evidence: {
        ...(Object.keys(this.evidenceFiles).length ? { files: this.evidenceFiles } : {}),
        ...(this.measurements.length ? { measurements: this.measurements } : {}),
        ...(this.plots.length ? { plots: this.plots } : {}),
        ...(o.log !== undefined ? { log: o.log } : {}),
      },
    };
    if (o.fraction) out.fraction = this.fraction;
    return out;
  }
}

/** A row no code judges (context for a person, e.g. a solo baseline): status 'info'. */
export function notJudged(m: Omit<Measurement, 'status'>): Measurement {
  return { ...m, status: 'info' };
}

/** The repeat settings in force for this check (lab defaults, --quick applied), and its signal. */
export function windowOptions(ctx: CheckContext): RepeatOptions {
  return { minRepeats: ctx.window.minRepeats, maxRepeats: ctx.window.maxRepeats, signal: ctx.signal };
}

/** Why an inconclusive repeated measurement is so, for its problem sentence. */
export function unsettled(windows: number): string {
  return ` — not settled after ${windows} window(s): the interval of the mean still straddles the band (other work on the host, or a value right at the edge); run again on a quiet host`;
}

/**
 * The problem line of a usage verdict: "what: expected L ± t %, got M cores", and, when it is not a
 * pass, why the windows prove nothing (a busy host: short of the quota while hardly throttled) or
 * that they did not settle.
 */
export function usageProblem(
  what: string,
  limit: number,
  tol: number,
  u: { decision: Decision; hostBusy: boolean; kept: number[] },
  windows: number,
): string {
  const why = u.hostBusy
    ? ' while hardly throttled — the host was busy, so this proves nothing; run again on a quiet host'
    : u.decision === 'inconclusive'
      ? unsettled(windows)
      : '';
  return `${what}: ${expectedGot(limit, tol, stats(u.kept).mean, 'cores')}${why}`;
}

export function prefixKeys(files: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}${k}`, v]));
}
