/**
 * `labgrade doctor`'s engine findings on real `docker version` / `docker info` output captured on
 * the engines students run (test/fixtures/engines/, copied from shared/reference/samples with their
 * source lines) and on this project's own 20.10 engine. The text is turned into the fields the
 * Engine API gives (`docker info` prints GET /info's Driver and DriverStatus rows, `docker version`
 * prints GET /version's components), then into findings.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { compareVersions, engineFindings, versionParts } from '../../cli/doctor.ts';
import { imageStoreOf } from '../../harness/engine/docker-engine.ts';
import type { EngineInfo } from '../../harness/engine/engine.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/engines');

/** The EngineInfo fields a captured `docker version` + `docker info` text shows. */
function infoFromText(file: string): EngineInfo {
  const text = readFileSync(path.join(DIR, file), 'utf8');
  const lines = text.split('\n');
  const after = (re: RegExp) => {
    const m = lines.map((l) => re.exec(l)).find((x) => x);
    return m ? m[1]!.trim() : '';
  };
  // docker version's Server part: " Engine:" then "  Version:", "  API version: 1.52 (minimum version 1.44)".
  const serverAt = lines.findIndex(
    (l) => /^Server:\s*$/.test(l) && /^\s+Engine:/.test(lines[lines.indexOf(l) + 1] ?? ''),
  );
  const component = (name: string) => {
    if (serverAt < 0) return '';
    const at = lines.findIndex((l, i) => i > serverAt && l === ` ${name}:`);
    return at < 0 ? '' : (/^\s+Version:\s*(.*)$/.exec(lines[at + 1] ?? '')?.[1] ?? '').trim();
  };
  const apiLine = serverAt < 0 ? '' : (lines.slice(serverAt).find((l) => /API version:/.test(l)) ?? '');
  const api = /API version:\s*([\d.]+)(?:\s*\(minimum version ([\d.]+)\))?/.exec(apiLine);
  // DriverStatus: the indented "key: value" rows under "Storage Driver:".
  const sd = lines.findIndex((l) => /^ Storage Driver:/.test(l));
  const status: string[][] = [];
  for (let i = sd + 1; sd >= 0 && /^ {2}\S/.test(lines[i] ?? ''); i++) {
    const [k, ...v] = lines[i]!.trim().split(':');
    status.push([k!, v.join(':').trim()]);
  }
  const runcInfo = after(/^ runc version:(.*)$/);
  const cg = after(/^ Cgroup Version:(.*)$/);
  const drv = after(/^ Cgroup Driver:(.*)$/);
  return {
    serverVersion: after(/^ Server Version:(.*)$/) || component('Engine'),
    apiVersion: api?.[1] ?? '',
    apiMinVersion: api?.[2] ?? '',
    // Ubuntu's docker.io leaves `runc version:` empty in docker info; docker version has it.
    runcVersion: component('runc') || runcInfo || null,
    containerdVersion: component('containerd') || null,
    storageDriver: after(/^ Storage Driver:(.*)$/),
    imageStore: imageStoreOf(status),
    cgroupVersion: cg === '2' ? 2 : cg === '1' ? 1 : null,
    cgroupDriver: drv === 'systemd' || drv === 'cgroupfs' ? drv : null,
    os: '',
    kernel: after(/^ Kernel Version:(.*)$/),
    cpus: 0,
    memoryBytes: 0,
    host: 'unix:///var/run/docker.sock',
    local: true,
    architecture: '',
    name: '',
  };
}

const text = (f: ReturnType<typeof engineFindings>) => f.map((x) => `${x.level}: ${x.message}`).join('\n');

