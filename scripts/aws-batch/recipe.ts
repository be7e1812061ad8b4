/**
 * Grading a class on AWS Batch: the four API inputs, typed with @aws-sdk/client-batch's own input
 * types (so `npm run typecheck` checks them against the SDK), for a TA to send with the SDK or to
 * print as JSON for `aws batch … --cli-input-json` (docs/batch.md, "AWS Batch"). Not run by the
 * tests: they check the types and the exit-code mapping (test/unit/aws-batch/).
 *
 *  - a compute environment of c7i-flex.large only (the lab's target), scaling from 0;
 *  - a job definition asking for the instance's 2 vCPUs, so Batch places one job per instance —
 *    measured checks never share a machine — with the host's Docker socket and EFS mounted;
 *  - an array job, one child per shard (entrypoint.sh turns the 0-based index into --shard i/n and
 *    always passes --resume), and a merge job that depends on the whole array;
 *  - a retry strategy that retries a lost host or engine — never a student's verdict.
 */
import type {
  CreateComputeEnvironmentCommandInput,
  CreateJobQueueCommandInput,
  EvaluateOnExit,
  RegisterJobDefinitionCommandInput,
  RetryStrategy,
  SubmitJobCommandInput,
} from '@aws-sdk/client-batch';

/** The lab's target instance (labs/tutorial7/lab.yaml `target.instanceType`). */
export const INSTANCE_TYPE = 'c7i-flex.large';
/** All of its vCPUs: a job asking for them gets an instance to itself. */
export const INSTANCE_VCPUS = 2;
/** MiB for the labgrade container itself; the students' containers are the host's, beside it. */
export const JOB_MEMORY_MIB = 2048;

/** labgrade's exit codes (README, docs/batch.md) and what a new attempt can do about each. */
export const LABGRADE_EXIT = {
  /** Every student has a grade. */
  graded: 0,
  /** A harness error: a person looks first (`--resume` retries those students). */
  harnessError: 1,
  /** Usage: the same command fails the same way. */
  usage: 2,
  /** Environment: no engine, the engine did not come back, a full disk — this instance's fault. */
  environment: 3,
  /** Incomplete: some students need review — a result about the class, not a fault to retry. */
  needsReview: 4,
  /** Interrupted (SIGTERM): the instance is being taken away (scale-in, a drained host). */
  interrupted: 130,
} as const;

/** The container was SIGKILLed (128 + 9): the host or its agent ended it, not labgrade. */
export const KILLED = 137;

/**
 * Retry what a new instance can fix; stop on everything else. A retry is safe: the attempt runs
 * with --resume on the same EFS folder, so students already in the journal are not graded again.
 * At most 5 rules (the API's limit); the last catches every other end, since Batch retries an
 * attempt that no rule matches.
 */
export const EVALUATE_ON_EXIT: EvaluateOnExit[] = [
  // The instance was terminated or lost (no exit code): "Host EC2 (instance i-…) terminated."
  { onStatusReason: 'Host EC2*', action: 'RETRY' },
  { onExitCode: String(LABGRADE_EXIT.environment), action: 'RETRY' },
  { onExitCode: String(LABGRADE_EXIT.interrupted), action: 'RETRY' },
  { onExitCode: String(KILLED), action: 'RETRY' },
  // 0, 1, 2, 4 and anything unforeseen: the attempt's result stands.
  { onReason: '*', action: 'EXIT' },
];

export const RETRY_STRATEGY: RetryStrategy = { attempts: 3, evaluateOnExit: EVALUATE_ON_EXIT };

/** Your account's pieces. */
export interface AwsBatchSite {
  /** Prefix of the compute environment, queue and job definition names. */
  name: string;
  subnets: string[];
  securityGroupIds: string[];
  /** The ECS instance profile (ARN) of the instances. */
  instanceRole: string;
  /** The image built from scripts/aws-batch/Dockerfile, in your ECR. */
  image: string;
  /** The EFS file system holding class/ and out/ (mounted at /data in every job). */
  efsFileSystemId: string;
  /** Shards graded at once (instances at most). */
  maxInstances: number;
}

/** One class to grade. Paths are inside the job: /data is the EFS root. */
export interface ClassJob {
  classPath: string;
  outPath: string;
  shards: number;
  /** Further `labgrade batch` options, e.g. ["--lab", "tutorial7", "--assignment-id", "4242"]. */
  batchOptions?: string[];
}

