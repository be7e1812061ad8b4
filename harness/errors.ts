/**
 * The one error base class. Harness faults throw a LabgradeError; student faults never do —
 * they are data in a result (architecture, house style 4 and 6).
 */
export interface LabgradeErrorOptions {
  cause?: unknown;
  /** The call ran out of time. */
  timedOut?: boolean;
  /** The engine is unreachable or gone (exit code 3 territory). */
  engineUnavailable?: boolean;
  /** The call was cancelled (an AbortSignal: Ctrl-C, or an outer time limit — see harness/abort.ts). */
  aborted?: boolean;
  /** Process exit code the CLI should use when this error reaches it. */
  exitCode?: number;
  /** One sentence telling the user what to do next. */
  hint?: string;
}

export class LabgradeError extends Error {
  override name = 'LabgradeError';
  readonly timedOut: boolean;
  readonly engineUnavailable: boolean;
  readonly aborted: boolean;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: LabgradeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.timedOut = options.timedOut ?? false;
    this.engineUnavailable = options.engineUnavailable ?? false;
    this.aborted = options.aborted ?? false;
    this.exitCode = options.exitCode ?? (options.engineUnavailable ? 3 : 1);
    this.hint = options.hint;
  }
}

/** A user-facing input problem: bad flags, a lab file that does not validate (exit 2). */
export class UsageError extends LabgradeError {
  override name = 'UsageError';
  constructor(message: string, options: LabgradeErrorOptions = {}) {
    super(message, { exitCode: 2, ...options });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
