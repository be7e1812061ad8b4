// submission.yaml's measurement values written the way people write numbers (graders/manifest-values.ts,
// through parseManifest): each accepted form with the exact note that names its field, each refused
// form with the exact error that names the field, quotes the value and says what is expected.
import { expect } from 'chai';
import { parseManifest } from '../../../graders/manifest.ts';

/** A table as the tests read it (its kind's schema checked it). */
type Table = { runs: Array<{ throughput: number }>; cpuPercent: number[] };

/** A cpuScaling table whose second run's throughput is `v` (line 7), with `unit:` as given. */
const cpu = (v: string, unit = 'bogo ops/s (real time)') =>
  `measurements:\n  cpuScaling:\n    unit: ${unit}\n    runs:\n      - { cpus: 1, throughput: 1000 }\n      - cpus: 2\n        throughput: ${JSON.stringify(v)}\n`;
/** A memoryScaling table whose second run's throughput is `v` (line 7). */
const mem = (v: string, unit = 'MiB/s') =>
  `measurements:\n  memoryScaling:\n    unit: ${unit}\n    runs:\n      - { memory: 256m, throughput: 9100 }\n      - memory: 512m\n        throughput: ${JSON.stringify(v)}\n`;
/** A cpuIsolation table whose first CPU percentage is `v` (line 4). */
const pct = (v: string) =>
  `measurements:\n  cpuIsolation:\n    shares: [1024, 512]\n    cpuPercent: [${JSON.stringify(v)}, 33.4]\n`;
/** A cpuScaling table whose second run's --cpus is `v` (line 5). */
const cpus = (v: string) =>
  `measurements:\n  cpuScaling:\n    runs:\n      - { cpus: 1, throughput: 1000 }\n      - { cpus: ${JSON.stringify(v)}, throughput: 2000 }\n`;

/** Every note and error on values, in one list (a table used has notes; a refused one an error). */
function said(text: string): string[] {
  const r = parseManifest(text);
  if (!r.ok) return [r.error];
  return [...Object.values(r.partNotes ?? {}).flat(), ...Object.values(r.errors ?? {})].filter(
    (x): x is string => !!x,
  );
}

const CPU_RUN1 = 'submission.yaml measurements.cpuScaling.runs[1].throughput: ';
const MEM_RUN1 = 'submission.yaml measurements.memoryScaling.runs[1].throughput: ';
const PCT0 = 'submission.yaml measurements.cpuIsolation.cpuPercent[0]: ';
const CPUS1 = 'submission.yaml measurements.cpuScaling.runs[1].cpus: ';
const CPU_EXPECTED = 'expected a number such as 598.3, or with its unit: "598.3 bogo ops/s"';
const MEM_EXPECTED = 'expected a number such as 9100, or with its unit: "9100 MiB/s"';
const PCT_EXPECTED = 'expected a CPU percentage such as 66.2 or "66.2%"';
const CPUS_EXPECTED = 'expected a --cpus value such as 0.5 or 2';

