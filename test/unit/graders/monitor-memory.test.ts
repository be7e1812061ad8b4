// The memory monitor's pure parts and its wait for the load: a stress-ng that could not run is the
// student's failure; one still running that has not filled its memory is the host's (unjudged).
import { expect } from 'chai';
import type { CheckContext } from '../../../graders/checks/check.ts';
import { holdArgs, holdMemory, judgeMemoryMonitor } from '../../../graders/checks/monitor-memory.ts';
import { unreadLines } from '../../../graders/checks/monitor-judge.ts';
import { readMonitorSamples } from '../../../graders/preflight/monitor-output.ts';

const MiB = 1024 ** 2;
const P = { interval: 1, samples: 5, hold: 200 * MiB, toleranceMiB: 16 };
const RUN = { stdout: '', stderr: '', exitCode: 0, timedOut: false };

/** An engine whose stress-ng exec answers `exec`, and a cgroup that shows `bytes` in use. */
function fakeCtx(exec: () => Promise<unknown>, bytes: number) {
  return {
    engine: { exec },
    cgroups: { snapshot: async () => ({ memory: { currentBytes: bytes } }) },
    signal: new AbortController().signal,
  } as unknown as Pick<CheckContext, 'engine' | 'cgroups' | 'signal'>;
}

describe('memory monitor', () => {
  it('holds with stress-ng --vm, kept', () => {
    expect(holdArgs(200 * MiB, 30)).to.deep.equal([
      'stress-ng',
      '--vm',
      '1',
      '--vm-bytes',
      '204800k',
      '--timeout',
      '30s',
      '--metrics-brief',
      '--vm-keep',
    ]);
  });

  it('the load up: judged; stress-ng that could not run: the student fails; still filling: unjudged', async () => {
    const never = () => new Promise(() => undefined);
    expect(await holdMemory(fakeCtx(never, 190 * MiB), { id: 'c' }, P, 300)).to.deep.equal({ up: true });
    const notFound = async () => ({
      exitCode: 127,
      stdout: '',
      stderr: 'exec: stress-ng: not found',
      timedOut: false,
      durationMs: 5,
    });
    const failed = await holdMemory(fakeCtx(notFound, 0), { id: 'c' }, P, 300);
    expect(failed)
      .to.have.property('failed')
      .that.match(/stress-ng: not found/);
    const slow = await holdMemory(fakeCtx(never, 40 * MiB), { id: 'c' }, P, 300);
    expect(slow)
      .to.have.property('unjudged')
      .that.match(/held 40 MiB of the 200 MiB asked after 0.3 s: too slow a host/);
  });

  it('judges means within max(toleranceMiB, 10 %) and names a unit off by 1024', () => {
    const judge = (values: number[]) =>
      judgeMemoryMonitor({ name: 'mem.sh', p: P, values, harnessMiB: 210, run: RUN });
    expect(judge([205, 212, 208]).status).to.equal('pass');
    expect(judge([225, 228, 230]).status).to.equal('pass'); // 17.7 MiB off: over 16, under 10 % of 210
    expect(judge([230, 232, 235]).status).to.equal('fail'); // 22.3 MiB off
    const kib = judge([215040, 215040]);
    expect(kib.status).to.equal('fail');
    expect(kib.message).to.match(/looks like KiB/);
    expect(judge([]).message).to.match(/^expected one number per line \(MiB\), got no numbers/);
  });

  it('lines with several numbers are named where samples are missing, as the CPU monitor does', () => {
    const stdout = 'used 210 of 256 MiB\nused 211 of 256 MiB\n';
    const read = readMonitorSamples(stdout);
    expect(read.values).to.deep.equal([]);
    const v = judgeMemoryMonitor({
      name: 'mem.sh',
      p: P,
      values: read.values,
      harnessMiB: 210,
      run: { ...RUN, stdout },
      unclear: unreadLines(read),
    });
    expect(v.status).to.equal('fail');
    expect(v.message).to.match(
      /got no numbers .*; 2 lines held several numbers and were not read \(e\.g\. "used 210 of 256 MiB"\): print one number per line$/,
    );
  });
});
