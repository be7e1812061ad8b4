import { sampleWindow } from '../../../harness/sampler.ts';
import type { TestHarness } from './harness.ts';

export async function cpuWindowOf(h: TestHarness, id: string, seconds: number) {
  const { summary } = await sampleWindow(() => h.cgroups.snapshot(id), seconds, 100);
  return { cores: summary.overallCores, throttled: summary.throttledShare ?? 0 };
}

/** The weight ratio the runtime actually wrote (cpu.weight on v2, cpu.shares on v1). */
export async function weightRatio(h: TestHarness, a: string, b: string): Promise<number> {
  const [sa, sb] = await Promise.all([h.cgroups.snapshot(a), h.cgroups.snapshot(b)]);
  const wa = sa.cpu.weight ?? sa.cpu.shares;
  const wb = sb.cpu.weight ?? sb.cpu.shares;
  return wa! / wb!;
}