describe('doctor: engine findings on captured docker version/info output', () => {
  it('Ubuntu 24.04 docker.io 29.1.3: API 1.52 (min 1.44), containerd store, runc 1.3.4 (new weight formula), no warning', () => {
    const i = infoFromText('docker-info-docker.io-29.1.3-ubuntu24.04.txt');
    expect(i).to.include({
      serverVersion: '29.1.3',
      apiVersion: '1.52',
      apiMinVersion: '1.44',
      imageStore: 'containerd',
      storageDriver: 'overlayfs',
      cgroupVersion: 2,
      cgroupDriver: 'systemd',
      containerdVersion: '2.2.1',
    });
    const f = engineFindings(i);
    const t = text(f);
    expect(
      f.every((x) => x.level === 'ok'),
      t,
    ).to.equal(true);
    expect(t).to.include('Docker engine 29.1.3 (API 1.52, oldest accepted 1.44)');
    expect(t).to.include('containerd image store (snapshotter overlayfs); containerd 2.2.1');
    expect(t).to.match(/runc 1\.3\.4-0ubuntu1~24\.04\.1 .*1024 → 100/);
  });

  it('Ubuntu 24.04 docker.io 26.1.3: graph driver overlay2, runc 1.1.12 (old formula)', () => {
    const i = infoFromText('docker-info-docker.io-26.1.3-ubuntu24.04.txt');
    expect(i).to.include({
      serverVersion: '26.1.3',
      apiVersion: '1.45',
      imageStore: 'graph',
      storageDriver: 'overlay2',
    });
    const t = text(engineFindings(i));
    expect(t).to.include('graph driver overlay2');
    expect(t).to.match(/runc 1\.1\.12\S* .*1024 → 39/);
    expect(t).not.to.include('warn:');
  });

  it('docker-ce 28.3.2 on EC2 (docker info only): runc from `runc version:`, API unknown', () => {
    const i = infoFromText('docker-info-docker-ce-28.3.2-ubuntu24.04-ec2.txt');
    expect(i).to.include({ serverVersion: '28.3.2', imageStore: 'graph', cgroupDriver: 'systemd' });
    const t = text(engineFindings(i));
    expect(t).to.include('Docker engine 28.3.2 (API unknown)');
    expect(t).to.match(/runc v1\.2\.5-0-g59923ef .*1024 → 39/);
  });

  it("Debian 12 docker.io 20.10.24 (this project's engine): the oldest tested, no warning; cgroup v1 → no weight note", () => {
    const i = infoFromText('docker-info-docker.io-20.10.24-debian12.txt');
    expect(i).to.include({
      serverVersion: '20.10.24+dfsg1',
      apiVersion: '1.41',
      apiMinVersion: '1.12',
      imageStore: 'graph',
      cgroupVersion: 1,
    });
    const t = text(engineFindings(i));
    expect(t).not.to.include('warn:');
    expect(t).to.include('runc 1.1.5+ds1');
    expect(t).not.to.include('cpu.weight');
  });

  it('an engine older than the oldest tested (19.03) → a warning that says what to do', () => {
    const i = {
      ...infoFromText('docker-info-docker.io-20.10.24-debian12.txt'),
      serverVersion: '19.03.13',
      apiVersion: '1.40',
    };
    const f = engineFindings(i);
    const w = f.filter((x) => x.level === 'warn');
    expect(w, text(f)).to.have.length(1);
    expect(w[0]!.message).to.include('older than the oldest engine labgrade is tested on (20.10)');
    expect(w[0]!.message).to.include('upgrade Docker');
  });

  it('an engine and API newer than any tested → a warning; an unparsable version → a warning', () => {
    const base = infoFromText('docker-info-docker.io-29.1.3-ubuntu24.04.txt');
    expect(text(engineFindings({ ...base, serverVersion: '31.0.0', apiVersion: '1.55' }))).to.include(
      'newer than any engine or API',
    );
    expect(text(engineFindings({ ...base, serverVersion: 'dev' }))).to.include('not understood');
  });

  it('version comparison: numeric, not textual, and tolerant of distro suffixes', () => {
    expect(versionParts('20.10.24+dfsg1')).to.deep.equal([20, 10, 24]);
    expect(versionParts('v1.3.0-0-g4ca628d1')).to.deep.equal([1, 3, 0]);
    expect(compareVersions('9.0', '20.10')).to.be.lessThan(0);
    expect(compareVersions('1.3.10', '1.3.2')).to.be.greaterThan(0);
    expect(compareVersions('28.5.2', '28.5')).to.be.greaterThan(0);
    expect(compareVersions('20.10', '20.10.0')).to.equal(0);
  });
});
