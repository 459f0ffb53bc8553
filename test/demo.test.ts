import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { demoKeeperKey, DEMO_KEEPER_SEED } from "../packages/cli/src/demo/run.ts";
import { loadScenario, shockedMarket } from "../packages/cli/src/demo/scenario.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { EXAMPLES_DIR } from "./helpers/examples.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");

function zks(env: NodeJS.ProcessEnv, ...args: string[]) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, seconds: (performance.now() - started) / 1000 };
}

type Step = Record<string, unknown> & { step: string; ok: boolean };

describe("zks demo", function () {
  it("the demo position passes at epoch 42 and the WETH shock puts it at risk", function () {
    const { market, policy, position, shocked } = loadScenario(EXAMPLES_DIR);
    const before = checkPosition(position, market, policy);
    assert.ok(before.pass);
    assert.ok(before.healthFactor.value! >= policy.trigger.healthFactor);
    const after = checkPosition(position, shockedMarket(market, shocked, market.timestamp + 900), policy);
    assert.ok(!after.pass || after.healthFactor.value! < policy.trigger.healthFactor);
  });

  it("the demo's keeper key comes from its public seed: the same valid key every run, another for another seed", function () {
    const key = demoKeeperKey();
    assert.deepEqual(demoKeeperKey(DEMO_KEEPER_SEED), key);
    assert.notDeepEqual(demoKeeperKey("another seed").publicKey, key.publicKey);
  });

  it("`zks demo --json` runs every step on the embedded chain in under two minutes; each transition's opening is published encrypted to the keeper key, which decrypts it", function () {
    const run = zks({ ZKS_EXAMPLES_DIR: EXAMPLES_DIR }, "demo", "--json");
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { ok: boolean; steps: Step[]; seconds: number; totalGas: number };
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.steps.map((s) => s.step),
      ["setup", "deploy", "publish", "register", "shock", "plan", "rebalance", "audit"],
    );
    for (const step of result.steps) assert.equal(step.ok, true, `step ${step.step}`);
    const byName = Object.fromEntries(result.steps.map((s) => [s.step, s])) as Record<string, Step>;

    const deploy = byName.deploy as Step & { contracts: { name: string; address: string; gas: number }[]; gas: number };
    assert.ok(deploy.contracts.length >= 5);
    const keeper = (byName.deploy as Step & { keeper: { publicKey: string[]; seed: string; liquidationBonusBps: number; liquidationWindowSeconds: number } }).keeper;
    assert.deepEqual(keeper.publicKey, demoKeeperKey().publicKey.map(String));
    assert.equal(keeper.seed, DEMO_KEEPER_SEED);
    assert.deepEqual([keeper.liquidationBonusBps, keeper.liquidationWindowSeconds], [500, 3600]);
    // 3x3 instance: the opening's 6 words (salt, 3 asset words, 2 instrument-pair words) in 2 blocks of 3, plus the tag.
    for (const name of ["register", "rebalance"]) {
      assert.deepEqual(byName[name]!.encryptedOpening, { ciphertextWords: 7, keyGeneration: 1, decrypted: true }, name);
    }
    for (const c of deploy.contracts) {
      assert.match(c.address, /^0x[0-9a-fA-F]{40}$/);
      assert.ok(Number.isInteger(c.gas) && c.gas > 0, `${c.name} gas`);
    }
    for (const name of ["publish", "register", "shock", "rebalance", "audit"]) {
      const gas = byName[name]!.gas;
      assert.ok(typeof gas === "number" && Number.isInteger(gas) && gas > 21_000, `${name} gas: ${String(gas)}`);
    }
    for (const name of ["register", "rebalance", "audit"]) {
      const seconds = byName[name]!.proofSeconds;
      assert.ok(typeof seconds === "number" && seconds > 0, `${name} proof time`);
    }

    const shock = byName.shock as Step & { healthFactor: { before: number; after: number }; pass: boolean; belowTrigger: boolean };
    assert.ok(shock.healthFactor.after < shock.healthFactor.before);
    assert.ok(!shock.pass || shock.belowTrigger);
    const plan = byName.plan as Step & { actions: string[] };
    assert.ok(plan.actions.length > 0);
    const rebalance = byName.rebalance as Step & { healthFactor: { before: number; after: number }; pass: { after: boolean }; nonce: number };
    assert.ok(rebalance.healthFactor.after > rebalance.healthFactor.before, JSON.stringify(rebalance.healthFactor));
    assert.equal(rebalance.pass.after, true);
    assert.equal(rebalance.nonce, 2, "registration (from the empty position, nonce 0) gives nonce 1, the rebalance 2");
    assert.equal((byName.audit as Step & { isSolvent: boolean }).isSolvent, true);

    assert.ok(result.seconds < 120, `the demo took ${result.seconds} s`);
    assert.ok(run.seconds < 120, `the process took ${run.seconds.toFixed(1)} s`);
  });

  it("a missing ptau ends in one line with exit code 3", function () {
    const run = zks({ ZKS_EXAMPLES_DIR: EXAMPLES_DIR }, "demo", "--json", "--ptau", path.join(PACKAGE_ROOT, "no-such.ptau"));
    assert.equal(run.code, 3, run.stderr);
    const errors = run.stderr
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("zks: "));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0]!, /ptau .*no-such\.ptau: file not found/);
    assert.doesNotMatch(run.stderr, /\bat .+:\d+:\d+/);
    assert.equal(run.stdout, "");
  });
});
