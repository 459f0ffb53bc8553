/**
 * Section 5 of docs/risk-arithmetic.md (risk-model.md section 3, historical simulation), over
 * the market's S scenarios, unweighted:
 *   e    = floor((RATIO - confidence) * S / RATIO)     allowed exceptions
 *   VaR* = max(0, L*_(e+1))                            (e+1)-th largest loss, q.u. * 10^8
 *   pass <=> E* >= 0 and capitalMultiplier * VaR* <= E* * RATIO
 * Circuit form (no sorting): T* = floor(E* * RATIO / capitalMultiplier); the check holds
 * exactly when E* >= 0 and at most e scenarios have L*_j > T*.
 */
import { RATIO_SCALE } from "../core/fixed-point.ts";
import { ModelError } from "./errors.ts";
import { floorDiv } from "./rounding.ts";
import { reportedLoss } from "./scenario-loss.ts";

export interface HistoricalVarResult {
  /** S, the number of scenarios. */
  scenarios: number;
  /** e, the allowed exceptions. */
  exceptions: number;
  /** VaR* = max(0, L*_(e+1)), q.u. * 10^8. */
  scaled: bigint;
  /** ceil(VaR* / 10^8), q.u. */
  value: bigint;
  /** The scenario whose loss is the (e+1)-th largest (ties broken by market order). */
  scenarioIndex: number;
  /** T* = floor(E* * RATIO / capitalMultiplier), q.u. * 10^8 (negative when E* < 0). */
  threshold: bigint;
  /** Scenarios with L*_j > T* (the circuit's count). */
  exceedances: number;
  /** E* * RATIO - capitalMultiplier * VaR* (q.u. * 10^8 * RATIO). */
  margin: bigint;
  pass: boolean;
}

/** e = floor((RATIO - confidence) * S / RATIO), confidence at RATIO in (0, 1). */
export function allowedExceptions(confidence: bigint, scenarios: number): number {
  if (confidence <= 0n || confidence >= RATIO_SCALE) {
    throw new ModelError(`VaR confidence must lie strictly between 0 and 1 (got ${confidence} at ${RATIO_SCALE})`);
  }
  return Number(((RATIO_SCALE - confidence) * BigInt(scenarios)) / RATIO_SCALE);
}

/**
 * Historical VaR of the scenario losses L*_j (q.u. * 10^8) against equity E* (same scale).
 * `capitalMultiplier` and `confidence` at RATIO.
 */
export function historicalVar(losses: readonly bigint[], equityScaled: bigint, confidence: bigint, capitalMultiplier: bigint): HistoricalVarResult {
  if (losses.length === 0) throw new ModelError("historical VaR needs at least one scenario");
  if (capitalMultiplier <= 0n) throw new ModelError(`capital multiplier must be positive (got ${capitalMultiplier})`);
  const exceptions = allowedExceptions(confidence, losses.length);
  // Largest first; Array.prototype.sort is stable, so equal losses keep market order.
  const order = losses.map((_, j) => j).sort((a, b) => (losses[a]! > losses[b]! ? -1 : losses[a]! < losses[b]! ? 1 : 0));
  const scenarioIndex = order[exceptions]!;
  const kth = losses[scenarioIndex]!;
  const scaled = kth > 0n ? kth : 0n;
  const threshold = floorDiv(equityScaled * RATIO_SCALE, capitalMultiplier);
  const margin = equityScaled * RATIO_SCALE - capitalMultiplier * scaled;
  return {
    scenarios: losses.length,
    exceptions,
    scaled,
    value: reportedLoss(scaled),
    scenarioIndex,
    threshold,
    exceedances: losses.filter((loss) => loss > threshold).length,
    margin,
    pass: equityScaled >= 0n && margin >= 0n,
  };
}
