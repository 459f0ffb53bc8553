/**
 * What an instance can state. A proof file's `zks.statement` is a label the prover writes; it is
 * only worth printing when the instance's circuit actually proves it. Browser-safe.
 */

/** Solvency's (and Rebalance's) `checks` parameter bits (packages/circuits/solvency.circom). */
export const CHECK_BITS = { healthFactor: 1, stress: 2, historicalVar: 4, parametricVar: 8 } as const;
export type ProvenCheck = keyof typeof CHECK_BITS;
/** All four: what an audit claim and every Rebalance instance need. */
export const ALL_CHECKS = CHECK_BITS.healthFactor | CHECK_BITS.stress | CHECK_BITS.historicalVar | CHECK_BITS.parametricVar;

const CHECK_LABEL: Record<ProvenCheck, string> = {
  healthFactor: "health factor",
  stress: "scenario stress",
  historicalVar: "historical VaR",
  parametricVar: "parametric VaR",
};

/** The templates whose proofs `zks prove`, `zks rebalance`, `zks register` write as proof files. */
export type ProofFileTemplate = "Solvency" | "Rebalance" | "PositionCommitment";
const PROOF_FILE_TEMPLATES: readonly string[] = ["Solvency", "Rebalance", "PositionCommitment"];

export function isProofFileTemplate(template: string): template is ProofFileTemplate {
  return PROOF_FILE_TEMPLATES.includes(template);
}

/** The checks a Solvency or Rebalance instance proves: its fourth parameter's bits. */
export function provenChecks(template: string, params: readonly number[]): ProvenCheck[] {
  if (template !== "Solvency" && template !== "Rebalance") return [];
  const checks = params[3] ?? 0;
  return (Object.keys(CHECK_BITS) as ProvenCheck[]).filter((check) => (checks & CHECK_BITS[check]) !== 0);
}

export const describeChecks = (checks: readonly ProvenCheck[]): string => checks.map((c) => CHECK_LABEL[c]).join(", ");

/**
 * The statements a proof of this instance may carry, with what each needs of the circuit (as
 * `zks prove` selects instances, packages/node/src/select-instance.ts): "health" the health factor,
 * "stress" scenario stress, "var" a VaR method, "audit" all four checks (an audit claim is a full
 * Solvency proof); a Rebalance proof either registers (from the empty position) or rebalances; a
 * PositionCommitment proof opens a commitment.
 */
export function statementsOf(template: string, params: readonly number[]): string[] {
  if (template === "Rebalance") return ["rebalance", "register"];
  if (template === "PositionCommitment") return ["commitment"];
  if (template !== "Solvency") return [];
  const checks = provenChecks(template, params);
  const statements: string[] = [];
  if (checks.includes("healthFactor")) statements.push("health");
  if (checks.includes("stress")) statements.push("stress");
  if (checks.includes("historicalVar") || checks.includes("parametricVar")) statements.push("var");
  if (checks.length === Object.keys(CHECK_BITS).length) statements.push("audit");
  return statements;
}

/** Why `statement` is not one the instance can make, or null when it is. */
export function statementProblem(statement: string, instance: { instance: string; template: string; params: readonly number[] }): string | null {
  const allowed = statementsOf(instance.template, instance.params);
  if (allowed.includes(statement)) return null;
  if (instance.template === "Solvency") {
    const checks = provenChecks(instance.template, instance.params);
    return `"${statement}" is not a statement instance ${instance.instance} can prove: it checks ${describeChecks(checks)} (checks = ${instance.params[3]}), so its proofs state ${allowed.join(", ")}`;
  }
  return `"${statement}" is not a statement of a ${instance.template} proof (expected ${allowed.join(" or ") || "none: not a proof file's circuit"})`;
}
