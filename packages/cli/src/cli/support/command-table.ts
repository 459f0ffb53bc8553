import type { Command } from "commander";

/** One `zks` command: its name, the line `zks --help` shows, and how to load its module. */
export interface CommandRow {
  name: string;
  summary: string;
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every command, in the order `zks --help` lists them. Only the module of the command being run
 * is imported: each pulls in its own dependencies (snarkjs, ethers, the audit, the keeper, the
 * demo's hardhat chain), and importing all of them would cost every command the start-up of
 * the heaviest, and break every command of an install where one of them cannot load. The
 * top-level help is drawn from this table without loading any module; `zks help X` and
 * `zks X --help` load X's. test/cli-startup.test.ts checks each row's module registers its name.
 */
export const COMMANDS: readonly CommandRow[] = [
  {
    name: "setup",
    summary: "compile the circuits, run their Groth16 setup, export verification keys and verifiers (cached)",
    load: async () => (await import("../commands/setup.ts")).registerSetup,
  },
  {
    name: "ceremony",
    summary: "run a multi-party phase-2 ceremony for one instance (init, contribute, verify, finalize)",
    load: async () => (await import("../commands/ceremony.ts")).registerCeremony,
  },
  {
    name: "keys",
    summary: "publish built keys as a versioned release, or fetch and install one, checked by hash",
    load: async () => (await import("../commands/keys.ts")).registerKeys,
  },
  { name: "commit", summary: "compute the Poseidon commitment of a private position", load: async () => (await import("../commands/commit.ts")).registerCommit },
  {
    name: "verify",
    summary: "verify a proof file off-chain under its instance's pinned key, or against a deployment",
    load: async () => (await import("../commands/verify.ts")).registerVerify,
  },
  {
    name: "register",
    summary: "prove a registration: the position as a deposit from the empty position",
    load: async () => (await import("../commands/register.ts")).registerRegister,
  },
  {
    name: "rebalance",
    summary: "plan (or take a plan) and prove a rebalance; write the new position and its proof",
    load: async () => (await import("../commands/rebalance.ts")).registerRebalance,
  },
  {
    name: "check",
    summary: "run the risk checks (health factor, stress, VaR) on a private position; no proof",
    load: async () => (await import("../commands/check.ts")).registerCheck,
  },
  {
    name: "plan",
    summary: "find the cheapest rebalance that restores the policy's target, or say why none exists",
    load: async () => (await import("../commands/plan.ts")).registerPlan,
  },
  {
    name: "market",
    summary: "derive market files: the portfolio-margin grid (9 spot x 3 volatility moves) from a market",
    load: async () => (await import("../commands/market-grid.ts")).registerMarket,
  },
  {
    name: "demo",
    summary: "the whole story on an embedded chain with real proofs (a checkout of the repository)",
    load: async () => (await import("../commands/demo.ts")).registerDemo,
  },
  {
    name: "prove",
    summary: "prove a statement about a private position (health | stress | var | audit | rebalance)",
    load: async () => (await import("../commands/prove.ts")).registerProve,
  },
  {
    name: "calldata",
    summary: "print a proof file's Solidity calldata, or a gate call's ABI-encoded data",
    load: async () => (await import("../commands/calldata.ts")).registerCalldata,
  },
  { name: "inspect", summary: "list the circuit instances, or show one in detail", load: async () => (await import("../commands/inspect.ts")).registerInspect },
  {
    name: "deploy",
    summary: "deploy the verifiers, oracle, gate and registry from compiled artifacts; write a deployments file",
    load: async () => (await import("../commands/deploy.ts")).registerDeploy,
  },
  { name: "submit", summary: "send a proof to the deployed gate or registry and wait for the receipt", load: async () => (await import("../commands/submit.ts")).registerSubmit },
  {
    name: "audit",
    summary: "protocol-wide solvency audit: aggregate proofs, inclusion proofs, checks against the chain",
    load: async () => (await import("../commands/audit.ts")).registerAudit,
  },
  {
    name: "backtest",
    summary: "run the planner's strategies over price paths and measure what they cost",
    load: async () => (await import("../commands/backtest.ts")).registerBacktest,
  },
  {
    name: "systemic",
    summary: "simulate N vaults rebalancing into constant-product pools after a shock: does crowding amplify it",
    load: async () => (await import("../commands/systemic.ts")).registerSystemic,
  },
  {
    name: "execution",
    summary: "split a plan into seeded slices over a window (commit to the seed); backtest front-running",
    load: async () => (await import("../commands/execution.ts")).registerExecution,
  },
  { name: "keeper", summary: "the keeper service: watch the gate, decrypt openings, flag and liquidate", load: async () => (await import("../commands/keeper.ts")).registerKeeper },
];

/**
 * The command these arguments run: the first argument that is not an option (the program takes
 * no option of its own but --help), or the one after `help`. Undefined for the top-level help
 * and for a name that is no command (commander then says so, with a suggestion).
 */
export function commandFor(args: readonly string[]): CommandRow | undefined {
  const words = args.filter((arg) => !arg.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.find((command) => command.name === name);
}
