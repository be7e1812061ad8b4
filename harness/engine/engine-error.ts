/**
 * How engine-call failures become LabgradeErrors: the engine gone (a connection error) is an
 * environment problem with a hint on what to do; anything else names the call that failed.
 */
import { LabgradeError, errorMessage } from '../errors.ts';

export function engineHost(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (
    code === 'ENOENT' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EACCES' ||
    code === 'EPIPE' ||
    code === 'EHOSTUNREACH' ||
    code === 'ETIMEDOUT'
  );
}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** Wrap a harness-side failure: the engine gone is an environment problem (exit 3). */
export function engineError(what: string, err: unknown): LabgradeError {
  if (err instanceof LabgradeError) return err;
  const code = (err as { code?: string })?.code;
  if (isConnectionError(err)) {
    const host = engineHost();
    const hint =
      code === 'EACCES'
        ? `permission denied on ${host}: add yourself to the docker group (sudo usermod -aG docker $USER, then log in again) or run with sudo`
        : host.startsWith('unix://')
          ? 'start it with `sudo systemctl start docker` (or run `bash scripts/provision-engine.sh` as root)'
          : `check that the engine at ${host} is up, or unset DOCKER_HOST to use the local one`;
    return new LabgradeError(`Docker engine not reachable at ${host} (${code}) during ${what}`, {
      cause: err,
      engineUnavailable: true,
      hint,
    });
  }
  return new LabgradeError(`${what} failed: ${errorMessage(err)}`, { cause: err });
}

/** Why an engine counts as silent: one wording for the watch's loss and the calls it refuses. */
export function silentWhy(silentMs: number): string {
  return `stopped answering (no reply to a ping for ${Math.round(silentMs / 1000)} s)`;
}

/** A call refused while the engine is silent (it took requests and answered none for silentMs). */
export function engineSilentError(what: string, silentMs: number): LabgradeError {
  const host = engineHost();
  return new LabgradeError(`the Docker engine at ${host} ${silentWhy(silentMs)} during ${what}`, {
    engineUnavailable: true,
    hint: `check that the engine at ${host} is up and answers \`docker info\``,
  });
}
