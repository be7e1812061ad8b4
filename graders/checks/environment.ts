/**
 * The host: engine reachable and its version, cgroup version and driver, EC2 instance type.
 * Reported always; it costs points only when the lab says `enforce: true`. Off the target host the
 * check is skipped (not applicable) with a message saying what differs — measurements still run.
 */
import { z } from 'zod';
import { defineCheck } from './check.ts';

const Params = z
  .object({
    /** Fail (instead of skip) when the host is not the lab's target. */
    enforce: z.boolean().default(false),
  })
  .strict();

export default defineCheck({
  kind: 'environment',
  description: "reports the engine, cgroup version/driver and EC2 instance type against the lab's target",
  params: Params,
  needsImage: false,
  async run(ctx, p) {
    const h = ctx.host;
    const t = ctx.lab.spec.target;
    const diffs: string[] = [];
    if (t.cgroupVersion && h.cgroupVersion !== t.cgroupVersion) {
      diffs.push(
        `cgroup v${h.cgroupVersion ?? '?'} host: ${ctx.lab.spec.title} expects cgroup v${t.cgroupVersion}; results are still measured, on v${h.cgroupVersion ?? '?'}`,
      );
    }
    if (t.instanceType && h.instanceType !== t.instanceType) {
      diffs.push(
        h.instanceType
          ? `instance type ${h.instanceType}, expected ${t.instanceType}`
          : `not on EC2 (expected a ${t.instanceType}); ratios are checked, absolute numbers differ`,
      );
    }
    if (t.cpus && h.cpus !== t.cpus) diffs.push(`${h.cpus} CPUs, the target has ${t.cpus}`);
    const facts = `engine ${h.engineVersion ?? '?'} (API ${h.engineApiVersion ?? '?'}), cgroup v${h.cgroupVersion ?? '?'} with the ${h.cgroupDriver ?? '?'} driver, ${h.cgroupAccess === 'engine' ? 'read through the engine' : 'read directly'}, ${h.cpus} CPUs, ${(h.memoryBytes / 1024 ** 3).toFixed(1)} GiB${h.instanceType ? `, ${h.instanceType}` : ''}`;
    if (diffs.length === 0) return { status: 'pass', message: `target host: ${facts}` };
    return {
      status: p.enforce ? 'fail' : 'skipped',
      notApplicable: !p.enforce,
      message: `${p.enforce ? '' : 'not the target host (not graded): '}${diffs.join('; ')}. Host: ${facts}`,
      evidence: { details: { ...h } },
    };
  },
});