const names = (s: AwsBatchSite) => ({
  environment: `${s.name}-c7i-flex-large`,
  queue: `${s.name}-queue`,
  definition: `${s.name}-grade`,
});

export function computeEnvironment(s: AwsBatchSite): CreateComputeEnvironmentCommandInput {
  return {
    computeEnvironmentName: names(s).environment,
    type: 'MANAGED',
    state: 'ENABLED',
    computeResources: {
      type: 'EC2',
      // Only the target: a bigger instance would run two shards side by side and skew both.
      instanceTypes: [INSTANCE_TYPE],
      allocationStrategy: 'BEST_FIT_PROGRESSIVE',
      minvCpus: 0,
      desiredvCpus: 0,
      maxvCpus: s.maxInstances * INSTANCE_VCPUS,
      subnets: s.subnets,
      securityGroupIds: s.securityGroupIds,
      instanceRole: s.instanceRole,
      // ECS-optimized Amazon Linux 2023: cgroup v2 and the systemd driver, as on the target.
      ec2Configuration: [{ imageType: 'ECS_AL2023' }],
      tags: { app: 'labgrade' },
    },
  };
}

export function jobQueue(s: AwsBatchSite): CreateJobQueueCommandInput {
  return {
    jobQueueName: names(s).queue,
    state: 'ENABLED',
    priority: 1,
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: names(s).environment }],
  };
}

export function jobDefinition(s: AwsBatchSite): RegisterJobDefinitionCommandInput {
  return {
    jobDefinitionName: names(s).definition,
    type: 'container',
    platformCapabilities: ['EC2'],
    retryStrategy: RETRY_STRATEGY,
    // One attempt may take a shard of 150 students (≈ 1 h at 142 students/hour) with room to spare.
    timeout: { attemptDurationSeconds: 4 * 3600 },
    containerProperties: {
      image: s.image,
      resourceRequirements: [
        { type: 'VCPU', value: String(INSTANCE_VCPUS) },
        { type: 'MEMORY', value: String(JOB_MEMORY_MIB) },
      ],
      volumes: [
        // labgrade drives the instance's own engine: builds, limits and cgroups are the host's.
        { name: 'docker-socket', host: { sourcePath: '/var/run/docker.sock' } },
        {
          name: 'class-data',
          efsVolumeConfiguration: {
            fileSystemId: s.efsFileSystemId,
            rootDirectory: '/',
            transitEncryption: 'ENABLED',
          },
        },
      ],
      mountPoints: [
        { sourceVolume: 'docker-socket', containerPath: '/var/run/docker.sock', readOnly: false },
        { sourceVolume: 'class-data', containerPath: '/data', readOnly: false },
      ],
      environment: [
        // An engine restart by the ECS agent takes longer than a laptop's: wait 2 min for it.
        { name: 'LABGRADE_ENGINE_WAIT', value: '120' },
      ],
    },
  };
}

/** The array job: child k grades shard k+1 of n into outPath/shard-(k+1). */
export function shardJob(s: AwsBatchSite, c: ClassJob): SubmitJobCommandInput {
  if (!Number.isInteger(c.shards) || c.shards < 1 || c.shards > 10_000)
    throw new RangeError(
      `shards must be a whole number from 1 to 10000 (an array job's size), got ${c.shards}`,
    );
  return {
    jobName: `${s.name}-shards`,
    jobQueue: names(s).queue,
    jobDefinition: names(s).definition,
    // An array needs 2 children or more; one shard is a plain job (its index variable is unset: 0).
    ...(c.shards > 1 ? { arrayProperties: { size: c.shards } } : {}),
    containerOverrides: {
      command: ['shard', c.classPath, c.outPath, String(c.shards), ...(c.batchOptions ?? [])],
    },
  };
}

/** The merge, after every child of the array (Batch runs it only when all of them succeeded). */
export function mergeJob(s: AwsBatchSite, c: ClassJob, shardJobId: string): SubmitJobCommandInput {
  return {
    jobName: `${s.name}-merge`,
    jobQueue: names(s).queue,
    jobDefinition: names(s).definition,
    dependsOn: [{ jobId: shardJobId }],
    containerOverrides: { command: ['merge', c.outPath, String(c.shards)] },
  };
}