describe('submission.yaml: numbers as people write them', () => {
  it('the measured cases: "598.3 bogo ops/s" and ["66.2%", 33.4] are read, each with a note naming its field and line', () => {
    const r = parseManifest(
      'measurements:\n  cpuScaling:\n    runs:\n      - { cpus: 0.5, throughput: "598.3 bogo ops/s" }\n      - { cpus: 1, throughput: 1200 }\n  cpuIsolation:\n    shares: [1024, 512]\n    cpuPercent: ["66.2%", 33.4]\n',
    );
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.errors).to.equal(undefined);
    expect(r.notes).to.equal(undefined); // value notes are the tables' own (partNotes), not the file's
    expect(
      (r.manifest.measurements?.cpuScaling as Table | undefined)?.runs.map((x) => x.throughput),
    ).to.deep.equal([598.3, 1200]);
    expect((r.manifest.measurements?.cpuIsolation as Table | undefined)?.cpuPercent).to.deep.equal([
      66.2, 33.4,
    ]);
    expect(r.partNotes).to.deep.equal({
      'measurements.cpuScaling': [
        'submission.yaml measurements.cpuScaling.runs[0].throughput: read "598.3 bogo ops/s" as 598.3 (line 4)',
      ],
      'measurements.cpuIsolation': [
        'submission.yaml measurements.cpuIsolation.cpuPercent[0]: read "66.2%" as 66.2 (line 8)',
      ],
    });
  });

  it('a throughput: units of the field, in any spelling; separators; spaces around', () => {
    const cases: Array<[string, number]> = [
      ['598.3 bogo ops/s', 598.3],
      ['598.3 bogo-ops/s', 598.3],
      ['598.3 bogo ops/s (real time)', 598.3],
      ['598.3 Bogo Ops per second', 598.3],
      ['598.3 ops/sec', 598.3], // stress-ng's ops are its bogo ops
      ['598.3', 598.3],
      [' 1684 ', 1684],
      ['1,684', 1684],
      ['1,684.5', 1684.5],
      ['1.684,5', 1684.5],
      ['842,5', 842.5],
      ['9 100', 9100],
      ['9\u202f100 bogo ops/s', 9100],
      ["1'684", 1684],
      ['1.2e3', 1200],
    ];
    for (const [v, n] of cases)
      expect(said(cpu(v)), v).to.deep.equal([`${CPU_RUN1}read ${JSON.stringify(v)} as ${n} (line 7)`]);
    expect(said(cpu('1200 events/s', 'events/s'))).to.deep.equal([
      `${CPU_RUN1}read "1200 events/s" as 1200 (line 7)`,
    ]);
  });

  it('a memory throughput: binary units are converted into the declared unit:, exactly, with the factor named', () => {
    expect(said(mem('9100 MiB/s'))).to.deep.equal([`${MEM_RUN1}read "9100 MiB/s" as 9100 (line 7)`]);
    expect(said(mem('9169 MiB/sec'))).to.deep.equal([`${MEM_RUN1}read "9169 MiB/sec" as 9169 (line 7)`]);
    expect(said(mem('9,100 mib/s'))).to.deep.equal([`${MEM_RUN1}read "9,100 mib/s" as 9100 (line 7)`]);
    expect(said(mem('9.1 GiB/s'))).to.deep.equal([
      `${MEM_RUN1}read "9.1 GiB/s" as 9318.4 (MiB/s, the table's unit: 1 GiB = 1024 MiB) (line 7)`,
    ]);
    expect(said(mem('9318400 KiB/s'))).to.deep.equal([
      `${MEM_RUN1}read "9318400 KiB/s" as 9100 (MiB/s, the table's unit: 1 MiB = 1024 KiB) (line 7)`,
    ]);
    const r = parseManifest(mem('9.1 GiB/s'));
    expect(
      r.ok && (r.manifest.measurements?.memoryScaling as Table | undefined)?.runs[1]?.throughput,
    ).to.equal(9.1 * 1024);
    // The same decimal unit as the table's is read as written; no unit: declared, nothing converted.
    expect(said(mem('9100 MB/s', 'MB/s'))).to.deep.equal([`${MEM_RUN1}read "9100 MB/s" as 9100 (line 7)`]);
    expect(said(mem('9.1 GiB/s', 'sysbench'))).to.deep.equal([`${MEM_RUN1}read "9.1 GiB/s" as 9.1 (line 7)`]);
  });

  it('a CPU percentage: %, percent, a decimal comma (never a thousands separator)', () => {
    const cases: Array<[string, number]> = [
      ['66.2%', 66.2],
      ['66.2 %', 66.2],
      ['66,2%', 66.2],
      ['66.2 percent', 66.2],
      ['66,667', 66.667],
      [' 66.2 ', 66.2],
    ];
    for (const [v, n] of cases)
      expect(said(pct(v)), v).to.deep.equal([`${PCT0}read ${JSON.stringify(v)} as ${n} (line 4)`]);
  });

  it('--cpus and shares: a number as text, a decimal comma, a CPUs unit; shares with a thousands separator', () => {
    for (const [v, n] of [
      ['0.5', 0.5],
      ['0,5', 0.5],
      ['2 cpus', 2],
      ['2 cores', 2],
    ] as const)
      expect(said(cpus(v)), v).to.deep.equal([`${CPUS1}read ${JSON.stringify(v)} as ${n} (line 5)`]);
    expect(
      said('measurements:\n  cpuIsolation:\n    shares: ["1,024", "512"]\n    cpuPercent: [66, 34]\n'),
    ).to.deep.equal([
      'submission.yaml measurements.cpuIsolation.shares[0]: read "1,024" as 1024 (line 3)',
      'submission.yaml measurements.cpuIsolation.shares[1]: read "512" as 512 (line 3)',
    ]);
  });

  it('refuses a throughput that cannot be read, naming the field, quoting the value and saying what is expected', () => {
    const cases: Array<[string, string]> = [
      ['about 600', ': text before the number ("about") is not read'],
      ['~600', ': text before the number ("~") is not read'],
      ['fast', ''],
      ['', ''],
      ['1,684,5', ': a comma cannot separate thousands and mark the decimals at once'],
      ['1,68,400', ': thousands separators stand between groups of three digits'],
      ['5.', ': a separator stands at its start or end, or two stand together'],
      ['12 ops', ': "ops" is not a unit of a throughput here (expected bogo ops/s, ops/s or events/s)'],
      ['12 MiB/s', ': "MiB/s" is not a unit of a throughput here (expected bogo ops/s, ops/s or events/s)'],
      [
        '598.3 bogo ops/s (usr+sys time)',
        ': "bogo ops/s (usr+sys time)" is not a unit of a throughput here (expected bogo ops/s, ops/s or events/s)',
      ],
      ['1.2k', ': "k" is not read as a multiplier (×1000 or ×1024?): write the number your tool printed'],
      [
        '1.2k ops/s',
        ': "k" is not read as a multiplier (×1000 or ×1024?): write the number your tool printed',
      ],
      ['3M', ': "M" is not read as a multiplier (×1000 or ×1024?): write the number your tool printed'],
      ['1e400', ': it is too large to be a number'],
      [
        '1200 events/s',
        ": it is in events/s and the table's unit: is bogo ops/s; sysbench events and stress-ng bogo ops are different counts",
      ],
    ];
    for (const [v, why] of cases)
      expect(said(cpu(v)), v).to.deep.equal([
        `${CPU_RUN1}${CPU_EXPECTED}, got ${JSON.stringify(v)}${why} (line 7)`,
      ]);
    expect(said(cpu('x'.repeat(61)))).to.deep.equal([
      `${CPU_RUN1}${CPU_EXPECTED}, got "${'x'.repeat(36)}…: it is longer than 60 characters (line 7)`,
    ]);
    // Read, then refused by the table's bounds: quoted as written.
    expect(said(cpu('-5 ops/s'))).to.deep.equal([
      `${CPU_RUN1}Too small: expected number to be >=0.000001, got -5 (read from "-5 ops/s") (line 7)`,
    ]);
  });

  it("refuses a memory unit that contradicts the table's, unless the conversion is exact and obvious", () => {
    const decimal =
      'kB/s, MB/s and GB/s mean 1000ⁿ bytes to some tools and 1024ⁿ to others, so it is not converted: write it in MiB/s';
    expect(said(mem('9100 MB/s'))).to.deep.equal([
      `${MEM_RUN1}${MEM_EXPECTED}, got "9100 MB/s": it is in MB/s and the table's unit: is MiB/s; ${decimal} (line 7)`,
    ]);
    expect(said(mem('9100 Mbit/s'))).to.deep.equal([
      `${MEM_RUN1}${MEM_EXPECTED}, got "9100 Mbit/s": "Mbit/s" is not a unit of a throughput here (expected B/s, KiB/s, MiB/s, GiB/s, kB/s, MB/s or GB/s) (line 7)`,
    ]);
    expect(said(mem('9.1G'))).to.deep.equal([
      `${MEM_RUN1}${MEM_EXPECTED}, got "9.1G": "G" is not read as a multiplier (×1000 or ×1024?): write the number your tool printed (line 7)`,
    ]);
    // No unit: declared: runs in different units are not converted into each other.
    expect(
      said(
        'measurements:\n  memoryScaling:\n    runs:\n      - { memory: 256m, throughput: "9.1 GiB/s" }\n      - { memory: 512m, throughput: "9169 MiB/s" }\n',
      ),
    ).to.deep.equal([
      `${MEM_RUN1}${MEM_EXPECTED}, got "9169 MiB/s": it is in MiB/s and runs[0].throughput is in GiB/s; write every run in one unit, or name it in unit: to have the others converted (line 5)`,
    ]);
  });

  it('refuses a percentage with a thousands separator or another unit, and a --cpus percentage', () => {
    expect(said(pct('1,684.5%'))).to.deep.equal([
      `${PCT0}${PCT_EXPECTED}, got "1,684.5%": the comma would be a thousands separator, and a CPU percentage has none (line 4)`,
    ]);
    expect(said(pct('66.2 ops/s'))).to.deep.equal([
      `${PCT0}${PCT_EXPECTED}, got "66.2 ops/s": "ops/s" is not a unit of a CPU percentage here (expected %) (line 4)`,
    ]);
    expect(said(cpus('50%'))).to.deep.equal([
      `${CPUS1}${CPUS_EXPECTED}, got "50%": a percentage is not a --cpus value (of one CPU or of the host?): write the --cpus you ran, 0.5 for half a CPU (line 5)`,
    ]);
    expect(
      said('measurements:\n  cpuIsolation:\n    shares: [1024, "512 shares"]\n    cpuPercent: [66, 34]\n'),
    ).to.deep.equal([
      'submission.yaml measurements.cpuIsolation.shares[1]: expected a whole number such as 1024, got "512 shares": a shares value has no unit (line 3)',
    ]);
  });

  it('names the comma that YAML itself split inside { … } or [ … ]', () => {
    expect(
      said(
        'measurements:\n  cpuScaling:\n    runs:\n      - { cpus: 1, throughput: 1,684 }\n      - { cpus: 2, throughput: 3000 }\n',
      ),
    ).to.deep.equal([
      'submission.yaml line 4: unknown key "684" in measurements.cpuScaling.runs[0]; expected cpus, throughput; inside { … } a comma separates entries, so a number written with a comma (1,684) must be in quotes',
    ]);
    expect(
      said('measurements:\n  cpuIsolation:\n    shares: [1024, 512]\n    cpuPercent: [66,2, 33,4]\n'),
    ).to.deep.equal([
      'submission.yaml measurements.cpuIsolation.cpuPercent: expected two values, got [66,2,33,4]: inside [ … ] a comma separates items, so write a number with a comma in quotes ("66,2") or with a dot (line 4)',
    ]);
    // Three values written with dots are just three values: the schema says so.
    expect(
      said('measurements:\n  cpuIsolation:\n    shares: [1024, 512]\n    cpuPercent: [66.2, 33.4, 1]\n')[0],
    ).to.match(
      /^submission\.yaml measurements\.cpuIsolation\.cpuPercent: Too big: expected array to have <=2 items/,
    );
  });

  it('a refused table keeps no notes; many values read give at most six notes and a count', () => {
    const refused = parseManifest(
      'measurements:\n  cpuScaling:\n    runs:\n      - { cpus: 1, throughput: "1,000" }\n      - { cpus: 2, throughput: "about 2000" }\n',
    );
    expect(refused.ok && Object.keys(refused.errors ?? {})).to.deep.equal(['measurements.cpuScaling']);
    expect(refused.ok && refused.partNotes).to.equal(undefined);
    const runs = Array.from(
      { length: 9 },
      (_, i) => `      - { cpus: "${i + 1}", throughput: "${(i + 1) * 1000} ops/s" }`,
    );
    const r = parseManifest(`measurements:\n  cpuScaling:\n    runs:\n${runs.join('\n')}\n`);
    const notes = r.ok ? r.partNotes?.['measurements.cpuScaling'] : undefined;
    expect(notes).to.have.length(7);
    expect(notes?.[6]).to.equal(
      'submission.yaml measurements.cpuScaling: 12 more values read from text the same way',
    );
  });
});
