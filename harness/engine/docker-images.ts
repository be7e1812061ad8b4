/**
 * Image operations of DockerEngine: whether an image exists, pulling and removing one, and the
 * clean-up of the image a rebuild replaced. They take the dockerode client structurally (ImageSource), so
 * only docker-engine.ts imports dockerode.
 */
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';
import { engineError, isConnectionError, statusCode } from './engine-error.ts';
import { RUN_LABEL } from './labels.ts';

const log = createDebug('labgrade:engine');

/** The calls on images these operations need from the dockerode client. */
export interface ImageSource {
  getImage(ref: string): {
    inspect(): Promise<{ Id: string; RepoTags?: string[]; Config?: { Labels?: Record<string, string> } }>;
    remove(options: { force?: boolean; noprune?: boolean }): Promise<unknown>;
  };
}

export async function imageExists(docker: ImageSource, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    throw engineError(`inspect image ${ref}`, err);
  }
}

/** The calls a pull needs from the dockerode client. */
export interface PullSource {
  pull(ref: string, options: { abortSignal: AbortSignal }): Promise<NodeJS.ReadableStream>;
  modem: {
    followProgress(
      stream: NodeJS.ReadableStream,
      onFinished: (err: Error | null) => void,
      onProgress: (ev: { error?: string; errorDetail?: { message?: string } }) => void,
    ): void;
  };
}

/** Pull ref: ok, or the registry's words; an engine that went away throws. */
export async function pullImage(
  docker: PullSource,
  ref: string,
  timeoutMs: number,
): Promise<{ ok: boolean; error?: string }> {
  try {
    const stream = await docker.pull(ref, { abortSignal: AbortSignal.timeout(timeoutMs) });
    let error: string | undefined;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        // API 1.49 deprecated the stream's "error" field in favour of errorDetail (which engines
        // have sent alongside it since API 1.8); either one means the pull failed.
        (ev) => {
          if (ev.error || ev.errorDetail) error = ev.errorDetail?.message ?? ev.error ?? 'pull failed';
        },
      );
    });
    return error ? { ok: false, error } : { ok: true };
  } catch (err) {
    if (isConnectionError(err) && !/registry|dial|lookup/i.test(errorMessage(err))) {
      throw engineError(`pull ${ref}`, err);
    }
    return { ok: false, error: errorMessage(err) };
  }
}

export async function removeImage(docker: ImageSource, ref: string): Promise<void> {
  try {
    await docker.getImage(ref).remove({ force: true });
  } catch (err) {
    if (statusCode(err) === 404) return;
    throw engineError(`remove image ${ref}`, err);
  }
}

/**
 * The image a tag points at now, when labgrade built it (it carries the run label). Every build
 * labels its image with the run id, so rebuilding a tag makes a new image and leaves the previous
 * one untagged; build() removes that one afterwards, so repeated checks do not pile up images.
 * Its layers are shared with the new image (the layer cache), so nothing of the cache is lost.
 */
export async function labgradeImageIdOf(docker: ImageSource, ref: string): Promise<string | undefined> {
  try {
    const i = await docker.getImage(ref).inspect();
    return i.Config?.Labels?.[RUN_LABEL] ? i.Id : undefined;
  } catch {
    return undefined;
  }
}

/** Remove an image only if no tag and no container use it any more (never forced). */
export async function removeUntagged(docker: ImageSource, id: string): Promise<void> {
  try {
    const i = await docker.getImage(id).inspect();
    if ((i.RepoTags ?? []).length > 0) return;
    await docker.getImage(id).remove({ noprune: false });
    log('removed the image this build replaced: %s', id.slice(0, 19));
  } catch (err) {
    log('kept the replaced image %s: %s', id.slice(0, 19), errorMessage(err));
  }
}
