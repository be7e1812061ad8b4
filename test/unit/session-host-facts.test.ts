/**
 * Whose facts a report shows (cli/session.ts hostFacts): on the engine's host, ours; with a
 * remote engine, the engine's; in the labgrade image on the engine's machine, the hardware is ours
 * (DMI: the EC2 instance type) but hostname and OS are the engine's, not the image's Debian.
 */
import { expect } from 'chai';
import { hostFacts } from '../../cli/session.ts';
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import type { EngineInfo } from '../../harness/engine/engine.ts';

const info = (local: boolean) =>
  ({
    serverVersion: '27.5.1',
    apiVersion: '1.47',
    os: 'Ubuntu 24.04.1 LTS',
    kernel: '6.8.0-1019-aws',
    cgroupVersion: 2,
    cgroupDriver: 'systemd',
    cpus: 2,
    memoryBytes: 4 * 1024 ** 3,
    runcVersion: '1.2.4',
    host: 'unix:///var/run/docker.sock',
    local,
    name: 'ip-172-31-5-9',
  }) as unknown as EngineInfo;

const probe = {
  hostname: '3f2a9c1d7e4b',
  os: 'Debian GNU/Linux 13 (trixie)',
  kernel: '6.8.0-1019-aws',
  cpuModel: 'Intel(R) Xeon(R) Platinum 8488C',
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  virtualization: 'amazon',
  instanceType: 'c7i-flex.large',
  instanceId: 'i-0123456789abcdef0',
} as unknown as Parameters<typeof hostFacts>[1];

const access = (mode: 'direct' | 'engine', sameMachine: boolean) =>
  ({ mode, sameMachine, layout: { version: 2 } }) as unknown as CgroupAccess;

describe('cli/session hostFacts', () => {
  it('in the labgrade image on the engine host: instance type from here, hostname and OS from the engine', () => {
    const h = hostFacts(info(false), probe, access('direct', true), true);
    expect(h).to.deep.include({
      hostname: 'ip-172-31-5-9',
      os: 'Ubuntu 24.04.1 LTS',
      instanceType: 'c7i-flex.large',
      instanceId: 'i-0123456789abcdef0',
      cpuModel: 'Intel(R) Xeon(R) Platinum 8488C',
      cgroupAccess: 'direct',
    });
  });
  it('in a container that reads through the engine but on the same kernel: still this machine', () => {
    expect(hostFacts(info(false), probe, access('engine', true), true).instanceType).to.equal(
      'c7i-flex.large',
    );
  });
  it('a remote engine (another kernel): nothing from here', () => {
    const h = hostFacts(info(false), probe, access('engine', false), false);
    expect(h).to.deep.include({ hostname: 'ip-172-31-5-9', instanceType: null, cpuModel: undefined });
  });
  it("on the engine's host itself: our own hostname and OS", () => {
    const h = hostFacts(info(true), probe, access('direct', true), false);
    expect(h).to.deep.include({ hostname: '3f2a9c1d7e4b', os: 'Debian GNU/Linux 13 (trixie)' });
  });
});
