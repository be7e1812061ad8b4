import { expect } from 'chai';
import type { Plot } from '../../../reports/model.ts';
import { niceTicks, renderPlotSvg, tickLabels } from '../../../reports/svg.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';
import { BREAKOUT, HOSTILE, SCRIPT, eventHandlerAttributes } from './hostile.ts';
import { assertWellFormedXml } from './xml-check.ts';

function fixturePlots(): Plot[] {
  return tutorial7Report().checks.flatMap((c) => c.evidence.plots ?? []);
}

describe('reports/svg', () => {
  it('renders every fixture plot as well-formed standalone SVG', () => {
    const plots = fixturePlots();
    expect(plots.map((p) => p.kind)).to.deep.equal(['line', 'bar', 'line']);
    for (const plot of plots) {
      const svg = renderPlotSvg(plot);
      assertWellFormedXml(svg);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="360"')).to.equal(
        true,
      );
      expect(svg).to.include(`<title>${plot.title}</title>`);
    }
  });

  it('draws one path per line series and a dashed, labelled line per limit', () => {
    const plot = fixturePlots()[0]!;
    const svg = renderPlotSvg(plot);
    expect(svg.match(/<path /g)).to.have.length(2);
    expect(svg.match(/stroke-dasharray="6 4"/g)).to.have.length(1);
    expect(svg).to.include('>limit 50 %</text>');
    // Sparse series (≤ 30 points) get a dot per sample; the dense one does not.
    expect(svg.match(/<circle /g)).to.have.length(21);
  });

  it('draws grouped bars with category labels and value labels', () => {
    const svg = renderPlotSvg(fixturePlots()[1]!);
    expect(svg.match(/<rect x=[^>]*><title>/g)).to.have.length(8);
    for (const label of ['0.5', '1', '1.5', '2']) expect(svg).to.include(`>${label}</text>`);
    expect(svg).to.include('<title>measured: 2392 bogo ops/s</title>');
    expect(svg).to.include('>2439</text>');
  });

  it('honours width and height', () => {
    const svg = renderPlotSvg(fixturePlots()[0]!, { width: 960, height: 380 });
    expect(svg).to.include('width="960" height="380" viewBox="0 0 960 380"');
    assertWellFormedXml(svg);
  });

  it('escapes every piece of text and stays well-formed with hostile names', () => {
    const plot = fixturePlots()[2]!;
    plot.title = HOSTILE;
    plot.xLabel = BREAKOUT;
    plot.yLabel = SCRIPT;
    for (const s of plot.series) {
      s.name = HOSTILE;
      s.unit = BREAKOUT;
    }
    const svg = renderPlotSvg(plot);
    assertWellFormedXml(svg);
    expect(svg).not.to.include('<script');
    expect(svg).not.to.include('<img');
    expect(eventHandlerAttributes(svg)).to.deep.equal([]);
  });

  it('has no scripts, links or external resources', () => {
    for (const plot of fixturePlots()) {
      const svg = renderPlotSvg(plot);
      expect(svg).not.to.match(/<script|<a[\s>]|href=|<image|<foreignObject|@import|url\(/i);
      expect(svg.match(/https?:\/\/[^"]*/g)).to.deep.equal(['http://www.w3.org/2000/svg']);
    }
  });

  it('skips non-finite points and says "no data" when nothing is left', () => {
    const plot: Plot = {
      id: 'p',
      title: 'empty',
      kind: 'line',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          unit: '%',
          points: [
            [Number.NaN, 1],
            [1, Number.POSITIVE_INFINITY],
          ],
        },
      ],
    };
    const svg = renderPlotSvg(plot);
    assertWellFormedXml(svg);
    expect(svg).to.include('>no data</text>');
    expect(svg).not.to.match(/NaN|Infinity/);
    expect(renderPlotSvg({ ...plot, series: [] })).to.include('>no data</text>');
  });

  it('copes with a single point, negative values and a bar plot of one category', () => {
    const single: Plot = {
      id: 'p',
      title: 't',
      kind: 'line',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 's', unit: '', points: [[3, 0]] }],
    };
    const bars: Plot = { ...single, kind: 'bar', series: [{ name: 's', unit: '', points: [[1, -4]] }] };
    for (const plot of [single, bars]) {
      const svg = renderPlotSvg(plot);
      assertWellFormedXml(svg);
      expect(svg).not.to.match(/NaN|Infinity/);
    }
  });

  it('picks ticks at 1, 2 or 5 × 10^k that cover the data', () => {
    expect(niceTicks(0, 51.3, 5).values).to.deep.equal([0, 20, 40, 60]);
    expect(niceTicks(0, 20, 7).values).to.deep.equal([0, 5, 10, 15, 20]);
    expect(niceTicks(0, 2634, 5).values).to.deep.equal([0, 1000, 2000, 3000]);
    expect(niceTicks(0.5, 2, 4).values).to.deep.equal([0.5, 1, 1.5, 2]);
    expect(niceTicks(0, 0.3, 3).values).to.deep.equal([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0, 5).values).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3, 7, 5).values).to.deep.equal([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('labels ticks with the step’s decimals and k/M suffixes for large values', () => {
    expect(tickLabels(niceTicks(0, 2, 4))).to.deep.equal(['0.0', '0.5', '1.0', '1.5', '2.0']);
    expect(tickLabels(niceTicks(0, 1_280_000, 5))).to.deep.equal(['0', '500k', '1000k', '1500k']);
    expect(tickLabels(niceTicks(0, 40_000_000, 4))).to.deep.equal(['0', '10M', '20M', '30M', '40M']);
    expect(tickLabels(niceTicks(-1, 1, 2))).to.deep.equal(['-1', '0', '1']);
  });
});
