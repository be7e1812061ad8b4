/**
 * "Run again on a quiet host" is advice only where other work was seen. A check left unjudged on a
 * host whose measured windows saw no other work (evidence.hostLoad) says that instead: a re-run on
 * a quieter host would change nothing, the value sits where the measurement cannot settle it.
 */
import type { HostLoadEvidence } from '../reports/model.ts';

const ADVICE = /run again on a quiet host/g;

export function quietHostWording(
  message: string,
  hostLoad: HostLoadEvidence | undefined,
  maxOtherCores: number,
): string {
  if (!hostLoad || !ADVICE.test(message)) return message;
  ADVICE.lastIndex = 0;
  const quiet = hostLoad.disturbed === 0 && hostLoad.otherCoresMax < maxOtherCores;
  if (!quiet) return message;
  return message.replace(
    ADVICE,
    `the host was quiet while it was measured (other work at most ${hostLoad.otherCoresMax} cores over ${hostLoad.windows} window(s)), so a quieter host would not settle it — see the measurements`,
  );
}
