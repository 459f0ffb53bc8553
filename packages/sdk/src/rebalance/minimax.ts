/**
 * The grid hedge's linear program (docs/rebalance.md, "Grid hedge"): choose trade sizes x_v in
 * [lo_v, hi_v] minimising the worst weighted scenario loss, each trade charged a cost per unit:
 *
 *     minimise  t + sum_v cost_v * |x_v|
 *     subject to  t >= 0,  t >= w_j * (L_j + sum_v a_jv * x_v)  for every scenario j
 *
 * the stress check's worst loss max(0, max_j w_j L_j) (risk-model.md section 2) as a function of
 * the trades, which is linear in them: a swap moves value between two assets, an option-token
 * flow adds contracts whose PnL per contract each scenario gives. It is solved exactly as a
 * linear program (a dense simplex with Bland's rule, which cannot cycle) in floating point; the
 * planner then builds integer actions from the solution and checks them with the exact model,
 * so a rounding here can cost optimality, never soundness.
 *
 * The origin (no trade, t = t0 = the current worst loss) is feasible with every right-hand side
 * >= 0, so one phase suffices: with x = x+ - x-, and t = t0 - tau, maximise tau - cost.|x| subject to
 *     w_j a_j . (x+ - x-) + tau <= t0 - w_j L_j,   x+ <= hi,   x- <= -lo,   tau <= t0,
 * and each budget  c . (x+ - x-) <= limit.
 */

export interface MinimaxProblem {
  /** Per scenario, its weight w_j in (0, 1]. */
  weights: readonly number[];
  /** Per scenario, the loss without any trade, L_j (q.u.). */
  losses: readonly number[];
  /** Per scenario j and variable v, a_jv: the loss added per unit of x_v. */
  slopes: readonly (readonly number[])[];
  /** Per variable, its bounds lo_v <= 0 <= hi_v. */
  lower: readonly number[];
  upper: readonly number[];
  /** Per variable, the cost per unit of |x_v| (q.u.), >= 0: the objective's tie-break and the trades' price. */
  cost: readonly number[];
  /** Shared limits: sum_v coefficients_v * x_v <= limit, limit >= 0 (e.g. two swaps selling one asset share its balance). */
  budgets?: readonly { coefficients: readonly number[]; limit: number }[];
}

export interface MinimaxSolution {
  /** The trade sizes. */
  x: number[];
  /** The worst weighted loss at x (>= 0), without the costs. */
  worst: number;
  /** The worst weighted loss without trading. */
  start: number;
}

const EPSILON = 1e-9;
const MAX_PIVOTS = 20_000;

/** Worst weighted loss max(0, max_j w_j (L_j + a_j . x)). */
export function worstLoss(problem: MinimaxProblem, x: readonly number[]): number {
  let worst = 0;
  problem.losses.forEach((loss, j) => {
    const l = problem.weights[j]! * (loss + problem.slopes[j]!.reduce((s, a, v) => s + a * x[v]!, 0));
    if (l > worst) worst = l;
  });
  return worst;
}

/**
 * Maximises c.z subject to A z <= b, z >= 0, with b >= 0 (the slack basis is feasible). Returns
 * z. Dense tableau, Bland's rule (least index entering and leaving) so that degenerate pivots
 * cannot cycle.
 */
