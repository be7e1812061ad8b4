import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseByteSize, parseLabSpec } from '../../../graders/lab-spec.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';

const kinds = paramSchemas();
const minimal = (checks: string) =>
  `id: demo\ntitle: Demo lab\nartifacts:\n  dockerfile: { path: Dockerfile, required: true }\nchecks:\n${checks}`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('lab spec', () => {
  it('loads labs/tutorial7/lab.yaml with every check kind validated', () => {
    const lab = parseLabSpec(
      readFileSync('labs/tutorial7/lab.yaml', 'utf8'),
      'labs/tutorial7/lab.yaml',
      kinds,
    );
    expect(lab.spec.checks.map((c) => c.id)).to.include.members([
      'dockerfile',
      'build',
      'scaling-cpu',
      'measurements',
    ]);
    expect(lab.spec.checks.reduce((a, c) => a + c.points, 0)).to.equal(100);
    expect(lab.params.get('scaling-memory')).to.deep.include({ workloadLimit: 134217728 });
    expect(lab.spec.build.maxContextSize).to.equal(64 * 1024 ** 2);
  });

  it('a second lab is YAML alone (defaults fill the rest)', () => {
    const lab = parseLabSpec(
      minimal('  - { id: build, kind: image-build, title: Builds, points: 5 }\n'),
      'x.yaml',
      kinds,
    );
    expect(lab.spec.window.seconds).to.equal(4);
    expect(lab.spec.tolerance).to.equal(0.1);
    expect(lab.params.get('build')).to.deep.equal({ network: 'default' });
  });

  it('names file, line and field for a wrong type', () => {
    const text = minimal('  - id: build\n    kind: image-build\n    title: Builds\n    points: ten\n');
    const msg = errorOf(() => parseLabSpec(text, 'labs/x/lab.yaml', kinds));
    expect(msg).to.match(/labs\/x\/lab\.yaml:9 checks\[0\]\.points: .*expected number.*got "ten"/);
  });

  it('names the field inside a kind’s params', () => {
    const text = minimal(
      '  - id: cpu\n    kind: scaling-cpu\n    title: CPU\n    points: 5\n    params:\n      cpus: [0.5, -1]\n',
    );
    const msg = errorOf(() => parseLabSpec(text, 'lab.yaml', kinds));
    expect(msg).to.match(/lab\.yaml:11 checks\[0\]\.params\.cpus\[1\]/);
  });

  it('refuses unknown kinds, unknown fields, duplicate ids and needs of unknown checks', () => {
    expect(
      errorOf(() =>
        parseLabSpec(minimal('  - { id: a, kind: nope, title: A, points: 1 }\n'), 'l.yaml', kinds),
      ),
    ).to.match(/unknown check kind "nope" \(known: .*image-build/);
    expect(
      errorOf(() =>
        parseLabSpec(
          minimal('  - { id: a, kind: image-build, title: A, points: 1, pionts: 2 }\n'),
          'l.yaml',
          kinds,
        ),
      ),
    ).to.match(/pionts/);
    expect(
      errorOf(() =>
        parseLabSpec(
          minimal(
            '  - { id: a, kind: image-build, title: A, points: 1 }\n  - { id: a, kind: tools, title: B, points: 1 }\n',
          ),
          'l.yaml',
          kinds,
        ),
      ),
    ).to.match(/duplicate check id "a"/);
    expect(
      errorOf(() =>
        parseLabSpec(
          minimal('  - { id: a, kind: tools, title: A, points: 1, needs: [build] }\n'),
          'l.yaml',
          kinds,
        ),
      ),
    ).to.match(/needs unknown check "build"/);
  });

  it('reports YAML syntax errors with their line, and refuses alias bombs', () => {
    expect(errorOf(() => parseLabSpec('id: x\ntitle: [unclosed\n', 'bad.yaml', kinds))).to.match(
      /^bad\.yaml:\d+ /,
    );
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)}]`,
      );
    expect(errorOf(() => parseLabSpec(bomb.join('\n'), 'bomb.yaml', kinds))).to.match(/bomb\.yaml: .*alias/i);
  });

  it('parseByteSize reads Docker-style sizes', () => {
    expect(parseByteSize('128m')).to.equal(134217728);
    expect(parseByteSize('1g')).to.equal(1073741824);
    expect(parseByteSize('512k')).to.equal(524288);
    expect(parseByteSize(42)).to.equal(42);
    expect(parseByteSize('1.5G')).to.equal(1610612736);
  });
});

describe('lab JSON schema', () => {
  it('labs/lab.schema.json is what the code generates (run `npm run schema` after changing a schema)', async () => {
    const { labJsonSchemaText } = await import('../../../graders/lab-schema.ts');
    expect(readFileSync('labs/lab.schema.json', 'utf8')).to.equal(labJsonSchemaText());
  });

  it('describes every check kind with its params', async () => {
    const { labJsonSchema } = await import('../../../graders/lab-schema.ts');
    const text = JSON.stringify(labJsonSchema());
    for (const kind of Object.keys(kinds)) expect(text).to.include(`"const":"${kind}"`);
    expect(text).to.include('"throughputTolerance"');
  });
});
