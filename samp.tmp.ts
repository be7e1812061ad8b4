import { openSession } from './cli/session.ts';
import { Sampler } from './harness/sampler.ts';
const s = await openSession({ skipImds: true });
const id = (await s.engine.start({ image: 'labgrade/tutorial7:b09028f65c66', entrypoint: ['stress-ng'], cmd: ['--cpu', '1', '--timeout', '120s', '--quiet'], cpus: 0.25 } as any)).id;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function measure(name: string, fn: () => { stop: () => Promise<unknown> }) {
  await sleep(500);
  const c0 = cpu(); const t0 = performance.now();
  const h = fn();
  await sleep(10_000);
  await h.stop();
  console.log(name, (((cpu() - c0) / (performance.now() - t0)) * 100).toFixed(3), '%');
}
await measure('idle', () => ({ stop: async () => undefined }));
await measure('timer 10Hz', () => { let on = true; const t = () => { if (on) setTimeout(t, 100); }; t(); return { stop: async () => { on = false; } }; });
await measure('sampler sample', () => { const x = new Sampler({ read: (p) => s.cgroups.snapshot(id, p), intervalMs: 100 }).start(); return { stop: () => x.stop(false) }; });
await measure('snapshot only sample (timer)', () => { let on = true; const t = async () => { if (!on) return; await s.cgroups.snapshot(id, 'sample'); setTimeout(t, 100); }; t(); return { stop: async () => { on = false; } }; });
await measure('sampler sample again', () => { const x = new Sampler({ read: (p) => s.cgroups.snapshot(id, p), intervalMs: 100 }).start(); return { stop: () => x.stop(false) }; });
await s.engine.remove(id);
await s.close();
process.exit(0);