export function simplexMax(c: readonly number[], a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const m = a.length;
  const n = c.length;
  if (b.some((x) => !(x >= -EPSILON))) throw new RangeError("simplexMax: the origin must be feasible (b >= 0)");
  // Rows: [A | I | b]; the objective row holds the reduced costs -c (maximise).
  const width = n + m + 1;
  const rows = a.map((row, i) => {
    const r = new Array<number>(width).fill(0);
    for (let j = 0; j < n; j++) r[j] = row[j]!;
    r[n + i] = 1;
    r[width - 1] = Math.max(0, b[i]!);
    return r;
  });
  const objective = new Array<number>(width).fill(0);
  for (let j = 0; j < n; j++) objective[j] = -c[j]!;
  const basis = a.map((_, i) => n + i);
  for (let pivots = 0; pivots < MAX_PIVOTS; pivots++) {
    let enter = -1;
    for (let j = 0; j < n + m; j++) {
      if (objective[j]! < -EPSILON) {
        enter = j;
        break;
      }
    }
    if (enter < 0) break;
    let leave = -1;
    let ratio = Infinity;
    for (let i = 0; i < m; i++) {
      const coefficient = rows[i]![enter]!;
      if (coefficient <= EPSILON) continue;
      const r = rows[i]![width - 1]! / coefficient;
      if (r < ratio - EPSILON || (Math.abs(r - ratio) <= EPSILON && basis[i]! < basis[leave]!)) {
        ratio = r;
        leave = i;
      }
    }
    // Unbounded cannot happen here (every variable is bounded above); stop rather than loop.
    if (leave < 0) break;
    const pivotRow = rows[leave]!;
    const pivot = pivotRow[enter]!;
    for (let j = 0; j < width; j++) pivotRow[j] = pivotRow[j]! / pivot;
    for (const row of [...rows, objective]) {
      if (row === pivotRow) continue;
      const factor = row[enter]!;
      if (factor === 0) continue;
      for (let j = 0; j < width; j++) row[j] = row[j]! - factor * pivotRow[j]!;
    }
    basis[leave] = enter;
  }
  const z = new Array<number>(n).fill(0);
  basis.forEach((variable, i) => {
    if (variable < n) z[variable] = rows[i]![width - 1]!;
  });
  return z;
}

/** Solves the minimax problem; the variables' bounds must contain 0 (no trade is always possible). */
export function solveMinimax(problem: MinimaxProblem): MinimaxSolution {
  const nVars = problem.lower.length;
  const start = worstLoss(problem, new Array<number>(nVars).fill(0));
  if (nVars === 0 || start <= 0) return { x: new Array<number>(nVars).fill(0), worst: start, start };
  // Columns: x+ (nVars), x- (nVars), tau.
  const columns = 2 * nVars + 1;
  const tau = 2 * nVars;
  const a: number[][] = [];
  const b: number[] = [];
  problem.losses.forEach((loss, j) => {
    const w = problem.weights[j]!;
    const row = new Array<number>(columns).fill(0);
    for (let v = 0; v < nVars; v++) {
      row[v] = w * problem.slopes[j]![v]!;
      row[nVars + v] = -w * problem.slopes[j]![v]!;
    }
    row[tau] = 1;
    a.push(row);
    b.push(start - w * loss);
  });
  for (let v = 0; v < nVars; v++) {
    if (!(problem.lower[v]! <= 0 && problem.upper[v]! >= 0)) throw new RangeError(`solveMinimax: variable ${v}'s bounds must contain 0`);
    const up = new Array<number>(columns).fill(0);
    up[v] = 1;
    a.push(up);
    b.push(problem.upper[v]!);
    const down = new Array<number>(columns).fill(0);
    down[nVars + v] = 1;
    a.push(down);
    b.push(-problem.lower[v]!);
  }
  for (const budget of problem.budgets ?? []) {
    if (!(budget.limit >= 0)) throw new RangeError("solveMinimax: a budget's limit must be >= 0");
    const row = new Array<number>(columns).fill(0);
    for (let v = 0; v < nVars; v++) {
      row[v] = budget.coefficients[v] ?? 0;
      row[nVars + v] = -(budget.coefficients[v] ?? 0);
    }
    a.push(row);
    b.push(budget.limit);
  }
  const cap = new Array<number>(columns).fill(0);
  cap[tau] = 1;
  a.push(cap);
  b.push(start);
  const c = new Array<number>(columns).fill(0);
  for (let v = 0; v < nVars; v++) {
    c[v] = -problem.cost[v]!;
    c[nVars + v] = -problem.cost[v]!;
  }
  c[tau] = 1;
  const z = simplexMax(c, a, b);
  const x = Array.from({ length: nVars }, (_, v) => z[v]! - z[nVars + v]!);
  return { x, worst: worstLoss(problem, x), start };
}
