/**
 * The engine layer (DockerEngine over dockerode) against answers shaped like the students' engine:
 * Docker 29.1.3 (API 1.52, minimum 1.44) with the containerd image store, which no machine here
 * can run. A small HTTP server on a unix socket plays the engine; every answer below follows the
 * Engine API as moby documents it (api/docs/CHANGELOG.md, docker-v29.1.3), with the fields that
 * 1.52 leaves out left out. A 20.10-shaped answer (API 1.41, graph driver) is the old end.
 *
 *  - 1.52 omits empty image `Config` fields (Labels, Env, Cmd…), `NetworkSettings.IPAddress`
 *    and friends, and `status`/`id`/`from` in events.
 *  - 1.49 deprecated the streams' `error` field: an error may come as `errorDetail` only.
 *  - Under the containerd store image IDs are manifest digests, and a rebuilt tag leaves its old
 *    image behind as `moby-dangling@<digest>` (daemon/containerd/soft_delete.go), untagged.
 *  - Requests must carry no `/v1.xx` prefix: an unversioned request is answered at the engine's
 *    own newest API, the only choice that both 20.10 (max 1.41) and 29 (min 1.44) accept.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DockerEngine, imageStoreOf } from '../../../harness/engine/docker-engine.ts';
import { LabgradeError } from '../../../harness/errors.ts';

interface Seen {
  method: string;
  path: string;
  body: string;
}

type Handler = (req: Seen, res: http.ServerResponse) => void;

/** A fake engine: routes "METHOD /path-regexp" → handler; records every request. */
class FakeApi {
  readonly seen: Seen[] = [];
  private readonly server: http.Server;
  readonly socket: string;
  private routes: Array<[string, RegExp, Handler]> = [];

