import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  ec2FromDmi,
  imdsPlausible,
  parseDetectVirt,
  parseOsRelease,
  probeHost,
  queryImds,
  readDmi,
  shouldQueryImds,
  virtFromDmi,
  type FetchLike,
} from '../../harness/host.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/workloads/', import.meta.url));

/** The parts of a multi-sample fixture, split on its `# source:` lines. */
function sections(name: string): string[] {
  return readFileSync(FIXTURES + name, 'utf8')
    .split(/^# source\b.*$/m)
    .slice(1);
}

/** A fetch that fails the test if IMDS is contacted at all. */
const forbiddenFetch: FetchLike = (url) => {
  throw new Error(`IMDS must not be contacted here (${url})`);
};

interface FakeImds {
  baseUrl: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

/** A tiny IMDSv2 on 127.0.0.1; `handler` may override any answer. */
async function fakeImds(handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<FakeImds> {
  const requests: FakeImds['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (handler?.(req, res)) return;
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.writeHead(200).end('TOKEN-123');
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN-123') return void res.writeHead(401).end();
    if (req.url === '/latest/meta-data/instance-type') return void res.writeHead(200).end('c7i.large');
    if (req.url === '/latest/meta-data/instance-id')
      return void res.writeHead(200).end('i-0123456789abcdef0\n');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A DMI folder with the given files (name → content, newline added as the kernel does). */
function dmiDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labgrade-dmi-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), `${content}\n`);
  return dir;
}

describe('host', () => {
  describe('ec2FromDmi', () => {
    it('reads the instance type from product_name on Nitro (hostnamectl samples)', () => {
      const found = sections('ec2-nitro-hostnamectl-ubuntu2404.txt').map((text) =>
        ec2FromDmi({
          sysVendor: /Hardware Vendor: (.*)/.exec(text)![1]!,
          productName: /Hardware Model: (.*)/.exec(text)![1]!,
        }),
      );
      expect(found).to.deep.equal([
        { onEc2: true, instanceType: 't3.micro', instanceId: null },
        { onEc2: true, instanceType: 't3.xlarge', instanceId: null },
        { onEc2: true, instanceType: 't3.medium', instanceId: null },
      ]);
    });

    it('reads sys_vendor with its trailing newline and the instance id from board_asset_tag (sysfs samples)', () => {
      const [ohai, , awsDocs, script] = sections('ec2-nitro-dmi-sysfs.txt');
      const sysVendor = JSON.parse(/sys_vendor'\)\n=> (".*")/.exec(ohai!)![1]!) as string;
      const biosVendor = JSON.parse(/bios_vendor'\)\n=> (".*")/.exec(ohai!)![1]!) as string;
      expect(sysVendor).to.equal('Amazon EC2\n');
      expect(ec2FromDmi({ sysVendor, biosVendor })).to.deep.equal({
        onEc2: true,
        instanceType: null,
        instanceId: null,
      });

      const docsTag = /board_asset_tag\n(i-\S+)/.exec(awsDocs!)![1]!;
      const scriptTag = /= (i-[0-9a-f]+)/.exec(script!)![1]!;
      expect(
        ec2FromDmi({ sysVendor, productName: 'c7i.large\n', boardAssetTag: `${docsTag}\n` }),
      ).to.deep.equal({
        onEc2: true,
        instanceType: 'c7i.large',
        instanceId: 'i-0af01c0123456789a',
      });
      expect(
        ec2FromDmi({ sysVendor, productName: 'c7i-flex.large', boardAssetTag: scriptTag }),
      ).to.deep.equal({
        onEc2: true,
        instanceType: 'c7i-flex.large',
        instanceId: 'i-08d2a40f272ee9fa2',
      });
    });

    it('tells other vendors, Xen-era EC2 and unreadable DMI apart', () => {
      expect(
        ec2FromDmi({ sysVendor: 'QEMU\n', productName: 'Standard PC (Q35 + ICH9, 2009)\n' }),
      ).to.deep.equal({
        onEc2: false,
        instanceType: null,
        instanceId: null,
      });
      expect(
        ec2FromDmi({ sysVendor: 'Xen\n', productName: 'HVM domU\n', biosVersion: '4.11.amazon\n' }),
      ).to.deep.equal({
        onEc2: true,
        instanceType: null,
        instanceId: null,
      });
      expect(ec2FromDmi({})).to.deep.equal({ onEc2: null, instanceType: null, instanceId: null });
      expect(ec2FromDmi({ sysVendor: '\n' })).to.deep.equal({
        onEc2: null,
        instanceType: null,
        instanceId: null,
      });
      // Values that are not an instance type or id are not passed on.
      expect(
        ec2FromDmi({
          sysVendor: 'Amazon EC2',
          productName: 'Not Specified',
          boardAssetTag: 'Default string',
        }),
      ).to.deep.equal({
        onEc2: true,
        instanceType: null,
        instanceId: null,
      });
    });
  });

  describe('shouldQueryImds', () => {
    it('asks IMDS only for EC2 with a gap, or when DMI cannot tell', () => {
      expect(shouldQueryImds({ onEc2: null, instanceType: null, instanceId: null })).to.equal(true);
      expect(shouldQueryImds({ onEc2: true, instanceType: 't3.micro', instanceId: null })).to.equal(true);
      expect(
        shouldQueryImds({ onEc2: true, instanceType: 't3.micro', instanceId: 'i-08d2a40f272ee9fa2' }),
      ).to.equal(false);
      expect(shouldQueryImds({ onEc2: false, instanceType: null, instanceId: null })).to.equal(false);
    });
  });

  describe('imdsPlausible', () => {
    it('rules out IMDS only for hypervisors EC2 never uses', () => {
      expect(['amazon', 'kvm', 'xen', 'none', null].map(imdsPlausible)).to.deep.equal([
        true,
        true,
        true,
        true,
        true,
      ]);
      expect(['bhyve', 'microsoft', 'vmware', 'oracle', 'google'].map(imdsPlausible)).to.deep.equal([
        false,
        false,
        false,
        false,
        false,
      ]);
    });
  });

  describe('virtualization', () => {
    it('passes systemd-detect-virt through (EC2 samples say "amazon")', () => {
      const [thm] = sections('ec2-nitro-systemd-detect-virt.txt');
      const printed = thm!.trim().split('\n').at(-1)!;
      expect(parseDetectVirt(`${printed}\n`)).to.equal('amazon');
      const hostnamectl = sections('ec2-nitro-hostnamectl-ubuntu2404.txt').map(
        (t) => /Virtualization: (.*)/.exec(t)![1]!,
      );
      expect(hostnamectl.map(parseDetectVirt)).to.deep.equal(['amazon', 'amazon', 'amazon']);
      expect(parseDetectVirt('none\n')).to.equal('none');
      expect(parseDetectVirt('')).to.equal(null);
      expect(parseDetectVirt('Failed to check for virtualization: Permission denied\n')).to.equal(null);
    });

    it('guesses from DMI when systemd-detect-virt is absent', () => {
      expect(virtFromDmi({ sysVendor: 'Amazon EC2\n', productName: 't3.micro\n' })).to.equal('amazon');
      expect(virtFromDmi({ sysVendor: 'Xen', productName: 'HVM domU', biosVersion: '4.11.amazon' })).to.equal(
        'xen',
      );
      expect(virtFromDmi({ sysVendor: 'QEMU', productName: 'Standard PC (i440FX + PIIX, 1996)' })).to.equal(
        'qemu',
      );
      expect(virtFromDmi({ sysVendor: 'Microsoft Corporation', productName: 'Virtual Machine' })).to.equal(
        'microsoft',
      );
      expect(virtFromDmi({ sysVendor: 'Dell Inc.', productName: 'PowerEdge R640' })).to.equal('none');
      expect(virtFromDmi({})).to.equal(null);
    });
  });

  describe('parseOsRelease', () => {
    it('prefers PRETTY_NAME, falls back to NAME VERSION', () => {
      expect(
        parseOsRelease('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'),
      ).to.equal('Ubuntu 24.04.1 LTS');
      expect(parseOsRelease("NAME='Alpine Linux'\nVERSION=3.20\n")).to.equal('Alpine Linux 3.20');
      expect(parseOsRelease('')).to.equal(null);
    });
  });

  describe('queryImds (against a local server on 127.0.0.1)', () => {
    it('does the IMDSv2 token dance and reads type and id', async () => {
      const imds = await fakeImds();
      try {
        expect(await queryImds({ baseUrl: imds.baseUrl, timeoutMs: 2_000 })).to.deep.equal({
          ok: true,
          instanceType: 'c7i.large',
          instanceId: 'i-0123456789abcdef0',
        });
        expect(imds.requests.map((r) => `${r.method} ${r.url}`).sort()).to.deep.equal([
          'GET /latest/meta-data/instance-id',
          'GET /latest/meta-data/instance-type',
          'PUT /latest/api/token',
        ]);
        expect(
          imds.requests.find((r) => r.method === 'PUT')!.headers['x-aws-ec2-metadata-token-ttl-seconds'],
        ).to.equal('60');
      } finally {
        await imds.close();
      }
    });

    it('gives up after the timeout when nothing answers', async () => {
      const imds = await fakeImds(() => true); // accepts, never answers
      try {
        const started = performance.now();
        const answer = await queryImds({ baseUrl: imds.baseUrl, timeoutMs: 150 });
        const elapsed = performance.now() - started;
        expect(answer).to.deep.equal({ ok: false, reason: 'IMDS gave no answer within 150 ms' });
        expect(elapsed).to.be.lessThan(1_000);
      } finally {
        await imds.close();
      }
    });

    it('reports a refused token and a closed port', async () => {
      const imds = await fakeImds((req, res) => {
        res.writeHead(403).end('forbidden');
        return true;
      });
      try {
        expect(await queryImds({ baseUrl: imds.baseUrl, timeoutMs: 2_000 })).to.deep.equal({
          ok: false,
          reason: 'IMDS token request answered HTTP 403',
        });
      } finally {
        await imds.close();
      }
      expect(await queryImds({ baseUrl: imds.baseUrl, timeoutMs: 2_000 })).to.deep.equal({
        ok: false,
        reason: 'IMDS unreachable: ECONNREFUSED',
      });
    });

    it('drops values that are not an instance type or id', async () => {
      const imds = await fakeImds((req, res) => {
        if (req.url === '/latest/meta-data/instance-type')
          return Boolean(res.writeHead(200).end('<html>portal</html>'));
        return false;
      });
      try {
        expect(await queryImds({ baseUrl: imds.baseUrl, timeoutMs: 2_000 })).to.deep.equal({
          ok: true,
          instanceType: null,
          instanceId: 'i-0123456789abcdef0',
        });
      } finally {
        await imds.close();
      }
    });

    it('uses an injected fetch', async () => {
      const calls: string[] = [];
      const fake: FetchLike = async (url) => {
        calls.push(url);
        return new Response(
          url.endsWith('token') ? 'T' : url.endsWith('instance-type') ? 'm7g.medium' : 'i-0fedcba9876543210',
        );
      };
      expect(await queryImds({ fetch: fake, baseUrl: 'http://imds.invalid/' })).to.deep.equal({
        ok: true,
        instanceType: 'm7g.medium',
        instanceId: 'i-0fedcba9876543210',
      });
      expect(calls[0]).to.equal('http://imds.invalid/latest/api/token');
    });
  });

  describe('probeHost', () => {
    const dirs: string[] = [];
    const dir = (files: Record<string, string>): string => {
      const d = dmiDir(files);
      dirs.push(d);
      return d;
    };
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('reads a Nitro DMI folder without contacting IMDS', async () => {
      const dmiRoot = dir({
        sys_vendor: 'Amazon EC2',
        product_name: 'c7i.large',
        board_asset_tag: 'i-0123456789abcdef0',
      });
      expect(await readDmi(dmiRoot)).to.deep.equal({
        sysVendor: 'Amazon EC2\n',
        productName: 'c7i.large\n',
        boardAssetTag: 'i-0123456789abcdef0\n',
      });
      const facts = await probeHost({ dmiRoot, fetch: forbiddenFetch });
      expect(facts).to.include({
        onEc2: true,
        instanceType: 'c7i.large',
        instanceId: 'i-0123456789abcdef0',
        ec2Source: 'dmi',
      });
      expect(facts.notes).to.deep.equal([]);
    });

    it('never contacts IMDS when DMI names another vendor', async () => {
      const dmiRoot = dir({ sys_vendor: 'QEMU', product_name: 'Standard PC (Q35 + ICH9, 2009)' });
      const facts = await probeHost({ dmiRoot, fetch: forbiddenFetch });
      expect(facts).to.include({ onEc2: false, instanceType: null, instanceId: null, ec2Source: null });
    });

    it('fills a missing instance id from IMDS when DMI says EC2', async () => {
      const imds = await fakeImds();
      try {
        const dmiRoot = dir({ sys_vendor: 'Amazon EC2', product_name: 't3.micro' });
        const facts = await probeHost({ dmiRoot, imdsBaseUrl: imds.baseUrl, imdsTimeoutMs: 2_000 });
        expect(facts).to.include({
          onEc2: true,
          instanceType: 't3.micro',
          instanceId: 'i-0123456789abcdef0',
          ec2Source: 'dmi',
        });
      } finally {
        await imds.close();
      }
    });

    it('asks IMDS when DMI is unreadable, and notes a silent endpoint', async () => {
      const dmiRoot = path.join(os.tmpdir(), 'labgrade-no-such-dmi');
      // In a container on Nitro: DMI hidden, the CPU still says the hypervisor is Amazon's.
      const detectVirt = async (flag: string) => (flag === '--vm' ? 'amazon' : 'docker');
      const imds = await fakeImds();
      try {
        const facts = await probeHost({
          dmiRoot,
          detectVirt,
          imdsBaseUrl: imds.baseUrl,
          imdsTimeoutMs: 2_000,
        });
        expect(facts).to.include({ virtualization: 'amazon', container: 'docker' });
        expect(facts).to.include({
          onEc2: true,
          instanceType: 'c7i.large',
          instanceId: 'i-0123456789abcdef0',
          ec2Source: 'imds',
        });
        expect(facts.notes).to.deep.equal([`DMI unreadable at ${dmiRoot}`]);
      } finally {
        await imds.close();
      }
      const silent = await fakeImds(() => true);
      try {
        const facts = await probeHost({
          dmiRoot,
          detectVirt,
          imdsBaseUrl: silent.baseUrl,
          imdsTimeoutMs: 100,
        });
        expect(facts).to.include({ onEc2: null, instanceType: null, instanceId: null, ec2Source: null });
        expect(facts.notes).to.deep.equal([
          `DMI unreadable at ${dmiRoot}`,
          'IMDS gave no answer within 100 ms',
        ]);
      } finally {
        await silent.close();
      }
    });

    it('does not ask IMDS with DMI unreadable under a hypervisor EC2 never uses (this dev host: bhyve)', async () => {
      const dmiRoot = path.join(os.tmpdir(), 'labgrade-no-such-dmi');
      const detectVirt = async (flag: string) => (flag === '--vm' ? 'bhyve' : 'docker');
      const facts = await probeHost({ dmiRoot, detectVirt, fetch: forbiddenFetch });
      expect(facts).to.include({ onEc2: null, virtualization: 'bhyve', container: 'docker' });
      expect(facts.notes).to.deep.equal([
        `DMI unreadable at ${dmiRoot}`,
        'IMDS not queried: virtualization is bhyve, not EC2',
      ]);
    });

    it('describes this host, passes engine facts through, and skips IMDS when told', async () => {
      const engineInfo = {
        serverVersion: '20.10.24+dfsg1',
        cgroupVersion: 1 as const,
        cgroupDriver: 'cgroupfs' as const,
      };
      const facts = await probeHost({
        engineInfo,
        skipImds: true,
        fetch: forbiddenFetch,
        dmiRoot: path.join(os.tmpdir(), 'labgrade-no-such-dmi'),
      });
      expect(facts.engine).to.deep.equal(engineInfo);
      expect(facts).to.include({
        hostname: os.hostname(),
        kernel: os.release(),
        arch: os.arch(),
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
        nodeVersion: process.version,
        onEc2: null,
        instanceType: null,
        instanceId: null,
      });
      expect(facts.os).to.be.a('string').and.not.equal('');
      expect(facts.cpusAvailable).to.be.within(1, facts.cpus);
      expect(facts.physicalCores === null || facts.physicalCores >= 1).to.equal(true);
      expect(facts.virtualization === null || /^[a-z0-9_-]+$/.test(facts.virtualization)).to.equal(true);
      expect(facts.notes).to.include('IMDS not queried (skipImds)');
      expect(facts.probeMs).to.be.within(0, 5_000);
      expect(Object.keys(facts).sort()).to.deep.equal([
        'arch',
        'container',
        'cpuModel',
        'cpus',
        'cpusAvailable',
        'ec2Source',
        'engine',
        'hostname',
        'instanceId',
        'instanceType',
        'kernel',
        'memoryBytes',
        'nodeVersion',
        'notes',
        'onEc2',
        'os',
        'physicalCores',
        'probeMs',
        'virtualization',
      ]);
    });
  });
});
