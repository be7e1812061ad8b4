import { expect } from 'chai';
import { buildFailureMessage, fromImage, isPullError } from '../../../graders/checks/image-build.ts';
import { createBuildCgroup } from '../../../harness/engine/build-cgroup.ts';

describe('image-build messages', () => {
  it('reads the image of a FROM step, without flags or a stage name', () => {
    expect(fromImage('Step 1/5 : FROM ubuntu:99.99')).to.equal('ubuntu:99.99');
    expect(fromImage('Step 1/7 : FROM --platform=linux/amd64 reg.example/x:1 AS build')).to.equal(
      'reg.example/x:1',
    );
    expect(fromImage('Step 2/5 : RUN apt-get update')).to.equal(undefined);
    expect(fromImage(undefined)).to.equal(undefined);
  });

  it('tells a pull failure (offline or no such image) from other builder errors', () => {
    expect(
      isPullError(
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host',
      ),
    ).to.equal(true);
    expect(isPullError('manifest for ubuntu:99.99 not found: manifest unknown: manifest unknown')).to.equal(
      true,
    );
    expect(
      isPullError("pull access denied for nosuch, repository does not exist or may require 'docker login'"),
    ).to.equal(true);
    expect(
      isPullError("The command '/bin/sh -c apt-get install -y x' returned a non-zero code: 100"),
    ).to.equal(false);
  });

  it('names the step, the base image and what to do', () => {
    const base = { tail: 'Step 1/5 : FROM ubuntu:99.99\nGet …: no such host', timedOut: false };
    expect(
      buildFailureMessage(
        {
          ...base,
          error: 'Get "https://registry-1.docker.io/v2/": dial tcp: no such host',
          step: 'Step 1/5 : FROM ubuntu:99.99',
        },
        600_000,
        'ubuntu:24.04',
      ),
    ).to.equal(
      'expected the image to build, got an error at Step 1/5 : FROM ubuntu:99.99: the base image ubuntu:99.99 is not on this machine and could not be pulled (Get "https://registry-1.docker.io/v2/": dial tcp: no such host). ' +
        "Check the image name and tag in FROM (this lab's base image is ubuntu:24.04); if the name is right, pull it first with: docker pull ubuntu:99.99\n" +
        'Last lines of the build log:\nStep 1/5 : FROM ubuntu:99.99\nGet …: no such host',
    );
    expect(
      buildFailureMessage(
        {
          error: "The command '/bin/sh -c f' returned a non-zero code: 2",
          tail: 'Cannot fork',
          timedOut: false,
          step: 'Step 2/5 : RUN f',
          pidsLimit: 200,
          pidsPeak: 200,
        },
        600_000,
        'ubuntu:24.04',
      ),
    ).to.equal(
      "expected the image to build, got an error at Step 2/5 : RUN f: The command '/bin/sh -c f' returned a non-zero code: 2 (the build steps reached labgrade's limit of 200 processes: does a RUN fork without end?)\nLast lines of the build log:\nCannot fork",
    );
    expect(
      buildFailureMessage(
        {
          error: 'build did not finish within 15 s',
          tail: 'x',
          timedOut: true,
          step: 'Step 2/5 : RUN sleep infinity',
          pidsLimit: 1024,
          pidsPeak: 3,
        },
        15_000,
        'ubuntu:24.04',
      ),
    ).to.equal(
      'expected the image to build within 15 s, got no image: build did not finish within 15 s, stopped while still at Step 2/5 : RUN sleep infinity. Last lines:\nx',
    );
    // No step known (refused context): no "at …".
    expect(
      buildFailureMessage(
        { error: 'the build context is 1 GiB', tail: '', timedOut: false },
        1000,
        'ubuntu:24.04',
      ),
    ).to.equal('expected the image to build, got an error: the build context is 1 GiB');
  });
});

describe('build cgroup', () => {
  it('is not attempted for a remote engine or the systemd driver, and says why', async () => {
    const layout = () => Promise.reject(new Error('must not be read'));
    expect(
      await createBuildCgroup({ local: false, cgroupDriver: 'cgroupfs', cgroupVersion: 1 }, 100, 't', layout),
    ).to.deep.equal({ unavailable: 'the engine is not on this machine' });
    expect(
      await createBuildCgroup({ local: true, cgroupDriver: 'systemd', cgroupVersion: 2 }, 100, 't', layout),
    ).to.deep.equal({ unavailable: 'the engine uses the systemd cgroup driver (cgroupfs needed)' });
    expect(
      await createBuildCgroup({ local: true, cgroupDriver: 'cgroupfs', cgroupVersion: 1 }, 100, 't', () =>
        Promise.resolve({ version: 1, controllers: {}, hybrid: false }),
      ),
    ).to.deep.equal({ unavailable: 'no pids controller mounted' });
  });
});
