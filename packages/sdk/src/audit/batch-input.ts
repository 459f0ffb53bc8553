import type { CircuitSignals } from "snarkjs";
import { checkMarketFitsCircuit, type CircuitLayout } from "../commitment/circuit-layout.ts";
import { marketSignals } from "../commitment/market-root.ts";
import { policySignals } from "../commitment/policy-hash.ts";
import { positionSignals } from "../commitment/position-commitment.ts";
import { InputError } from "../core/errors.ts";
import type { Market, Policy, Position } from "../inputs/types.ts";
import { AuditTreeError } from "./merkle-sum-tree.ts";

export interface BatchMember {
  position: Position;
  /** 1 when the model finds the position failing the policy (the circuit then skips its checks). */
  fails: bigint;
  /** Where the position came from, for errors. */
  source: string;
}

/**
 * Inputs of packages/circuits/audit/audit-batch.circom: up to batchSize positions in increasing account
 * order, then padding slots (inactive, all zero), the whole market and the policy.
 */
export function auditBatchInput(members: readonly BatchMember[], market: Market, policy: Policy, layout: CircuitLayout, batchSize: number): CircuitSignals {
  if (members.length === 0 || members.length > batchSize) throw new AuditTreeError(`a batch holds 1 to ${batchSize} positions, got ${members.length}`);
  checkMarketFitsCircuit(market, layout, "market");
  const zero = (n: number) => Array<bigint>(n).fill(0n);
  const slots = members.map(({ position, fails, source }) => {
    if (position.salt === undefined) throw new InputError(source, "salt", "missing; the audit opens each position's commitment, which needs its salt");
    return { active: 1n, fails, ...positionSignals(position, position.salt, layout) };
  });
  let previous = 0n;
  for (const [i, slot] of slots.entries()) {
    if (slot.account <= previous) throw new AuditTreeError(`${members[i]!.source}: accounts must strictly increase within an audit`);
    previous = slot.account;
  }
  while (slots.length < batchSize) {
    slots.push({ active: 0n, fails: 0n, account: 0n, nonce: 0n, salt: 0n, collateral: zero(layout.nAssets), debt: zero(layout.nAssets), quantity: zero(layout.nInstruments) });
  }
  const { symbol, scale, price, threshold, debtIndex, instrumentId, underlying, mark, delta, weight, assetReturn, instrumentPnl, covarianceUpper, ...scalars } = marketSignals(
    market,
    layout,
  );
  return {
    active: slots.map((s) => s.active),
    fails: slots.map((s) => s.fails),
    account: slots.map((s) => s.account),
    nonce: slots.map((s) => s.nonce),
    salt: slots.map((s) => s.salt),
    collateral: slots.map((s) => s.collateral),
    debt: slots.map((s) => s.debt),
    quantity: slots.map((s) => s.quantity),
    ...scalars,
    symbol,
    scale,
    price,
    threshold,
    debtIndex,
    instrumentId,
    underlying,
    mark,
    delta,
    weight,
    assetReturn,
    instrumentPnl,
    covarianceUpper,
    ...policySignals(policy),
  } as unknown as CircuitSignals;
}
