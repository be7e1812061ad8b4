/**
 * report.json: the GradeReport itself, as a stable contract (reports/README.md). Keys come out in
 * the order the model declares them, whatever order the grader built the object in; keys the
 * model does not know yet follow in alphabetical order, so a new field is never silently dropped.
 * Records (evidence.files, evidence.details) are sorted by key. Logs and file contents are capped
 * so one runaway build log cannot make the file unbounded.
 */
import { capText } from './escape.ts';
import type { CheckReport, Evidence, GradeReport, Measurement, Plot, Series } from './model.ts';

export interface JsonOptions {
  /** Cap for each evidence.log, in characters (UTF-16 code units). Default 64 Ki. */
  maxLogChars?: number;
  /** Cap for each evidence.files value, in characters. Default 16 Ki. */
  maxFileChars?: number;
}

export const DEFAULT_MAX_LOG_CHARS = 64 * 1024;
export const DEFAULT_MAX_FILE_CHARS = 16 * 1024;

const REPORT_KEYS: Array<keyof GradeReport> = [
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
];
const TOOL_KEYS = ['name', 'version'];
const LAB_KEYS = ['id', 'title', 'version'];
const SUBMISSION_KEYS = ['path', 'student', 'image'];
const STUDENT_KEYS = ['name', 'id'];
const HOST_KEYS = [
  'hostname',
  'os',
  'kernel',
  'cpuModel',
  'cpus',
  'memoryBytes',
  'virtualization',
  'engineVersion',
  'engineApiVersion',
  'engineHost',
  'cgroupVersion',
  'cgroupDriver',
  'cgroupAccess',
  'instanceType',
  'instanceId',
  'runcVersion',
];
const OPTIONS_KEYS = ['quick', 'online', 'only', 'skip'];
const CHECK_KEYS: Array<keyof CheckReport> = [
  'id',
  'title',
  'kind',
  'status',
  'score',
  'maxScore',
  'message',
  'evidence',
  'durationMs',
  'advice',
];
const ADVICE_KEYS = ['id', 'line', 'message'];
const EVIDENCE_KEYS: Array<keyof Evidence> = ['files', 'measurements', 'hostLoad', 'plots', 'log', 'details'];
const MEASUREMENT_KEYS: Array<keyof Measurement> = [
  'name',
  'value',
  'expected',
  'tolerance',
  'unit',
  'status',
  'spread',
  'samples',
];
const PLOT_KEYS: Array<keyof Plot> = ['id', 'title', 'kind', 'xLabel', 'yLabel', 'series'];
const SERIES_KEYS: Array<keyof Series> = ['name', 'unit', 'points', 'limit'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The report as report.json: stable key order, 2-space indent, trailing newline, capped logs. */
export function renderJson(report: GradeReport, options: JsonOptions = {}): string {
  return `${JSON.stringify(normaliseReport(report, options), null, 2)}\n`;
}

/** The report as a plain JSON value with the contract's key order and caps applied. */
export function normaliseReport(report: GradeReport, options: JsonOptions = {}): Json {
  const maxLog = options.maxLogChars ?? DEFAULT_MAX_LOG_CHARS;
  const maxFile = options.maxFileChars ?? DEFAULT_MAX_FILE_CHARS;
  return ordered(report, REPORT_KEYS, {
    tool: (v) => ordered(v, TOOL_KEYS),
    lab: (v) => ordered(v, LAB_KEYS),
    submission: (v) => ordered(v, SUBMISSION_KEYS, { student: (s) => ordered(s, STUDENT_KEYS) }),
    host: (v) => ordered(v, HOST_KEYS),
    options: (v) => ordered(v, OPTIONS_KEYS),
    checks: (v) => list(v, (check) => normaliseCheck(check, maxLog, maxFile)),
  });
}

function normaliseCheck(check: unknown, maxLog: number, maxFile: number): Json {
  return ordered(check, CHECK_KEYS, {
    advice: (v) => list(v, (a) => ordered(a, ADVICE_KEYS)),
    evidence: (v) =>
      ordered(v, EVIDENCE_KEYS, {
        files: (files) => sortedRecord(files, (content) => capIfString(content, maxFile)),
        measurements: (ms) => list(ms, (m) => ordered(m, MEASUREMENT_KEYS)),
        plots: (ps) =>
          list(ps, (p) =>
            ordered(p, PLOT_KEYS, { series: (ss) => list(ss, (s) => ordered(s, SERIES_KEYS)) }),
          ),
        log: (log) => capIfString(log, maxLog),
        details: (d) => toJson(d),
      }),
  });
}

type Transform = (value: unknown) => Json;

/** Known keys first in the given order, then unknown keys alphabetically; undefined values dropped. */
function ordered(value: unknown, keys: readonly string[], transforms: Record<string, Transform> = {}): Json {
  if (!isPlainObject(value)) return toJson(value);
  const out: Record<string, Json> = {};
  const known = new Set(keys);
  const unknown = Object.keys(value)
    .filter((k) => !known.has(k))
    .sort();
  for (const key of [...keys, ...unknown]) {
    const v = value[key];
    if (v === undefined || !Object.prototype.hasOwnProperty.call(value, key)) continue;
    const transform = transforms[key];
    out[key] = transform ? transform(v) : toJson(v);
  }
  return out;
}

function list(value: unknown, each: Transform): Json {
  return Array.isArray(value) ? value.map((item) => each(item)) : toJson(value);
}

function sortedRecord(value: unknown, each: Transform): Json {
  if (!isPlainObject(value)) return toJson(value);
  const out: Record<string, Json> = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = each(value[key]);
  }
  return out;
}

function capIfString(value: unknown, max: number): Json {
  return typeof value === 'string' ? capText(value, max) : toJson(value);
}

/** Any value as JSON with object keys sorted; what JSON.stringify would drop becomes null or goes. */
function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((item) => toJson(item));
  if (isPlainObject(value)) {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return toJson((value as { toJSON: () => unknown }).toJSON());
    }
    return sortedRecord(value, toJson);
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
