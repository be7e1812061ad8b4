/**
 * How AWS Batch applies a retry strategy's evaluateOnExit rules to a finished attempt, as its API
 * reference and user guide ("Automated job retries") state them, so that the recipe's mapping of
 * labgrade's exit codes can be tested here without AWS:
 *  - rules are tried in order, the first whose every given condition matches decides;
 *  - a pattern matches the whole value, or only its start when it ends with `*`;
 *  - onExitCode holds only digits (and the final `*`); onStatusReason and onReason hold letters,
 *    digits, periods, colons and white space (and the final `*`); at most 512 characters; at most
 *    5 rules;
 *  - when no rule matches, the job is retried (while attempts remain).
 */
import type { EvaluateOnExit, RetryAction } from '@aws-sdk/client-batch';

/** What Batch knows of a finished attempt: the container's exit code (none when the host was lost), its status reason, the reason. */
export interface AttemptEnd {
  exitCode?: number;
  statusReason?: string;
  reason?: string;
}

export function globMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

/** The action for an attempt: the first matching rule's, RETRY when none matches. */
export function actionFor(rules: readonly EvaluateOnExit[], end: AttemptEnd): RetryAction {
  for (const r of rules) {
    const conditions: Array<[string | undefined, string | undefined]> = [
      [r.onExitCode, end.exitCode === undefined ? undefined : String(end.exitCode)],
      [r.onStatusReason, end.statusReason],
      [r.onReason, end.reason],
    ];
    const given = conditions.filter(([p]) => p !== undefined);
    if (given.length && given.every(([p, v]) => globMatches(p!, v)))
      return r.action!.toUpperCase() as RetryAction;
  }
  return 'RETRY';
}

/** Why a rule would be refused by the API (empty when it is valid). */
export function ruleProblems(rules: readonly EvaluateOnExit[]): string[] {
  const problems: string[] = [];
  if (rules.length > 5) problems.push(`${rules.length} rules: at most 5`);
  rules.forEach((r, i) => {
    const check = (field: string, v: string | undefined, ok: RegExp) => {
      if (v === undefined) return;
      if (v.length > 512) problems.push(`rule ${i + 1}: ${field} is over 512 characters`);
      if (!ok.test(v)) problems.push(`rule ${i + 1}: ${field} "${v}" has characters the API refuses`);
    };
    check('onExitCode', r.onExitCode, /^\d*\*?$/);
    check('onStatusReason', r.onStatusReason, /^[A-Za-z0-9.:\s]*\*?$/);
    check('onReason', r.onReason, /^[A-Za-z0-9.:\s]*\*?$/);
    if (r.onExitCode === undefined && r.onStatusReason === undefined && r.onReason === undefined)
      problems.push(`rule ${i + 1}: no condition`);
    if (!r.action) problems.push(`rule ${i + 1}: no action`);
  });
  return problems;
}
