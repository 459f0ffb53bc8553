/**
 * Lower-triangular L with L * L^T = Sigma, for drawing correlated normal shocks (L * z with z
 * independent standard normals has covariance Sigma).
 *
 * A market's covariance may be only positive semi-definite (a pegged asset with zero variance,
 * two assets quoted as perfectly correlated), so a pivot that is zero up to rounding gives a
 * zero column instead of a failure; a clearly negative pivot means the matrix is not a
 * covariance at all and is reported with the asset where it shows.
 */

export class NotPositiveSemiDefiniteError extends Error {
  constructor(
    readonly index: number,
    readonly pivot: number,
  ) {
    super(`not positive semi-definite (pivot ${pivot.toPrecision(3)} at row ${index})`);
  }
}

/** Relative tolerance for a pivot that is zero up to floating-point rounding. */
const PIVOT_TOLERANCE = 1e-10;

export function cholesky(matrix: readonly (readonly number[])[]): number[][] {
  const n = matrix.length;
  for (const row of matrix) if (row.length !== n) throw new RangeError(`cholesky: expected a square matrix, got a row of ${row.length} in ${n} rows`);
  const scale = Math.max(1e-300, ...matrix.map((row, i) => Math.abs(row[i]!)));
  const lower = matrix.map(() => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let pivot = matrix[j]![j]!;
    for (let k = 0; k < j; k++) pivot -= lower[j]![k]! ** 2;
    if (pivot < -PIVOT_TOLERANCE * scale) throw new NotPositiveSemiDefiniteError(j, pivot);
    const diagonal = pivot > PIVOT_TOLERANCE * scale ? Math.sqrt(pivot) : 0;
    lower[j]![j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      let sum = matrix[i]![j]!;
      for (let k = 0; k < j; k++) sum -= lower[i]![k]! * lower[j]![k]!;
      lower[i]![j] = diagonal === 0 ? 0 : sum / diagonal;
    }
  }
  return lower;
}