  constructor(dir: string) {
    this.socket = path.join(dir, 'engine.sock');
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: Seen = {
          method: req.method ?? '',
          path: req.url ?? '',
          // The build context is a tar: keep only text bodies.
          body: req.url?.startsWith('/build') ? '' : Buffer.concat(chunks).toString('utf8'),
        };
        this.seen.push(seen);
        const pathname = (req.url ?? '').split('?')[0]!;
        const route = this.routes.find(([m, re]) => m === req.method && re.test(pathname));
        if (!route) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `fake engine: no route for ${req.method} ${pathname}` }));
          return;
        }
        route[2](seen, res);
      });
    });
  }

  on(method: string, re: RegExp, h: Handler): this {
    this.routes.push([method, re, h]);
    return this;
  }

  json(method: string, re: RegExp, body: unknown, status = 200): this {
    return this.on(method, re, (_q, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.socket, resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function ndjson(res: http.ServerResponse, lines: unknown[]): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  for (const l of lines) res.write(`${JSON.stringify(l)}\n`);
  res.end();
}

// --- answers -------------------------------------------------------------------------------------

/** GET /info of Ubuntu 24.04's docker.io 29.1.3 (values from shared/reference/samples). */
const INFO_29 = {
  ID: 'x',
  Containers: 2,
  Images: 7,
  Driver: 'overlayfs',
  DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']],
  CgroupDriver: 'systemd',
  CgroupVersion: '2',
  KernelVersion: '6.8.0-111-generic',
  OperatingSystem: 'Ubuntu 24.04.4 LTS',
  OSType: 'linux',
  Architecture: 'x86_64',
  NCPU: 2,
  MemTotal: 4_000_000_000,
  Name: 'student-laptop',
  ServerVersion: '29.1.3',
  // Ubuntu's packages leave the commits empty; `docker info` then prints an empty runc version.
  RuncCommit: { ID: '' },
  ContainerdCommit: { ID: '' },
};
const VERSION_29 = {
  Platform: { Name: '' },
  Components: [
    { Name: 'Engine', Version: '29.1.3', Details: { ApiVersion: '1.52', MinAPIVersion: '1.44' } },
    { Name: 'containerd', Version: '2.2.1', Details: { GitCommit: '' } },
    { Name: 'runc', Version: '1.3.4-0ubuntu1~24.04.1', Details: { GitCommit: '' } },
    { Name: 'docker-init', Version: '0.19.0', Details: { GitCommit: '' } },
  ],
  Version: '29.1.3',
  ApiVersion: '1.52',
  MinAPIVersion: '1.44',
  Os: 'linux',
  Arch: 'amd64',
};
/** Debian 12's docker.io 20.10.24 on its graph driver. */
const INFO_20 = {
  ...INFO_29,
  Driver: 'overlay2',
  DriverStatus: [
    ['Backing Filesystem', 'extfs'],
    ['Supports d_type', 'true'],
    ['Native Overlay Diff', 'true'],
    ['userxattr', 'false'],
  ],
  CgroupDriver: 'cgroupfs',
  CgroupVersion: '1',
  ServerVersion: '20.10.24+dfsg1',
};
const VERSION_20 = {
  Components: [
    { Name: 'Engine', Version: '20.10.24+dfsg1', Details: { ApiVersion: '1.41', MinAPIVersion: '1.12' } },
    { Name: 'containerd', Version: '1.6.20~ds1', Details: {} },
    { Name: 'runc', Version: '1.1.5+ds1', Details: {} },
  ],
  Version: '20.10.24+dfsg1',
  ApiVersion: '1.41',
  MinAPIVersion: '1.12',
};

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;

/**
 * Image inspect at API 1.52 (daemon/containerd/image_inspect.go): no Container/ContainerConfig
 * (gone in 1.45), no Parent/DockerVersion/Comment/Author (omitted when empty), Config without
 * its empty fields, no GraphDriver under the containerd store.
 */
function image152(id: string, o: { tags?: string[]; labels?: Record<string, string> }) {
  const config: Record<string, unknown> = { ArgsEscaped: true };
  if (o.labels) config.Labels = o.labels;
  const out: Record<string, unknown> = {
    Id: id,
    RepoDigests: [],
    Created: '2026-12-06T05:00:00Z',
    Config: config,
    Architecture: 'amd64',
    Os: 'linux',
    Size: 123,
    RootFS: { Type: 'layers', Layers: [] },
    Metadata: { LastTagTime: '2026-12-06T05:00:00Z' },
    Descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: id, size: 1000 },
  };
  if (o.tags) out.RepoTags = o.tags;
  return out;
}

describe('engine layer on API 1.52 answers (fake engine on a unix socket)', () => {
  let dir: string;
  let api: FakeApi;
  let engine: DockerEngine;
  let ctx: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lg-api152-'));
    api = new FakeApi(dir);
    await api.listen();
    engine = new DockerEngine({ runId: 'run-1', docker: { socketPath: api.socket } });
    // The build context, apart from the socket.
    ctx = mkdtempSync(path.join(dir, 'ctx-'));
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM ubuntu:24.04\nRUN true\n');
  });
  afterEach(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every request went to an unversioned path: /info, never /v1.41/info. */
  function expectUnversioned(): void {
    expect(api.seen.length).to.be.greaterThan(0);
    for (const s of api.seen) expect(s.path, `${s.method} ${s.path}`).not.to.match(/^\/v\d+\.\d+\//);
  }

  it('info: Docker 29.1.3 with the containerd store → engine 29.1.3, API 1.52 (min 1.44), containerd store, runc from `docker version`', async () => {
    api.json('GET', /^\/info$/, INFO_29).json('GET', /^\/version$/, VERSION_29);
    const i = await engine.info();
    expect(i).to.include({
      serverVersion: '29.1.3',
      apiVersion: '1.52',
      apiMinVersion: '1.44',
      cgroupVersion: 2,
      cgroupDriver: 'systemd',
      runcVersion: '1.3.4-0ubuntu1~24.04.1',
      containerdVersion: '2.2.1',
      storageDriver: 'overlayfs',
      imageStore: 'containerd',
    });
    expectUnversioned();
  });

  it('info: Docker 20.10 on overlay2 → graph store, API 1.41', async () => {
    api.json('GET', /^\/info$/, INFO_20).json('GET', /^\/version$/, VERSION_20);
    const i = await engine.info();
    expect(i).to.include({
      serverVersion: '20.10.24+dfsg1',
      apiVersion: '1.41',
      apiMinVersion: '1.12',
      cgroupVersion: 1,
      cgroupDriver: 'cgroupfs',
      storageDriver: 'overlay2',
      imageStore: 'graph',
      runcVersion: '1.1.5+ds1',
    });
  });

  it('imageStoreOf: only the driver-type row of the containerd store counts', () => {
    expect(imageStoreOf([['driver-type', 'io.containerd.snapshotter.v1']])).to.equal('containerd');
    expect(imageStoreOf([['Backing Filesystem', 'extfs']])).to.equal('graph');
    expect(imageStoreOf(undefined)).to.equal('graph');
    expect(imageStoreOf(null)).to.equal('graph');
  });

  /** The classic builder's stream on a containerd-store engine: the image ID is a manifest digest. */
  function classicBuild(id: string): Handler {
    return (_q, res) =>
      ndjson(res, [
        { stream: 'Step 1/2 : FROM ubuntu:24.04' },
        { stream: '\n' },
        { stream: ' ---> 1b2c3d4e5f60\n' },
        { stream: 'Step 2/2 : RUN true\n' },
        { stream: ' ---> Running in 0123456789ab\n' },
        { stream: ' ---> Removed intermediate container 0123456789ab\n' },
        { aux: { ID: id } },
        { stream: `Successfully built ${id.slice(7, 19)}\n` },
        { stream: 'Successfully tagged lab/x:latest\n' },
      ]);
  }

  it('build: a rebuilt tag under the containerd store leaves its old image untagged; build removes it (with its dangling parents)', async () => {
    let oldUntagged = false;
    api
      .on('GET', /^\/images\/lab\/x(:latest)?\/json$/, (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(image152(OLD, { tags: ['lab/x:latest'], labels: { 'labgrade.run': 'run-0' } })),
        );
      })
      .on('POST', /^\/build$/, (q, res) => {
        oldUntagged = true;
        classicBuild(NEW)(q, res);
      })
      // After the rebuild the old image is `moby-dangling@sha256:aaa…`: RepoTags empty, which 1.52 may omit.
      .on('GET', new RegExp(`^/images/${OLD.replace(':', '(:|%3A)')}/json$`), (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            image152(OLD, {
              tags: oldUntagged ? undefined : ['lab/x:latest'],
              labels: { 'labgrade.run': 'run-0' },
            }),
          ),
        );
      })
      .json('DELETE', /^\/images\//, [{ Deleted: OLD }]);
    const r = await engine.build({ contextDir: ctx, tag: 'lab/x:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok, r.error).to.equal(true);
    expect(r.imageId).to.match(/^b{12}/);
    const del = api.seen.filter((s) => s.method === 'DELETE');
    expect(del.map((d) => decodeURIComponent(d.path.split('?')[0]!))).to.deep.equal([`/images/${OLD}`]);
    // Never forced, and the dangling parents (the classic builder's per-step images) go with it.
    expect(del[0]!.path).not.to.match(/force=true/);
    expect(del[0]!.path).not.to.match(/noprune=true/);
    expectUnversioned();
  });

  it('build: the old image keeps another tag → not removed', async () => {
    api
      .json(
        'GET',
        /^\/images\/lab\/x(:latest)?\/json$/,
        image152(OLD, { tags: ['lab/x:latest'], labels: { 'labgrade.run': 'run-0' } }),
      )
      .on('POST', /^\/build$/, classicBuild(NEW))
      .json(
        'GET',
        /^\/images\/sha256(:|%3A)a+\/json$/,
        image152(OLD, { tags: ['lab/x:kept'], labels: { 'labgrade.run': 'run-0' } }),
      )
      .json('DELETE', /^\/images\//, []);
    const r = await engine.build({ contextDir: ctx, tag: 'lab/x:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok, r.error).to.equal(true);
    expect(api.seen.filter((s) => s.method === 'DELETE')).to.have.length(0);
  });

  it('build: the tag named an image labgrade did not build (1.52 leaves Config.Labels out) → left alone, no crash', async () => {
    api
      .json('GET', /^\/images\/lab\/x(:latest)?\/json$/, image152(OLD, { tags: ['lab/x:latest'] }))
      .on('POST', /^\/build$/, classicBuild(NEW))
      .json('DELETE', /^\/images\//, []);
    const r = await engine.build({ contextDir: ctx, tag: 'lab/x:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok, r.error).to.equal(true);
    expect(r.imageId).to.match(/^b{12}/);
    expect(api.seen.filter((s) => s.method === 'DELETE')).to.have.length(0);
  });

  it('build: the same image again (cache) → nothing removed', async () => {
    api
      .json(
        'GET',
        /^\/images\/lab\/x(:latest)?\/json$/,
        image152(NEW, { tags: ['lab/x:latest'], labels: { 'labgrade.run': 'run-1' } }),
      )
      .on('POST', /^\/build$/, classicBuild(NEW))
      .json('DELETE', /^\/images\//, []);
    const r = await engine.build({ contextDir: ctx, tag: 'lab/x:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok, r.error).to.equal(true);
    expect(api.seen.filter((s) => s.method === 'DELETE')).to.have.length(0);
  });

  it('build: a failing RUN reported with errorDetail only (no deprecated "error" field) reaches the student verbatim', async () => {
    const msg = "The command '/bin/sh -c apt-get install -y stress-ngg' returned a non-zero code: 100";
    api.on('POST', /^\/build$/, (_q, res) =>
      ndjson(res, [
        { stream: 'Step 2/2 : RUN apt-get install -y stress-ngg\n' },
        { stream: ' ---> Running in 0123456789ab\n' },
        { stream: 'E: Unable to locate package stress-ngg\n' },
        { errorDetail: { code: 100, message: msg } },
      ]),
    );
    const r = await engine.build({ contextDir: ctx, tag: 'lab/y:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok).to.equal(false);
    expect(r.error).to.equal(msg);
    expect(r.log).to.include('E: Unable to locate package stress-ngg');
    expect(r.log).to.include(msg);
    expect(r.step).to.equal('Step 2/2 : RUN apt-get install -y stress-ngg');
  });

  it("build: a Dockerfile the engine refuses before building (HTTP 400) → the engine's words, not a harness error", async () => {
    api.json(
      'POST',
      /^\/build$/,
      { message: 'dockerfile parse error on line 2: unknown instruction: RUNN' },
      400,
    );
    const r = await engine.build({ contextDir: ctx, tag: 'lab/z:latest', timeoutMs: 20_000, pidsLimit: 0 });
    expect(r.ok).to.equal(false);
    expect(r.error).to.include('dockerfile parse error on line 2: unknown instruction: RUNN');
  });

  it("pull: an error sent as errorDetail only is a failed pull with the registry's message", async () => {
    api.on('POST', /^\/images\/create$/, (_q, res) =>
      ndjson(res, [
        { status: 'Pulling from student/lab', id: 'latest' },
        {
          errorDetail: {
            message: 'manifest for student/lab:v9 not found: manifest unknown: manifest unknown',
          },
        },
      ]),
    );
    const r = await engine.pull('student/lab:v9', { timeoutMs: 10_000 });
    expect(r).to.deep.equal({
      ok: false,
      error: 'manifest for student/lab:v9 not found: manifest unknown: manifest unknown',
    });
  });

  it("pull: both fields (older engines) → errorDetail's message; a clean stream → ok", async () => {
    api.on('POST', /^\/images\/create$/, (q, res) =>
      q.path.includes('fromImage=bad')
        ? ndjson(res, [
            {
              error: 'short',
              errorDetail: { message: 'pull access denied for bad, repository does not exist' },
            },
          ])
        : ndjson(res, [
            { status: 'Digest: sha256:abc' },
            { status: 'Status: Downloaded newer image for good:latest' },
          ]),
    );
    expect(await engine.pull('bad:latest', { timeoutMs: 10_000 })).to.deep.equal({
      ok: false,
      error: 'pull access denied for bad, repository does not exist',
    });
    expect(await engine.pull('good:latest', { timeoutMs: 10_000 })).to.deep.equal({ ok: true });
  });

  it('inspect: a 1.52 container answer without NetworkSettings.IPAddress and without Config.Labels', async () => {
    api.json('GET', /^\/containers\/c1\/json$/, {
      Id: 'c1'.padEnd(64, '0'),
      State: {
        Status: 'exited',
        Running: false,
        Pid: 0,
        ExitCode: 137,
        OOMKilled: true,
        StartedAt: 'a',
        FinishedAt: 'b',
      },
      HostConfig: {
        NanoCpus: 500_000_000,
        Memory: 134217728,
        MemorySwap: 134217728,
        PidsLimit: 512,
        CpuShares: 0,
      },
      Config: { Image: 'lab/x:latest' },
      NetworkSettings: { Networks: {} },
    });
    const s = await engine.inspect('c1');
    expect(s).to.include({
      running: false,
      exitCode: 137,
      oomKilled: true,
      nanoCpus: 500_000_000,
      memoryBytes: 134217728,
    });
    expect(s.labels).to.deep.equal({});
  });

  it('update: memory is sent with its swap limit (engines refuse Memory above the stored MemorySwap)', async () => {
    api.json('POST', /^\/containers\/c1\/update$/, { Warnings: [] });
    await engine.update('c1', { memoryBytes: 268435456, memorySwapBytes: 268435456 });
    const body = JSON.parse(api.seen.find((s) => s.path.startsWith('/containers/c1/update'))!.body) as Record<
      string,
      number
    >;
    expect(body).to.include({ Memory: 268435456, MemorySwap: 268435456 });
  });

  it('watch: a 1.52 events stream (no status/id/from) keeps the engine "up"; the stream ending counts one loss', async () => {
    let end: (() => void) | undefined;
    api.on('GET', /^\/events$/, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(
        `${JSON.stringify({ Type: 'daemon', Action: 'reload', Actor: { ID: 'x', Attributes: {} }, scope: 'local', time: 1, timeNano: 1 })}\n`,
      );
      end = () => res.end();
    });
    const w = engine.watch();
    try {
      expect(await w.waitUntilUp(5000)).to.equal(true);
      expect(w.losses()).to.equal(0);
      end!();
      const t0 = Date.now();
      while (w.losses() === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(w.losses()).to.equal(1);
    } finally {
      w.close();
    }
  });

  it('watch: an engine that takes requests and answers none (a wedged dockerd) is a loss within silentMs; calls in flight are cut, new ones fail at once, and it is up again when it answers', async () => {
    // Requests the "wedged" engine holds, answered (if their socket is still open) once it wakes.
    let answering = true;
    const held: Array<() => void> = [];
    const serve = (h: (res: http.ServerResponse) => void) => (_q: Seen, res: http.ServerResponse) =>
      answering ? h(res) : held.push(() => !res.destroyed && h(res));
    api.on(
      'GET',
      /^\/events$/,
      serve((res) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('');
      }),
    );
    api.on(
      'GET',
      /^\/_ping$/,
      serve((res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
      }),
    );
    api.on(
      'GET',
      /^\/containers\/c1\/json$/,
      serve((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ Id: 'c1', State: { Running: true, Status: 'running' }, Config: { Labels: {} } }),
        );
      }),
    );
    const w = engine.watch({ silentMs: 400, heartbeatMs: 50 });
    const heard: Array<[string, boolean]> = [];
    w.onLoss((why, silent) => heard.push([why, silent]));
    try {
      expect(await w.waitUntilUp(5000)).to.equal(true);
      await new Promise((r) => setTimeout(r, 200)); // a few heartbeats answered: no loss
      expect(w.losses()).to.equal(0);
      answering = false;
      const t0 = Date.now();
      const inFlight = engine.inspect('c1').then(
        () => 'answered',
        (err: unknown) => err,
      );
      while (w.losses() === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      const tookMs = Date.now() - t0;
      expect(w.losses()).to.equal(1);
      expect(tookMs).to.be.within(350, 1500);
      expect(heard).to.have.length(1);
      expect(heard[0]![1]).to.equal(true);
      expect(heard[0]![0]).to.match(/stopped answering/);
      expect(w.silent()).to.equal(true);
      const cut = await inFlight;
      expect(cut).to.be.instanceOf(LabgradeError);
      expect((cut as LabgradeError).engineUnavailable).to.equal(true);
      const t1 = Date.now();
      const fresh = await engine.inspect('c1').catch((err: unknown) => err);
      expect(Date.now() - t1).to.be.below(100);
      expect((fresh as LabgradeError).engineUnavailable).to.equal(true);
      expect((fresh as LabgradeError).message).to.match(/stopped answering .* during inspect/);
      // Awake again: the watch reconnects, calls go through, and one wedge counted one loss.
      answering = true;
      for (const h of held.splice(0)) h();
      expect(await w.waitUntilUp(15_000)).to.equal(true);
      expect(w.silent()).to.equal(false);
      expect((await engine.inspect('c1')).running).to.equal(true);
      expect(w.losses()).to.equal(1);
    } finally {
      w.close();
    }
  });
});
