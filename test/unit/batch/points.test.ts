import { expect } from 'chai';
import { canvasPoints, parsePointsPossible, roundCents } from '../../../graders/batch/points.ts';

describe('Canvas points: the share of what could be earned, scaled to the assignment', () => {
  it('full marks are full marks online (100 of 100) and offline (97 of 97, the pull check not run)', () => {
    expect(canvasPoints(97, 97, 100)).to.equal(100);
    expect(canvasPoints(100, 100, 100)).to.equal(100);
    expect(canvasPoints(97, 97, 20)).to.equal(20);
    expect(canvasPoints(0, 100, 20)).to.equal(0);
  });

  it('rounds half up to cents, free of binary noise', () => {
    expect(canvasPoints(82, 97, 20)).to.equal(16.91); // 16.907…
    expect(canvasPoints(1, 3, 20)).to.equal(6.67);
    expect(canvasPoints(2, 3, 20)).to.equal(13.33);
    expect(canvasPoints(1, 8, 1)).to.equal(0.13); // 0.125 → 0.13, half up
    expect(roundCents(1.005)).to.equal(1.01); // 1.005 is stored as 1.00499…; toFixed(2) says 1.00
    expect(roundCents(20.000001)).to.equal(20);
    expect(roundCents(-0.001)).to.equal(0);
    expect(Object.is(roundCents(-0.001), -0)).to.equal(false);
  });

  it('never writes more than two decimals, whatever the score and the points', () => {
    for (let max = 1; max <= 100; max += 7)
      for (let score = 0; score <= max; score += 0.25)
        for (const pts of [1, 2.5, 5, 10, 12.5, 20, 33.33, 100]) {
          const v = canvasPoints(score, max, pts)!;
          expect(String(v), `${score}/${max} × ${pts}`).to.match(/^\d+(\.\d{1,2})?$/);
          expect(v).to.be.within(0, pts);
        }
  });

  it('stays within 0…points; nothing to earn gives no number', () => {
    expect(canvasPoints(120, 100, 20)).to.equal(20);
    expect(canvasPoints(-3, 100, 20)).to.equal(0);
    expect(canvasPoints(0, 0, 20)).to.equal(null);
    expect(canvasPoints(Number.NaN, 10, 20)).to.equal(null);
  });

  it('--points-possible takes a positive number with at most two decimals', () => {
    expect(parsePointsPossible('20')).to.equal(20);
    expect(parsePointsPossible('12.5')).to.equal(12.5);
    expect(parsePointsPossible('0.25')).to.equal(0.25);
    for (const bad of ['0', '-5', '1e3', '12.345', 'twenty', '', '20 points'])
      expect(parsePointsPossible(bad), bad).to.equal(null);
  });
});
