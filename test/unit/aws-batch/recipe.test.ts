/**
 * The AWS Batch recipe without AWS: its retry rules applied to each of labgrade's exit codes and
 * to a lost host the way Batch applies them (scripts/aws-batch/evaluate-on-exit.ts), and its entry
 * point run for real by sh with a stand-in `labgrade` that records its arguments and exits with a
 * chosen code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { BATCH_INCOMPLETE } from '../../../cli/batch.ts';
import { actionFor, ruleProblems } from '../../../scripts/aws-batch/evaluate-on-exit.ts';
import {
  EVALUATE_ON_EXIT,
  INSTANCE_TYPE,
  LABGRADE_EXIT,
  computeEnvironment,
  jobDefinition,
  mergeJob,
  shardJob,
  type AwsBatchSite,
} from '../../../scripts/aws-batch/recipe.ts';

const ENTRYPOINT = fileURLToPath(new URL('../../../scripts/aws-batch/entrypoint.sh', import.meta.url));

const site: AwsBatchSite = {
  name: 'lg',
  subnets: ['subnet-1'],
  securityGroupIds: ['sg-1'],
  instanceRole: 'arn:aws:iam::123456789012:instance-profile/ecsInstanceRole',
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/labgrade-batch:0.1.0',
  efsFileSystemId: 'fs-1',
  maxInstances: 8,
};

describe('AWS Batch recipe: retries and exit codes', () => {
  it('the rules are ones the API accepts (at most 5, allowed characters)', () => {
    expect(ruleProblems(EVALUATE_ON_EXIT)).to.deep.equal([]);
  });

  it("retries a lost host or engine and SIGTERM/SIGKILL from the host; never a student's verdict", () => {
    const table = [0, 1, 2, 3, 4, 130, 137].map((code) => [
      code,
      actionFor(EVALUATE_ON_EXIT, { exitCode: code, reason: 'Essential container in task exited' }),
    ]);
    expect(table).to.deep.equal([
      [0, 'EXIT'],
      [1, 'EXIT'],
      [2, 'EXIT'],
      [3, 'RETRY'],
      [4, 'EXIT'],
      [130, 'RETRY'],
      [137, 'RETRY'],
    ]);
    // The instance went away: no exit code, Batch's status reason names the host.
    expect(
      actionFor(EVALUATE_ON_EXIT, { statusReason: 'Host EC2 (instance i-0abc123) terminated.' }),
    ).to.equal('RETRY');
    // Patterns match whole codes: 30 is not 3, 1300 is not 130.
    expect(actionFor(EVALUATE_ON_EXIT, { exitCode: 30, reason: 'x' })).to.equal('EXIT');
    expect(actionFor(EVALUATE_ON_EXIT, { exitCode: 1300, reason: 'x' })).to.equal('EXIT');
  });

  it('needs its last rule: Batch retries an attempt that no rule matches', () => {
    const withoutCatchAll = EVALUATE_ON_EXIT.slice(0, -1);
    expect(actionFor(withoutCatchAll, { exitCode: LABGRADE_EXIT.needsReview, reason: 'x' })).to.equal(
      'RETRY',
    );
  });

  it("uses labgrade's own exit codes", () => {
    expect(LABGRADE_EXIT.needsReview).to.equal(BATCH_INCOMPLETE);
    const readme = readFileSync(fileURLToPath(new URL('../../../docs/batch.md', import.meta.url)), 'utf8');
    for (const [code, words] of [
      [LABGRADE_EXIT.harnessError, '1 some student hit a harness error'],
      [LABGRADE_EXIT.usage, '2 usage'],
      [LABGRADE_EXIT.environment, '3 no Docker engine'],
      [LABGRADE_EXIT.needsReview, '4 incomplete'],
      [LABGRADE_EXIT.interrupted, '130 interrupted'],
    ] as const)
      expect(readme, `docs/batch.md on exit ${code}`).to.include(words);
  });

  it('one job per c7i-flex.large: only that type, and the job asks for both its vCPUs', () => {
    expect(computeEnvironment(site).computeResources?.instanceTypes).to.deep.equal([INSTANCE_TYPE]);
    expect(jobDefinition(site).containerProperties?.resourceRequirements).to.deep.include({
      type: 'VCPU',
      value: '2',
    });
    const job = shardJob(site, {
      classPath: '/data/class',
      outPath: '/data/out',
      shards: 4,
      batchOptions: ['--quick'],
    });
    expect(job.arrayProperties).to.deep.equal({ size: 4 });
    expect(job.containerOverrides?.command).to.deep.equal([
      'shard',
      '/data/class',
      '/data/out',
      '4',
      '--quick',
    ]);
    expect(shardJob(site, { classPath: '/c', outPath: '/o', shards: 1 }).arrayProperties).to.equal(undefined);
    expect(mergeJob(site, { classPath: '/c', outPath: '/o', shards: 4 }, 'job-1').dependsOn).to.deep.equal([
      { jobId: 'job-1' },
    ]);
  });
});

describe('AWS Batch entry point (scripts/aws-batch/entrypoint.sh, run by sh)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgtest-awsbatch-'));
    const stub = path.join(dir, 'labgrade');
    writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nexit "$STUB_RC"\n`);
    chmodSync(stub, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (args: string[], rc: number, index?: number) => {
    const r = spawnSync('sh', [ENTRYPOINT, ...args], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        LABGRADE: path.join(dir, 'labgrade'),
        STUB_RC: String(rc),
        ...(index === undefined ? {} : { AWS_BATCH_JOB_ARRAY_INDEX: String(index) }),
      },
    });
    return {
      code: r.status,
      args: readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n'),
      out: r.stdout,
    };
  };

  it('child k grades shard k+1 of n into its own folder, always with --resume', () => {
    const r = entry(['shard', '/data/class', '/data/out', '4', '--quick'], 0, 2);
    expect(r.args).to.deep.equal([
      'batch',
      '/data/class',
      '--out',
      '/data/out/shard-3',
      '--shard',
      '3/4',
      '--resume',
      '--cgroup-access',
      'engine',
      '--quick',
    ]);
    // A plain job (one shard) has no index: shard 1 of 1.
    expect(entry(['shard', '/c', '/o', '1'], 0).args.slice(2, 6)).to.deep.equal([
      '--out',
      '/o/shard-1',
      '--shard',
      '1/1',
    ]);
  });

  it('exit 4 (students to review) ends the child as a success so that the merge runs; other codes pass through', () => {
    const codes = [0, 1, 2, 3, 4, 130].map((rc) => [rc, entry(['shard', '/c', '/o', '2'], rc, 0).code]);
    expect(codes).to.deep.equal([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 0],
      [130, 130],
    ]);
  });

  it('merge joins shard-1 … shard-n into merged/ and keeps its exit code (4: review)', () => {
    const r = entry(['merge', '/data/out', '3'], 4);
    expect(r.code).to.equal(4);
    expect(r.args).to.deep.equal([
      'merge',
      '/data/out/shard-1',
      '/data/out/shard-2',
      '/data/out/shard-3',
      '--out',
      '/data/out/merged',
    ]);
  });

  it('refuses anything else with usage (2)', () => {
    expect(spawnSync('sh', [ENTRYPOINT, 'grade'], { encoding: 'utf8' }).status).to.equal(2);
    // Not executable by accident: the image runs it directly.
    expect(
      execFileSync('sh', ['-c', `test -x "${ENTRYPOINT}" && echo yes`], { encoding: 'utf8' }).trim(),
    ).to.equal('yes');
  });
});
