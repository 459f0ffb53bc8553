import cliProgress from "cli-progress";
import type { Command } from "commander";
import { SetupError } from "@zk-solvency/sdk/core";
import type { DemoStep, HealthFactor } from "../../demo/run.ts";
import { BUILD_STEP_LABEL, CHECKOUT_ROOT } from "@zk-solvency/node/setup";
import { printJson } from "../output.ts";

interface DemoFlags {
  ptau?: string;
  examples?: string;
  json?: boolean;
}

const gas = (n: number): string => `${n.toLocaleString("en-US")} gas`;
const short = (hex: string): string => (hex.length > 18 ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : hex);
const opening = (o: { ciphertextWords: number; keyGeneration: number; decrypted: boolean }): string =>
  `   the gate published the new opening encrypted to the keeper key (OpeningEncrypted: ${o.ciphertextWords} field elements, key generation ${o.keyGeneration}); ${
    o.decrypted ? "the keeper's secret decrypts it to the committed position" : "NOT decrypted"
  }`;

/** The human lines of one step. */
function describe(step: DemoStep, n: number, formatHealthFactor: (hf: HealthFactor) => string): string[] {
  const head = (title: string) => `${n}. ${title} (${step.seconds.toFixed(1)} s)`;
  switch (step.step) {
    case "setup":
      return [head("circuits ready"), ...step.instances.map((i) => `   ${i.instance}: ${i.constraints.toLocaleString("en-US")} constraints, ${i.built ? "built now" : "cached"}`)];
    case "deploy":
      return [
        head(`contracts deployed on the in-process chain (chain id ${step.chainId})`),
        ...step.contracts.map((c) => `   ${c.name.padEnd(26)} ${c.address}  ${gas(c.gas)}`),
        `   total ${gas(step.gas)}; the account ${step.funded.account} holds ${Object.entries(step.funded.amounts)
          .map(([s, a]) => `${a} ${s}`)
          .join(", ")} in its wallet`,
        `   keeper key x = ${short(`0x${BigInt(step.keeper.publicKey[0]).toString(16).padStart(64, "0")}`)} from the public seed "${step.keeper.seed}" (a demo key: never deploy it); liquidation bonus ${step.keeper.liquidationBonusBps / 100}%, grace window ${step.keeper.liquidationWindowSeconds / 60} min`,
      ];
    case "publish":
      return [head(`market epoch ${step.epoch} published`), `   root ${short(step.marketRoot)}, timestamp ${step.timestamp}, ${gas(step.gas)}`];
    case "register":
      return [
        head(`position registered at epoch ${step.epoch}, from the empty position: ${step.movements.join(", ")}`),
        `   health factor ${formatHealthFactor(step.healthFactor)}, every check ${step.pass ? "PASS" : "FAIL"}; commitment ${short(step.commitment)}`,
        `   Rebalance proof (${step.instance}, fromEmpty) in ${step.proofSeconds} s; register: ${gas(step.gas)} (+ ${gas(step.tokenGas)} for the token approvals)`,
        opening(step.encryptedOpening),
      ];
    case "shock":
      return [
        head(
          `price shock: epoch ${step.epoch} published, ${step.asset} ${step.percent}% (${step.price.before} -> ${step.price.after} USD; option marks, deltas and scenarios unchanged)`,
        ),
        `   root ${short(step.marketRoot)}, ${gas(step.gas)}`,
        `   health factor ${formatHealthFactor(step.healthFactor.before)} -> ${formatHealthFactor(step.healthFactor.after)}: ${
          step.pass ? "" : `fails ${step.failures.join(" and ")}`
        }${!step.pass && step.belowTrigger ? "; " : ""}${step.belowTrigger ? "below the trigger" : ""}`,
      ];
    case "plan":
      return [head(`the planner (${step.strategy}) found a rebalance`), ...step.explanation.map((line) => `   ${line}`)];
    case "rebalance":
      return [
        head(`rebalance accepted on-chain at epoch ${step.epoch}`),
        `   health factor ${formatHealthFactor(step.healthFactor.before)} -> ${formatHealthFactor(step.healthFactor.after)}; checks ${step.pass.before ? "PASS" : "FAIL"} -> ${step.pass.after ? "PASS" : "FAIL"}`,
        `   Rebalance proof (${step.instance}) in ${step.proofSeconds} s; rebalance: ${gas(step.gas)} (+ ${gas(step.tokenGas)} for the token approvals); the gate's backing checked: it holds every committed balance and owes the lender exactly the committed debt`,
        `   the account's wallet: ${
          Object.entries(step.wallet)
            .map(([symbol, w]) => `${w.before} -> ${w.after} ${symbol}`)
            .join(", ") || "unchanged (no token flows)"
        }; the gate now holds commitment ${short(step.commitment)} at nonce ${step.nonce}`,
        opening(step.encryptedOpening),
      ];
    case "audit":
      return [
        head(`audit claim recorded for epoch ${step.epoch}`),
        `   Solvency proof in ${step.proofSeconds} s; recordClaim: ${gas(step.gas)}; isSolvent(account, ${step.epoch}) = ${step.isSolvent}`,
      ];
  }
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "the whole story on an embedded chain with real proofs: deploy, publish a market, register a position, a price shock, plan and prove a rebalance, record an audit claim",
    )
    .option("--ptau <file>", "powers-of-tau file for the one-time setup (default: $ZKS_PTAU, else the public ceremony file)")
    .option("--examples <dir>", "the spec's example files (default: $ZKS_EXAMPLES_DIR, else ../shared/spec/examples)")
    .option("--json", "machine-readable output")
    .action(async (flags: DemoFlags) => {
      // The demo's chain is hardhat's in-process network with the repository's config, contracts
      // and the spec's example files: a checkout's, never an install's (hardhat is a dev
      // dependency). Its module is loaded only here, after that check.
      if (!CHECKOUT_ROOT) {
        throw new SetupError(
          "demo: zks demo runs on hardhat's in-process chain with the repository's contracts and example files, so it needs a checkout: git clone https://github.com/zk-solvency/zk-solvency && cd zk-solvency && npm install && npx zks demo (from an install: zks deploy --rpc URL against a `npx hardhat node`)",
        );
      }
      const { formatHealthFactor, runDemo } = await import("../../demo/run.ts");
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const interactive = process.stderr.isTTY && !flags.json;
      const bar = interactive
        ? new cliProgress.SingleBar({ format: "{bar} {value}/{total} {task}", hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
        : undefined;
      let barStarted = false;
      const stopBar = () => {
        if (bar && barStarted) bar.stop();
        barStarted = false;
      };
      let n = 0;
      if (!flags.json) say("zks demo: an embedded chain, the example market and real Groth16 proofs");
      const result = await runDemo({
        ptau: flags.ptau,
        examplesDir: flags.examples,
        log: (message) => {
          stopBar();
          process.stderr.write(`${message}\n`);
        },
        onBuildProgress: (event) => {
          // Cached steps are silent: only a first run (or a changed circuit) shows its progress.
          if (event.state === "cached") return;
          const task = `${event.instance ?? ""} ${BUILD_STEP_LABEL[event.step]}`.trim();
          if (!bar) {
            if (event.state === "start") process.stderr.write(`zks demo: one-time setup: ${task}...\n`);
            return;
          }
          if (!barStarted) {
            bar.start(event.total, event.index, { task });
            barStarted = true;
          }
          bar.update(event.state === "start" ? event.index : event.index + 1, { task });
        },
        onStep: (step) => {
          stopBar();
          if (!flags.json) say(describe(step, ++n, formatHealthFactor).join("\n"));
        },
      });
      if (flags.json) return printJson(result);
      say(
        `done in ${result.seconds.toFixed(1)} s: ${result.steps.length} steps, ${result.proofSeconds} s proving, ${result.totalGas.toLocaleString("en-US")} gas in all (deployments included)`,
      );
    });
}
