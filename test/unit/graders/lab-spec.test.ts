import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decodeTextFile, firstInvalidUtf8, parseByteSize, parseLabSpec } from '../../../graders/lab-spec.ts';
import { labRules, paramSchemas } from '../../../graders/checks/index.ts';

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
  it('artifacts: a role from the file name unless declared; a second dockerfile or manifest is refused', () => {
    const lab = parseLabSpec(
      `id: demo\ntitle: Demo\nartifacts:\n  build-file: { path: Dockerfile }\n  probe: { path: mem.sh }\n  notes: { path: notes.txt }\n  table: { path: answers.yml, role: manifest }\nchecks:\n  - { id: b, kind: image-build, title: B, points: 1 }\n`,
      'lab.yaml',
      kinds,
    );
    const roles = Object.fromEntries(Object.entries(lab.spec.artifacts).map(([n, a]) => [n, a.role]));
    expect(roles).to.deep.equal({
      'build-file': 'dockerfile',
      probe: 'script',
      notes: 'file',
      table: 'manifest',
    });
    const msg = errorOf(() =>
      parseLabSpec(
        `id: demo\ntitle: Demo\nartifacts:\n  a: { path: Dockerfile }\n  b: { path: other, role: dockerfile }\nchecks:\n  - { id: b, kind: image-build, title: B, points: 1 }\n`,
        'lab.yaml',
        kinds,
      ),
    );
    expect(msg).to.match(/lab\.yaml:5 artifacts\.b\.role: a second dockerfile \(a, b\)/);
  });

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

  it('a measurement table the check requires must be one the lab declares (said at load, with its line)', () => {
    const lab = (require: string) =>
      `id: demo\ntitle: Demo lab\nartifacts:\n  manifest: { path: submission.yaml, required: true }\n` +
      `manifest:\n  tables:\n    oom: oom-limits\n    cpu: cpu-scaling\nchecks:\n` +
      `  - id: tables\n    kind: measurement-table\n    title: Tables\n    points: 5\n    params:\n      require: ${require}\n`;
    const msg = errorOf(() => parseLabSpec(lab('[oom, cpuScaling]'), 'lab.yaml', kinds, labRules()));
    expect(msg).to.match(
      /lab\.yaml:\d+ checks\[0\]\.params: require names "cpuScaling", which manifest\.tables does not declare \(declared: oom, cpu\)/,
    );
    expect(parseLabSpec(lab('[oom]'), 'lab.yaml', kinds, labRules()).params.get('tables')).to.deep.include({
      require: ['oom'],
    });
    // Without the rules (a loader that only checks params) the same file loads.
    expect(() => parseLabSpec(lab('[oom, cpuScaling]'), 'lab.yaml', kinds)).to.not.throw();
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

  it('syntax errors name the line a person must look at, the field, and what is wrong', function () {
    // 20 000 open brackets: the YAML parser recurses until the stack gives out (about 9 s on a
    // quiet 2-vCPU host, more under load) before we turn its failure into the message below.
    this.timeout(60_000);
    const two = '  - id: a\n    kind: image-build\n    title: A\n    points: 1\n  - id: b\n    kind: tools\n';
    // A tab: the line of the tab, after the field it follows.
    expect(
      errorOf(() => parseLabSpec(minimal(`${two}\ttitle: B\n    points: 1\n`), 'l.yaml', kinds)),
    ).to.equal(
      'l.yaml:12 after checks[1].kind: a tab is used for indentation; YAML indents with spaces only',
    );
    // An unclosed quote: the parser notices at the end of the file; the message names where it opens.
    expect(
      errorOf(() => parseLabSpec(minimal(`${two}    title: "B\n    points: 1\n`), 'l.yaml', kinds)),
    ).to.equal(
      'l.yaml:12 checks[1].title: a quoted value that starts on this line is never closed (missing closing quote)',
    );
    expect(
      errorOf(() =>
        parseLabSpec(minimal(`${two}    title: B\n    points: 1\n    points: 2\n`), 'l.yaml', kinds),
      ),
    ).to.equal(
      'l.yaml:14 checks[1].points: the key "points" appears twice in the same mapping (keys must be unique)',
    );
    expect(errorOf(() => parseLabSpec(`id: x\ntitle: ${'['.repeat(20000)}`, 'd.yaml', kinds))).to.equal(
      'd.yaml:2 nested too deeply to read (hundreds of levels of brackets or indentation)',
    );
    expect(errorOf(() => parseLabSpec('# nothing here\n', 'e.yaml', kinds))).to.match(
      /^e\.yaml: the file holds no YAML/,
    );
  });

  it('refuses a need on the check itself or on a later check (checks run in order)', () => {
    const self = minimal('  - { id: a, kind: image-build, title: A, points: 1, needs: [a] }\n');
    expect(errorOf(() => parseLabSpec(self, 'l.yaml', kinds))).to.match(
      /checks\[0\]\.needs\[0\]: needs itself \("a"\)/,
    );
    const later = minimal(
      '  - { id: a, kind: tools, title: A, points: 1, needs: [b] }\n  - { id: b, kind: image-build, title: B, points: 1 }\n',
    );
    expect(errorOf(() => parseLabSpec(later, 'l.yaml', kinds))).to.include(
      'l.yaml:6 checks[0].needs[0]: needs "b", which comes later (checks run in the listed order): list "b" before "a"',
    );
  });

  it('reads text files as UTF-8 only, saying where they are not', () => {
    expect(decodeTextFile(Buffer.from('\uFEFFid: x\n'))).to.deep.equal({ ok: true, text: 'id: x\n' });
    expect(decodeTextFile(Buffer.from('ü ✓ 😀\n'))).to.deep.equal({ ok: true, text: 'ü ✓ 😀\n' });
    expect(decodeTextFile(Buffer.from('id: x\ntitle: \xdcbung\n', 'latin1'))).to.deep.equal({
      ok: false,
      why: 'it is not UTF-8 text (byte 0xdc at line 2, column 8): save it as UTF-8',
    });
    expect(decodeTextFile(Buffer.from('\uFEFFid: x', 'utf16le'))).to.deep.include({ ok: false });
    expect(decodeTextFile(Buffer.from('id: x\0\n'))).to.deep.equal({
      ok: false,
      why: 'it is not a text file (a NUL byte at line 1, column 6)',
    });
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ])
      expect(firstInvalidUtf8(Uint8Array.from([0x41, ...bad])), bad.join(' ')).to.equal(1);
    expect(firstInvalidUtf8(Buffer.from('plain ascii and ü'))).to.equal(-1);
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
    expect(text).to.include('"cpuMethod"');
  });
});
