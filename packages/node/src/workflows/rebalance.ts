/**
 * `zks rebalance` as a function: take a plan file or plan now, prove the rebalance with the
 * smallest built Rebalance instance, and write DIR/proof.json, DIR/public.json and, last,
 * DIR/position.json (the new position): a directory with position.json always has its proof.
 */
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { InputError, ZksError } from "@zk-solvency/sdk/core";
import { positionToJson, type Market, type Position } from "@zk-solvency/sdk/inputs";
import { parsePlanFile, plan, STRATEGIES, type Movements, type Strategy } from "@zk-solvency/sdk/rebalance";
import { ALL_CHECKS } from "@zk-solvency/sdk/verifier";
import { rebalanceWorkflow, type RebalanceBinding, type RebalanceWorkflowResult } from "@zk-solvency/sdk/workflows";
import { readJsonFile } from "../read-json.ts";
import { selectInstance } from "../select-instance.ts";
import type { BuildPaths } from "../setup/paths.ts";
import { writeFileSafely } from "../write-file-safely.ts";
import { writeProofFiles } from "../write-proof.ts";
import { loadAllowanceFile, loadInputFiles } from "./load-inputs.ts";
import { builtInstanceProver } from "./prove.ts";

export interface RebalanceFilesOptions {
  position: string;
  market: string;
  policy: string;
  /** Directory for position.json (the new position), proof.json and public.json. */
  out: string;
  /** A plan file from `zks plan --out`; default: plan now with `allow` and `strategy`. */
  plan?: string;
  allow?: string;
  strategy?: Strategy;
  forced?: boolean;
  /** A Rebalance instance; default the smallest built one that fits the market. */
  instance?: string;
  /** The gate binding (context and keeper key), or a function reading it, called once the transition is known to be backed. */
  binding: RebalanceBinding | (() => Promise<RebalanceBinding>);
  buildPaths?: BuildPaths;
  onProving?: (instance: string, constraints: number) => void;
}

export type RebalanceFilesResult =
  | { needed: false; explanation: string[] }
  | (RebalanceWorkflowResult & { needed: true; explanation: string[]; market: Market; position: Position; files: { position: string; proof: string; publicSignals: string } });

const same = (a: string, b: string) => existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b);

export async function rebalanceFiles(options: RebalanceFilesOptions): Promise<RebalanceFilesResult> {
  const { market, policy, position } = loadInputFiles(options);
  if (position.salt === undefined) throw new InputError(options.position, "salt", "missing; the old position must open its commitment (run `zks commit --add-salt` first)");
  const newPositionFile = path.join(options.out, "position.json");
  if (same(newPositionFile, options.position)) throw new InputError("--out", "", `${newPositionFile} is the input position; choose another directory`);

  const forced = Boolean(options.forced);
  let planned: { position: Position; movements: Movements };
  let explanation: string[];
  if (options.plan !== undefined) {
    const parsed = parsePlanFile(readJsonFile(options.plan), options.plan, market, position);
    if (!parsed.needed) return { needed: false, explanation: ["the plan says no rebalance is needed"] };
    planned = { position: parsed.position, movements: parsed.movements };
    explanation = parsed.explanation;
  } else {
    const strategy = options.strategy ?? "threshold";
    if (!STRATEGIES.includes(strategy)) throw new InputError("--strategy", "", `expected one of ${STRATEGIES.join(", ")}, got "${strategy}"`);
    const allowance = loadAllowanceFile(options.allow, market);
    const result = plan(position, market, policy, allowance, { strategy, forced });
    if (result.kind === "none") throw new ZksError(`no rebalance: ${result.reason}`, 1);
    if (!result.needed) return { needed: false, explanation: result.explanation };
    planned = { position: result.position, movements: result.movements };
    explanation = result.explanation;
  }
  const proved = await rebalanceWorkflow({ position, market, policy, planned, forced, binding: options.binding, source: options.position }, () => {
    // The new position must pass the whole policy: only an instance with all four checks.
    const { artifacts, layout } = selectInstance("Rebalance", market, options.instance, options.buildPaths, ALL_CHECKS);
    options.onProving?.(artifacts.instance, artifacts.manifest.nConstraints);
    return builtInstanceProver(artifacts, layout);
  });
  // Proof first, the new position last.
  const written = writeProofFiles(options.out, proved.file);
  writeFileSafely(newPositionFile, `${JSON.stringify(positionToJson(proved.next, market), null, 2)}\n`);
  return { ...proved, needed: true, explanation, market, position, files: { position: newPositionFile, ...written } };
}
