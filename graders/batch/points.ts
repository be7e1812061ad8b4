/**
 * The gradebook cell: the share of the points that could be earned on this host, scaled to the
 * assignment's points. A check that cannot run here (the Docker Hub pull offline) is out of the
 * report's maximum, so a student with every point that could be earned gets the assignment's full
 * points whether the batch ran online or offline (97 of 97 → 100 of 100, or 20 of 20).
 */

/**
 * Round to cents the way a person does (half up), free of binary noise: 20.000000001 → 20,
 * 1.005 → 1.01 (toFixed gives 1.00 there, as 1.005 is stored as 1.00499…).
 */
export function roundCents(x: number): number {
  const cents = Math.round(Number((x * 100).toPrecision(12)));
  return cents / 100 || 0;
}

/**
 * Points for Canvas: score ÷ maxScore × pointsPossible, within 0…pointsPossible, two decimals at
 * most. null when nothing could be earned on this host (no share to scale): no gradebook row.
 */
export function canvasPoints(score: number, maxScore: number, pointsPossible: number): number | null {
  if (!(maxScore > 0) || !Number.isFinite(score)) return null;
  const share = Math.min(1, Math.max(0, score / maxScore));
  return roundCents(share * pointsPossible);
}

/** A --points-possible value: a positive number with at most two decimals (as Canvas stores it). */
export function parsePointsPossible(text: string): number | null {
  if (!/^\s*\d+(\.\d{1,2})?\s*$/.test(text)) return null;
  const n = Number(text);
  return n > 0 && Number.isFinite(n) ? n : null;
}
