/**
 * The confined runner a student's monitor script runs in (see monitor.ts): its image (the lab's
 * base image with what an Ubuntu 24.04 server has), its `docker` stand-in, and one run of the
 * script against the container under test. The script never runs on the grader's host.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerEngine, ProcessResult } from '../../harness/engine/engine.ts';
import { LabgradeError } from '../../harness/errors.ts';
import type { CheckContext } from './check.ts';
import { retireAfterRun, watchProcesses, type ProcessWatch } from '../experiments.ts';
import { ownInterpreter } from '../preflight/script.ts';

/** nobody:nogroup: may read the cgroup files, may write none of them, may signal no root process. */
export const RUNNER_USER = '65534:65534';
/** Processes the runner may hold (the script and what it starts). */
export const RUNNER_PIDS_LIMIT = 64;
/** Characters of each output stream of the script kept (head and tail). */
export const RUNNER_OUTPUT_CHARS = 16 * 1024;

/** `docker` stand-in for the runner: enough of inspect/ps for monitor scripts. */
export const DOCKER_SHIM = `#!/bin/sh
# labgrade's docker stand-in inside the monitor runner: answers lookups for the container under test.
case " $* " in
  *State.Pid*) echo "$LG_PID" ;;
  *" inspect "*|*" ps "*|*.Id*) echo "$LG_ID" ;;
  *) echo "labgrade: only 'docker inspect' and 'docker ps' are available to the monitor script here" >&2; exit 1 ;;
esac
`;

/**
 * What an Ubuntu 24.04 server instance (the lab's EC2 image, built from Ubuntu's server cloud
 * image) has that a monitor script may call, beyond the base image's coreutils, grep, sed,
 * findutils, mawk (its `awk`), dash and bash: python3 and perl (the image's own tools are written
 * in them), bc, procps (ps, pgrep, top), psmisc (killall), time, bsdextrautils (column) and
 * util-linux. Not gawk: the instance's `awk` is mawk. labs/tutorial7/README.md lists them.
 */
export const RUNNER_PACKAGES = ['bc', 'bsdextrautils', 'perl', 'procps', 'psmisc', 'python3', 'time'];

const RUNNER_DOCKERFILE = (base: string) => `FROM ${base}
RUN apt-get update && apt-get install -y --no-install-recommends ${RUNNER_PACKAGES.join(' ')} && rm -rf /var/lib/apt/lists/*
COPY docker /usr/local/bin/docker
`;

/**
 * The runner's entrypoint (`sh -c START <name> <args…>`): write the script as /tmp/<name>, then run
 * it as the tutorial does, `bash <name>`, or, for a script whose #! line names python3, perl or awk
 * (LG_OWN=1: ownInterpreter), as `./<name>` would, by that interpreter.
 */
const RUNNER_START =
  'printf %s "$LG_SCRIPT" | base64 -d > "/tmp/$0" && chmod 755 "/tmp/$0" && ' +
  'if [ "$LG_OWN" = 1 ]; then exec "/tmp/$0" "$@"; else exec bash "/tmp/$0" "$@"; fi';

/** A file name safe for the runner's /tmp: the script's own, or `monitor` when it has other characters. */
export function runnerFileName(name: string): string {
  const base = name.split('/').pop() ?? '';
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(base) ? base : 'monitor';
}

/** Build (once; cached by content) the image the student's script runs in. */
export async function monitorRunnerImage(
  engine: ContainerEngine,
  baseImage: string,
  workDir: string,
): Promise<string> {
  const dockerfile = RUNNER_DOCKERFILE(baseImage);
  const tag = `labgrade/monitor-runner:${createHash('sha256')
    .update(dockerfile + DOCKER_SHIM)
    .digest('hex')
    .slice(0, 12)}`;
  if (await engine.imageExists(tag)) return tag;
  const dir = path.join(workDir, 'monitor-runner');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
  await writeFile(path.join(dir, 'docker'), DOCKER_SHIM, { mode: 0o755 });
  const r = await engine.build({
    contextDir: dir,
    tag,
    timeoutMs: 600_000,
    labels: { 'labgrade.purpose': 'monitor-runner' },
    networkMode: 'default',
  });
  if (!r.ok)
    throw new LabgradeError(
      `could not build the monitor runner image from ${baseImage}: ${r.error}\n${r.tail}`,
    );
  return tag;
}

/** How the runner starts the script: its name as the student runs it, its arguments, its time. */
export interface ScriptCall {
  /** The file name (argv[0] of the script, and its name in messages). */
  name: string;
  args: string[];
  timeoutMs: number;
}

/** One monitor script as the kind hands it to a metric: the runner, the script, how it is called. */
export interface MonitorScript {
  runner: string;
  script: Buffer;
  /** Its name in messages. */
  name: string;
  /** How it is called against a container (its id, or a placeholder for the log). */
  call: (container: string) => ScriptCall;
}

/** The evidence log of a script's run: the command line, its stdout and its stderr. */
export function scriptLog(s: MonitorScript, run: Pick<ProcessResult, 'stdout' | 'stderr'>): string {
  return `$ ${s.name} ${s.call('<container>').args.join(' ')}\n${run.stdout}${run.stderr ? `\n[stderr]\n${run.stderr}` : ''}`;
}

/**
 * Run the student's script in the confined runner against the container `targetId`, its pid
 * namespace shared (the container's init is pid 1 there); `onStarted` when the runner is up.
 */
export async function runScript(
  ctx: CheckContext,
  runner: string,
  bytes: Buffer,
  targetId: string,
  call: ScriptCall,
  onStarted: () => void,
): Promise<{ run: ProcessResult; watch?: ProcessWatch }> {
  // The script travels in the container's environment, not as a bind mount: with a remote engine
  // (DOCKER_HOST=tcp://…, ssh://…) a bind names a path on the engine's host, where it is not.
  const body = bytes.toString('base64');
  let watch: ReturnType<typeof watchProcesses> | undefined;
  const run = await ctx.engine
    .run(
      {
        image: runner,
        entrypoint: ['sh', '-c', RUNNER_START, runnerFileName(call.name)],
        cmd: call.args,
        // In the target's pid namespace its init is pid 1 (what the stand-in answers for State.Pid).
        env: { LG_ID: targetId, LG_PID: '1', LG_SCRIPT: body, LG_OWN: ownInterpreter(bytes) ? '1' : '0' },
        binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro'],
        cgroupns: 'host',
        pidMode: `container:${targetId}`,
        // Not root: the bind is read-only at its top only (v1's controller mounts under it stay
        // writable on engines before 25), and root could rewrite any container's limits there.
        user: RUNNER_USER,
        networkMode: 'none',
        capDrop: ['ALL'],
        readonlyRootfs: true,
        // exec: a python3, perl or awk script is started by its own #! line from here.
        tmpfs: { '/tmp': 'rw,exec,size=16m' },
        pidsLimit: RUNNER_PIDS_LIMIT,
        memoryBytes: 128 * 1024 * 1024,
        cpus: 0.25,
        labels: { 'labgrade.purpose': 'monitor-script' },
      },
      {
        timeoutMs: call.timeoutMs,
        maxLogChars: RUNNER_OUTPUT_CHARS,
        lineTimes: true,
        signal: ctx.signal,
        ...retireAfterRun(ctx),
        onStarted: (h) => {
          watch = watchProcesses(ctx, h.id);
          onStarted();
        },
      },
    )
    .catch(async (err: unknown) => {
      // The engine went away (or a harness fault): the watcher must not outlive the run.
      await watch?.stop();
      throw err;
    });
  return { run, watch: await watch?.stop() };
}
