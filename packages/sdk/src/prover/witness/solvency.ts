import type { CircuitSignals } from "snarkjs";
import { checkMarketFitsCircuit, type CircuitLayout } from "../../commitment/circuit-layout.ts";
import { marketDigests, marketSignals } from "../../commitment/market-root.ts";
import { policySignals } from "../../commitment/policy-hash.ts";
import { positionSignals } from "../../commitment/position-commitment.ts";
import { InputError } from "../../core/errors.ts";
import type { Market, Policy, Position } from "../../inputs/types.ts";

/**
 * Inputs of packages/circuits/solvency.circom: the position, the market in the instance's slots and the
 * policy. The digests of sections an instance does not recompute are passed as inputs.
 * `context` binds the proof to a chain and contract (src/chain/context.ts); 0 for proofs that
 * are checked off-chain only.
 */
export function solvencyInput(position: Position, market: Market, policy: Policy, layout: CircuitLayout, source = "position", context = 0n): CircuitSignals {
  checkMarketFitsCircuit(market, layout, source);
  if (position.salt === undefined) throw new InputError(source, "salt", "missing; a commitment needs the position's secret salt");
  const positionPart = positionSignals(position, position.salt, layout);
  const marketPart = marketSignals(market, layout);
  const digests = marketDigests(marketPart);
  return {
    ...positionPart,
    context,
    ...marketPart,
    scenariosDigest: digests.scenarios,
    covarianceDigest: digests.covariance,
    ...policySignals(policy),
  } as unknown as CircuitSignals;
}
