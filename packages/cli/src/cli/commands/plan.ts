import type { Command } from "commander";
import { BPS_DECIMALS, DecimalError, InputError, parseDecimal, RATIO_DECIMALS } from "@zk-solvency/sdk/core";
import type { Market } from "@zk-solvency/sdk/inputs";
import { planRebalanceFiles } from "@zk-solvency/node";
import { moneyText, STRATEGIES, type PlanOptions, type Strategy } from "@zk-solvency/sdk/rebalance";
import { EXIT, printJson } from "../output.ts";

interface PlanFlags {
  position: string;
  market: string;
  policy: string;
  allow?: string;
  strategy: string;
  targetHf?: string;
  triggerHf?: string;
  varHeadroom?: string;
  deltaBand?: string;
  deltaAssets?: string;
  intervalDays?: string;
  now?: string;
  gasPrice?: string;
  nativePrice?: string;
  forced?: boolean;
  json?: boolean;
  out?: string;
}

/** A decimal flag at `decimals` places; a bad value is an InputError naming the flag (exit 2). */
function decimalFlag(flag: string, text: string, decimals: number, min = 0n): bigint {
  try {
    const value = parseDecimal(text, decimals);
    if (value < min) throw new InputError(flag, "", `must be ${min === 0n ? ">= 0" : "> 0"}, got "${text}"`);
    return value;
  } catch (error) {
    if (error instanceof DecimalError) throw new InputError(flag, "", error.message);
    throw error;
  }
}

function numberFlag(flag: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || (!integer && value <= 0)) {
    throw new InputError(flag, "", `expected ${integer ? "an integer >= 0" : "a positive number"}, got "${text}"`);
  }
  return value;
}

function planOptions(flags: PlanFlags, market: Market): PlanOptions {
  if (!STRATEGIES.includes(flags.strategy as Strategy)) {
    throw new InputError("--strategy", "", `expected one of ${STRATEGIES.join(", ")}, got "${flags.strategy}"`);
  }
  const options: PlanOptions = { strategy: flags.strategy as Strategy, forced: Boolean(flags.forced) };
  const headroom = flags.varHeadroom === undefined ? undefined : decimalFlag("--var-headroom", flags.varHeadroom, RATIO_DECIMALS);
  if (flags.triggerHf !== undefined || headroom !== undefined) {
    options.trigger = {
      ...(flags.triggerHf !== undefined && { healthFactor: decimalFlag("--trigger-hf", flags.triggerHf, BPS_DECIMALS, 1n) }),
      ...(headroom !== undefined && { varHeadroom: headroom }),
    };
  }
  if (flags.targetHf !== undefined) {
    options.target = { healthFactor: decimalFlag("--target-hf", flags.targetHf, BPS_DECIMALS, 1n), ...(headroom !== undefined && { varHeadroom: headroom }) };
  }
  if (flags.deltaBand !== undefined) options.deltaBand = decimalFlag("--delta-band", flags.deltaBand, market.quote.decimals);
  if (flags.deltaAssets !== undefined) {
    const symbols = market.assets.map((a) => a.symbol);
    options.deltaAssets = flags.deltaAssets.split(",").map((name) => {
      const i = symbols.indexOf(name.trim());
      if (i < 0) throw new InputError("--delta-assets", "", `unknown asset "${name.trim()}" (market has ${symbols.join(", ")})`);
      return i;
    });
  }
  if (flags.intervalDays !== undefined) options.intervalDays = numberFlag("--interval-days", flags.intervalDays, false);
  if (flags.now !== undefined) options.now = numberFlag("--now", flags.now, true);
  if (flags.gasPrice !== undefined) options.gasPriceWei = decimalFlag("--gas-price", flags.gasPrice, 9);
  if (flags.nativePrice !== undefined) options.nativePrice = decimalFlag("--native-price", flags.nativePrice, market.quote.decimals, 1n);
  return options;
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("find the cheapest rebalance that restores the policy's target within what the owner allows, or say why none exists")
    .requiredOption("--position <file>", "position.json (private)")
    .requiredOption("--market <file>", "market.json: prices, scenarios and covariance of the epoch")
    .requiredOption("--policy <file>", "policy.json: the governance thresholds")
    .option("--allow <file>", "allow.json: { wallet: {symbol: amount}, sellable: [symbols], tradable: [instrument ids], maxActions? } (default: nothing allowed)")
    .option("--strategy <name>", `${STRATEGIES.join(" | ")}`, "threshold")
    .option("--target-hf <x>", "health factor to restore (default: the trigger)")
    .option("--trigger-hf <x>", "threshold: act below this health factor (default: the policy's trigger)")
    .option("--var-headroom <fraction>", "share of equity the VaR capital must leave free, e.g. 0.1 (trigger and target; default 0)")
    .option("--delta-band <amount>", "delta-neutral: band on each asset's delta, quote currency (default 1% of the collateral value)")
    .option("--delta-assets <symbols>", "delta-neutral: comma-separated assets to neutralize (default: those an allowed instrument hedges)")
    .option("--interval-days <n>", "time: days between scheduled rebalances (default 7)")
    .option("--now <unix>", "time the plan is made at, unix seconds (default: the market's timestamp)")
    .option("--gas-price <gwei>", "gas price in gwei (default 20)")
    .option("--native-price <amount>", "native token price in the quote currency (default: the market's WETH or ETH price)")
    .option("--forced", "plan a keeper's rebalance: only swaps and repayments from collateral, and the old position must be below the trigger")
    .option("--json", "machine-readable output: the plan file object, or the no-plan reason")
    .option("--out <file>", "write the plan file (private: holds the new position); replaced atomically, untouched when there is no plan")
    .action((flags: PlanFlags) => {
      const planned = planRebalanceFiles({
        position: flags.position,
        market: flags.market,
        policy: flags.policy,
        ...(flags.allow !== undefined && { allow: flags.allow }),
        ...(flags.out !== undefined && { out: flags.out }),
        options: (market) => planOptions(flags, market),
      });
      const { position, market, plan: result } = planned;
      const head = `account ${position.account}, epoch ${market.epoch}, strategy ${result.strategy}`;

      if (planned.kind === "none") {
        if (flags.json) printJson(planned.json);
        else process.stdout.write(`${[`${head}: NO PLAN`, ...planned.plan.explanation.map((l) => `  ${l}`)].join("\n")}\n`);
        if (flags.out !== undefined) process.stderr.write(`zks: no plan, so ${flags.out} was not written\n`);
        process.exitCode = EXIT.checkFailed;
        return;
      }

      if (planned.written !== undefined) process.stderr.write(`zks: wrote the plan to ${planned.written}; keep it private, it holds the new position and its salt\n`);
      if (flags.json) {
        printJson(planned.json);
      } else {
        const n = planned.plan.actions.length;
        const verdict = planned.plan.needed ? `PLAN: ${n} action${n === 1 ? "" : "s"}, cost ${moneyText(market.quote, planned.plan.cost.total)}` : "NOTHING TO DO";
        process.stdout.write(`${[`${head}: ${verdict}`, ...planned.plan.explanation.map((l) => `  ${l}`)].join("\n")}\n`);
      }
    });
}
