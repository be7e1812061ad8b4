/** The batch's builds ahead of grading use the image-build check's own options, lab settings included. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { prebuild } from '../../../graders/batch/prebuild.ts';
import { BUILD_LOG_CHARS, studentBuildOptions } from '../../../graders/checks/image-build.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { loadLab } from '../../../graders/lab-spec.ts';
import type { BuildOptions, BuildResult, ContainerEngine } from '../../../harness/engine/engine.ts';

const LABS = fileURLToPath(new URL('../../../labs/', import.meta.url));

describe('batch prebuild', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'labgrade-prebuild-'));
    cpSync(path.join(LABS, 'tutorial7'), path.join(root, 'tutorial7'), { recursive: true });
    const file = path.join(root, 'tutorial7', 'lab.yaml');
    const text = readFileSync(file, 'utf8').replace(
      /(kind: image-build\n(\s+)title: .*\n)/,
      '$1$2params: { pidsLimit: 300, timeoutSeconds: 100, network: none }\n',
    );
    expect(text).to.contain('pidsLimit: 300');
    writeFileSync(file, text);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("builds with the lab's image-build settings, exactly as the check does", async () => {
    const lab = await loadLab('tutorial7', root, paramSchemas());
    const seen: BuildOptions[] = [];
    const engine = {
      build: async (o: BuildOptions): Promise<BuildResult> => {
        seen.push(o);
        return { ok: true } as BuildResult;
      },
    } as unknown as ContainerEngine;
    const dir = path.join(root, 'tutorial7', 'reference');
    const signal = new AbortController().signal;
    expect(await prebuild(engine, lab, dir, signal)).to.equal(true);
    expect(seen).to.have.length(1);
    const o = seen[0]!;
    expect(o.pidsLimit).to.equal(300);
    expect(o.timeoutMs).to.equal(100_000);
    expect(o.networkMode).to.equal('none');
    expect(o.maxLogChars).to.equal(BUILD_LOG_CHARS);
    const spec = lab.spec.checks.find((c) => c.kind === 'image-build')!;
    expect(o).to.deep.equal(
      studentBuildOptions(lab, lab.params.get(spec.id) ?? {}, dir, 'Dockerfile', signal),
    );
  });
});
