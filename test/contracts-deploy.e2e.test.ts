import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, Wallet, ZeroAddress } from "ethers";
import { MARKET_ORACLE_ABI, REBALANCE_GATE_ABI, AUDIT_REGISTRY_ABI } from "../packages/sdk/src/chain/abi.ts";
import { LENDER_VAULT_ABI } from "../packages/sdk/src/chain/lender.ts";
import { UNISWAP_V2_FACTORY_ABI } from "../packages/sdk/src/chain/uniswap-v2.ts";
import { gateContext } from "../packages/sdk/src/chain/context.ts";
import { policyHash } from "../packages/sdk/src/commitment/policy-hash.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { demoKeeperKey } from "../packages/cli/src/demo/run.ts";
import { deployOptionsFromFlags, type DeployFlags } from "../packages/cli/src/cli/commands/deploy.ts";
import { keeperKeyFileJson, keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { deployStack, readKeeperKey, type Deployment, type DeployStackOptions } from "../packages/node/src/deploy/index.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT, type BuildPaths } from "../packages/node/src/setup/paths.ts";
import { readVerifierArtifact, SOLC_SETTINGS, SOLC_VERSION, VERIFIER_ARTIFACT_FILE, type VerifierArtifact } from "../packages/node/src/setup/verifier-artifact.ts";
import { ZKS } from "./helpers/cli.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";
import { moduleTrace, type ModuleTrace } from "./helpers/module-trace.ts";

const INSTANCES = ["solvency-3x3x16", "rebalance-3x3x16"] as const;
const DEPLOYER_KEY = Wallet.fromPhrase(HARDHAT_MNEMONIC).privateKey;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `zks deploy` as a child process (async: the hardhat node must keep being served), with a
 * module trace when given (test/helpers/module-trace.ts).
 */
function zksDeploy(args: string[], env: NodeJS.ProcessEnv = {}, trace?: ModuleTrace): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(trace?.nodeArgs ?? []), ZKS, "deploy", ...args], {
      env: { ...process.env, ZKS_DEBUG: "", ZKS_PRIVATE_KEY: "", ...env, ...trace?.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A build directory holding copies of the checkout's two 3x3x16 instance builds, to tamper with. */
function copyBuild(root: string): BuildPaths {
  const paths: BuildPaths = { buildDir: path.join(root, "build"), generatedContractsDir: path.join(root, "contracts") };
  for (const instance of INSTANCES) cpSync(instanceDir(defaultBuildPaths(), instance), instanceDir(paths, instance), { recursive: true });
  return paths;
}

const artifactOf = (paths: BuildPaths, instance: string): VerifierArtifact => readVerifierArtifact(instanceDir(paths, instance))!;
const writeArtifact = (paths: BuildPaths, instance: string, artifact: VerifierArtifact) =>
  writeFileSync(path.join(instanceDir(paths, instance), VERIFIER_ARTIFACT_FILE), JSON.stringify(artifact));

describe("zks deploy: deployStack with ethers' ContractFactory and compiled artifacts (no hardhat)", function () {
  let dir: string;
  let node: LocalNode;
  let url: string;
  /** The keeper's public-key file and another keeper's key file (secret and public half). */
  let publicKeyFile: string, keyFile: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-deploy-"));
    publicKeyFile = path.join(dir, "keeper.pub.json");
    writeFileSync(publicKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
    keyFile = path.join(dir, "other-keeper.json");
    writeFileSync(keyFile, keeperKeyFileJson(OTHER_KEEPER), { mode: 0o600 });
    node = await startLocalNode();
    url = node.url;
  });

  after(async function () {
    await node?.stop();
    // deployStack classifies each verifier's key with snarkjs, whose cached curve keeps threads alive.
    await releaseProverThreads();
    rmSync(dir, { recursive: true, force: true });
  });

  it("verifiers are compiled by solc-js with hardhat.config.ts's compiler and settings, pinned alike in the repository and @zk-solvency/node", async function () {
    const config = (await import("../hardhat.config.ts")).default as { solidity: { version: string; settings: unknown } };
    assert.equal(config.solidity.version, SOLC_VERSION);
    assert.deepEqual(config.solidity.settings, SOLC_SETTINGS);
    const pinned = (file: string, field: string) => (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, file), "utf8")) as Record<string, Record<string, string>>)[field]!.solc;
    assert.equal(pinned("package.json", "devDependencies"), SOLC_VERSION);
    assert.equal(pinned("packages/node/package.json", "optionalDependencies"), SOLC_VERSION);
    for (const instance of INSTANCES) {
      const artifact = artifactOf(defaultBuildPaths(), instance);
      assert.ok(artifact, `${instance}: zks setup wrote ${VERIFIER_ARTIFACT_FILE}`);
      assert.match(artifact.solcVersion, new RegExp(`^${SOLC_VERSION.replaceAll(".", "\\.")}\\+commit`));
      assert.equal(artifact.verificationKeyHash, readManifest(instanceDir(defaultBuildPaths(), instance))!.verificationKeyHash);
    }
  });

  it("deploys verifiers, oracle, gate (fresh test tokens, option tokens, a USDC lender, a Uniswap v2 factory, the keeper key, default liquidation terms) and registry to a local `hardhat node` over JSON-RPC, loading neither hardhat nor scripts/; the verifiers run verifier.json's code and report the installed keys", async function () {
    const out = path.join(dir, "local.json");
    const trace = moduleTrace();
    const run = await zksDeploy(
      [
        "--rpc",
        url,
        "--test-tokens",
        "--test-lenders",
        "USDC",
        "--lender-rate",
        "1585489599",
        "--policy",
        example("policy.json"),
        "--market",
        example("market-grid.json"),
        "--freshness",
        "7200",
        "--keeper-key",
        publicKeyFile,
        "--out",
        out,
      ],
      { ZKS_PRIVATE_KEY: DEPLOYER_KEY },
      trace,
    );
    assert.equal(run.code, 0, run.stderr);
    const stdout = run.stdout;
    assert.match(stdout, /deployed to chain 31337 \(json-rpc\)/);
    assert.doesNotMatch(stdout + run.stderr, new RegExp(DEPLOYER_KEY.slice(2)));
    const loaded = trace.loaded();
    trace.dispose();
    assert.ok(
      loaded.some((u) => u.includes("/packages/node/src/deploy/deploy-stack.ts")),
      "the trace saw the deploy",
    );
    assert.deepEqual(
      loaded.filter((u) => /\/node_modules\/(hardhat|@nomicfoundation|solc)\/|\/scripts\/|\/demo\//.test(u)),
      [],
      "no hardhat, solc, scripts/ or demo module",
    );

    const deployment = JSON.parse(readFileSync(out, "utf8")) as Deployment;
    assert.equal(deployment.network, "json-rpc");
    assert.equal(deployment.chainId, "31337");
    assert.deepEqual(
      deployment.tokens.map((t) => t.symbol),
      ["WETH", "WBTC", "USDC"],
    );
    assert.deepEqual(deployment.verifierContracts, { solvency: "Solvency3x3x16Verifier", rebalance: "Rebalance3x3x16Verifier" });

    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    try {
      for (const [name, at] of Object.entries(deployment.contracts)) assert.notEqual(await provider.getCode(at), "0x", `${name} has code`);
      // Each verifier: exactly verifier.json's runtime code, and the key hash the manifest records for that instance.
      for (const [instance, at] of [
        [INSTANCES[0], deployment.contracts.SolvencyVerifier],
        [INSTANCES[1], deployment.contracts.RebalanceVerifier],
      ] as const) {
        const manifest = readManifest(instanceDir(defaultBuildPaths(), instance))!;
        assert.equal(await provider.getCode(at), artifactOf(defaultBuildPaths(), instance).deployedBytecode);
        const onChain = await new Contract(at, ["function VERIFICATION_KEY_HASH() view returns (bytes32)"], provider).getFunction("VERIFICATION_KEY_HASH")();
        assert.equal(onChain, manifest.verificationKeyHash, instance);
        assert.equal(deployment.verifierKeys.find((k) => k.instance === instance)!.verificationKeyHash, manifest.verificationKeyHash);
      }
      assert.deepEqual(
        deployment.verifierKeys.map((k) => [k.kind, k.label]),
        [
          ["development", "DEVELOPMENT key"],
          ["development", "DEVELOPMENT key"],
        ],
      );
      const market = loadMarket();
      const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
      const registry = new Contract(deployment.contracts.AuditRegistry, AUDIT_REGISTRY_ABI, provider);
      const oracle = new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, provider);
      assert.equal(await gate.getFunction("policyHash")(), policyHash(loadPolicy(market)));
      assert.equal(BigInt(deployment.policyHash), policyHash(loadPolicy(market)));
      assert.equal(await gate.getFunction("nAssets")(), 3n);
      for (const t of deployment.tokens) assert.equal(await gate.getFunction("tokenOf")(t.slot), t.address);
      assert.equal(await gate.getFunction("context")(), gateContext(31337n, deployment.contracts.RebalanceGate));
      assert.equal(deployment.contexts.RebalanceGate, gateContext(31337n, deployment.contracts.RebalanceGate).toString());
      assert.equal(await registry.getFunction("gate")(), deployment.contracts.RebalanceGate);
      assert.equal(await oracle.getFunction("freshnessWindow")(), 7200n);
      assert.equal(await oracle.getFunction("isPublisher")(deployment.deployer), true);
      assert.equal(await oracle.getFunction("owner")(), deployment.deployer);
      // Custody (docs/custody.md): option tokens per instrument, the lender (the gate its only borrower), the v2 factory, the swap slots.
      assert.equal(await gate.getFunction("nInstruments")(), 3n);
      assert.deepEqual(
        deployment.instrumentTokens.map((t) => t.id),
        market.instruments.map((k) => k.id),
      );
      for (const t of deployment.instrumentTokens) {
        assert.equal(t.test, true);
        assert.equal(await gate.getFunction("instrumentTokenOf")(t.slot), t.address);
      }
      assert.deepEqual(
        deployment.lenders.map((l) => l.test),
        [false, false, true],
      );
      for (const l of deployment.lenders) assert.equal(await gate.getFunction("lenderOf")(l.slot), l.address);
      const lender = new Contract(deployment.lenders[2]!.address, LENDER_VAULT_ABI, provider);
      assert.equal(await lender.getFunction("borrower")(), deployment.contracts.RebalanceGate);
      assert.equal(await lender.getFunction("asset")(), deployment.tokens[2]!.address);
      assert.equal(await lender.getFunction("ratePerSecond")(), 1585489599n);
      assert.equal(deployment.uniswapV2Factory.test, true);
      assert.equal(await gate.getFunction("factory")(), deployment.uniswapV2Factory.address);
      assert.equal(await new Contract(deployment.uniswapV2Factory.address, UNISWAP_V2_FACTORY_ABI, provider).getFunction("allPairsLength")(), 0n);
      assert.equal(deployment.nSwaps, 2);
      assert.equal(await gate.getFunction("nSwaps")(), 2n);
      assert.equal(await gate.getFunction("rebalanceSignalCount")(), 50n);
      // Enforcement (docs/enforcement.md): the keeper key of generation 1 and the default terms, on the chain and in the file.
      assert.deepEqual([...(await gate.getFunction("keeperKey")())], [...TEST_KEEPER.publicKey]);
      assert.equal(await gate.getFunction("keyGeneration")(), 1n);
      assert.equal(await gate.getFunction("liquidationBonus")(), 500n);
      assert.equal(await gate.getFunction("liquidationWindow")(), 3600n);
      assert.deepEqual(
        [deployment.keeperKey, deployment.keyGeneration, deployment.liquidationBonus, deployment.liquidationWindow],
        [TEST_KEEPER.publicKey.map(String), "1", "500", "3600"],
      );
      assert.match(stdout, /keeper key \(generation 1\) x = \d+, y = \d+; liquidation bonus 500 bps, grace window 3600 s/);
    } finally {
      provider.destroy();
    }
  });

  it("deploys to hardhat's in-process network by default in a checkout, with given token and factory addresses (0x0 for a slot without one)", async function () {
    const out = path.join(dir, "in-process.json");
    const tokens = ["0x0000000000000000000000000000000000000001", "0x0", "0x0000000000000000000000000000000000000003"];
    const factory = "0x0000000000000000000000000000000000000005";
    // A key file (secret and public half) works too: only its public half is used, checked against the secret.
    const run = await zksDeploy([
      "--policy-hash",
      "12345",
      "--tokens",
      tokens.join(","),
      "--factory",
      factory,
      "--keeper-key",
      keyFile,
      "--liquidation-bonus",
      "750",
      "--liquidation-window",
      "0",
      "--out",
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hardhat's in-process network: a dry run/);
    assert.doesNotMatch(run.stdout, new RegExp(OTHER_KEEPER.secret.toString(16)));
    const deployment = JSON.parse(readFileSync(out, "utf8")) as Deployment;
    assert.equal(deployment.network, "in-process");
    assert.equal(deployment.policyHash, "12345");
    assert.deepEqual(
      deployment.tokens.map((t) => t.address),
      [tokens[0], ZeroAddress, tokens[2]],
    );
    assert.deepEqual(deployment.uniswapV2Factory, { address: factory, test: false });
    assert.ok(deployment.lenders.every((l) => l.address === ZeroAddress));
    assert.ok(deployment.instrumentTokens.every((t) => t.address === ZeroAddress));
    assert.deepEqual([deployment.keeperKey, deployment.liquidationBonus, deployment.liquidationWindow], [OTHER_KEEPER.publicKey.map(String), "750", "0"]);
    assert.equal(JSON.stringify(deployment).includes(OTHER_KEEPER.secret.toString()), false, "the deployments file holds no secret");
  });

  it("refuses bad usage with exit status 2 and a message naming the flag, before any network (no policy, wrong counts, no factory, a lender without a token, keeper keys and liquidation terms)", async function () {
    // Keeper key files that must not reach a gate: a corrupt key file (public half not the
    // secret's), a public key off the curve, one outside the prime subgroup, not JSON.
    const corrupt = path.join(dir, "corrupt.json");
    writeFileSync(corrupt, keeperKeyFileJson({ secret: OTHER_KEEPER.secret, publicKey: TEST_KEEPER.publicKey }));
    const offCurve = path.join(dir, "off-curve.pub.json");
    writeFileSync(offCurve, keeperPublicKeyFileJson([TEST_KEEPER.publicKey[0], TEST_KEEPER.publicKey[1] + 1n]));
    const orderTwo = path.join(dir, "order-two.pub.json");
    writeFileSync(
      orderTwo,
      JSON.stringify({
        version: 1,
        kind: "zks-keeper-public-key",
        publicKey: ["0", (21888242871839275222246405745257275088548364400416034343698204186575808495617n - 1n).toString()],
      }),
    );
    const notJson = path.join(dir, "not-json.json");
    writeFileSync(notJson, "keeper");
    const defaults = { size: "3x3x16", freshness: "3600", liquidationBonus: "500", liquidationWindow: "3600" };
    const base: DeployFlags = { ...defaults, policyHash: "1", testTokens: true };
    const withKey: DeployFlags = { ...base, keeperKey: publicKeyFile };
    const factory = "0x0000000000000000000000000000000000000005";
    // In-process: the flags' parse says why (exit 2, an InputError) without touching a chain.
    for (const [flags, message] of [
      [{ ...base, keeperKey: offCurve }, /off-curve\.pub\.json: publicKey: the point is not on the Baby Jubjub curve/],
      [{ ...base, keeperKey: orderTwo }, /order-two\.pub\.json: publicKey: the point is not in Baby Jubjub's prime-order subgroup/],
      [{ ...base, keeperKey: notJson }, /not-json\.json: malformed JSON/],
      [{ ...base, keeperKey: path.join(dir, "missing.json") }, /missing\.json: file not found/],
      [{ ...base, keeperKey: corrupt }, /corrupt\.json: publicKey: does not match the secret/],
      [base, /^--keeper-key: missing/],
      [{ ...withKey, liquidationBonus: "2001" }, /^--liquidation-bonus: basis points of the debt value repaid, an integer from 0 to 2000; got 2001/],
      [{ ...withKey, liquidationWindow: "2592001" }, /^--liquidation-window: seconds, an integer from 0 to 2592000; got 2592001/],
      [{ ...withKey, liquidationWindow: "1h" }, /^--liquidation-window: not a non-negative integer: "1h"/],
      [{ ...withKey, testTokens: undefined, keeperKey: publicKeyFile }, /^--tokens: give exactly one of --tokens A,B,C .* or --test-tokens/],
      [{ ...defaults, testTokens: true, keeperKey: publicKeyFile }, /^--policy: the gate needs a policy/],
      [{ ...withKey, policy: example("policy.json") }, /^--policy: needs --market/],
      [{ ...withKey, testTokens: undefined, tokens: "0x0,0x0", factory }, /^--tokens: 2 addresses for 3 asset slots/],
      [{ ...withKey, testTokens: undefined, tokens: "0x0,0x0,0x0" }, /^--factory: the gate swaps on a Uniswap v2 factory/],
      [{ ...withKey, testTokens: undefined, tokens: "0x0,0x0,0xnope", factory }, /^--tokens: not an address: 0xnope/],
      [{ ...withKey, testLenders: "DAI" }, /^--test-lenders: no token for DAI/],
      [{ ...withKey, lenders: "0x0,0x0,0x0", testLenders: "TST0" }, /^--test-lenders: give --lenders or --test-lenders, not both/],
      [{ ...withKey, instrumentTokens: "0x0" }, /^--instrument-tokens: 1 addresses for 3 instrument slots/],
      [{ ...withKey, size: "3x3" }, /^--size: expected assets x instruments x scenarios/],
      [{ ...withKey, policyHash: "0" }, /^--policy-hash: must be a BN254 field element above 0/],
      [{ ...withKey, freshness: "0" }, /^--freshness: seconds, a positive integer/],
      [{ ...withKey, market: example("market-grid.json"), size: "2x3x16" }, /^--market: has 3 assets; instance size 2x3x16 has 2 slots/],
    ] as [DeployFlags, RegExp][]) {
      assert.throws(
        () => deployOptionsFromFlags(flags),
        (error: Error & { exitCode?: number }) => {
          assert.equal(error.exitCode, 2, `${error.constructor.name}: ${error.message}`);
          assert.match(error.message, message);
          return true;
        },
      );
    }
    // The command line: one line, exit 2, nothing sent (no --rpc reached).
    for (const [args, message] of [
      [["--policy-hash", "1", "--tokens", "0x0,0x0", "--factory", factory, "--keeper-key", publicKeyFile], /^zks: --tokens: 2 addresses for 3 asset slots$/],
      [["--policy-hash", "1", "--test-tokens", "--keeper-key", corrupt, "--rpc", url], /^zks: .*corrupt\.json: publicKey: does not match the secret/],
      [["--policy-hash", "1", "--test-tokens", "--keeper-key", publicKeyFile, "--private-key", "0x01"], /unknown option '--private-key'/],
    ] as const) {
      const run = await zksDeploy([...args], { ZKS_PRIVATE_KEY: DEPLOYER_KEY });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr.trim().split("\n")[0]!, message);
      assert.doesNotMatch(run.stderr, /\bat .+:\d+:\d+/);
    }
    // A missing signing key is a setup problem, as for `zks submit` (exit 3).
    const keyless = await zksDeploy(["--policy-hash", "1", "--test-tokens", "--keeper-key", publicKeyFile, "--rpc", url]);
    assert.equal(keyless.code, 3, keyless.stderr);
    assert.match(keyless.stderr, /^zks: set ZKS_PRIVATE_KEY to the signing account's private key/);
  });

  it("on a chain other than 31337 and 1337 (a node posing as chain 1), refuses with exit 2 before any transaction: a grace window of 0, the demo's keeper key, a key file holding the keeper's secret", async function () {
    const mainnet = await startLocalNode(120_000, 1);
    try {
      const demoFile = path.join(dir, "demo.pub.json");
      writeFileSync(demoFile, keeperPublicKeyFileJson(demoKeeperKey().publicKey));
      const base = ["--rpc", mainnet.url, "--policy-hash", "1", "--test-tokens"];
      for (const [args, message] of [
        [
          ["--keeper-key", publicKeyFile, "--liquidation-window", "0"],
          /^zks: --liquidation-window: chain 1 is not a local chain \(31337, 1337\): a grace window of 0 lets a keeper flag a position and liquidate it in the next transaction/,
        ],
        [
          ["--keeper-key", demoFile],
          /^zks: --keeper-key .*demo\.pub\.json: chain 1 is not a local chain \(31337, 1337\): this is the demo's keeper key, derived from a public seed/,
        ],
        [
          ["--keeper-key", keyFile],
          /^zks: --keeper-key .*other-keeper\.json: chain 1 is not a local chain \(31337, 1337\): the file holds the keeper's secret; give its public-key file/,
        ],
      ] as const) {
        const run = await zksDeploy([...base, ...args], { ZKS_PRIVATE_KEY: DEPLOYER_KEY });
        assert.equal(run.code, 2, run.stderr);
        assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
        assert.match(run.stderr, message);
      }
      // Nothing was sent: the deployer's nonce on that chain is still 0.
      const provider = new JsonRpcProvider(mainnet.url, undefined, { staticNetwork: true });
      try {
        assert.equal(await provider.getTransactionCount(new Wallet(DEPLOYER_KEY).address), 0);
      } finally {
        provider.destroy();
      }
      // The same settings go to a local chain (the JSON-RPC test deploys the public-key file with the defaults; window 0 and a key file: the in-process one).
    } finally {
      await mainnet.stop();
    }
  });

  describe("the verifiers' artifacts (verifier.json) as deployStack reads them", function () {
    let provider: JsonRpcProvider;
    /** deployStack on the local node with given tokens and factory (no test contracts) from `paths`. */
    const deployFrom = (paths: BuildPaths, extra: Partial<DeployStackOptions> = {}) =>
      deployStack(new Wallet(DEPLOYER_KEY, provider), {
        policyHash: 1n,
        tokens: [ZeroAddress, ZeroAddress, ZeroAddress],
        factory: "0x0000000000000000000000000000000000000005",
        keeperKey: readKeeperKey(publicKeyFile),
        paths,
        ...extra,
      });
    before(function () {
      provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100 });
    });
    after(function () {
      provider.destroy();
    });

    it("deployStack from the API: a signer and options in, the deployment out (the verifiers' keys classified from verifier.json)", async function () {
      const deployment = await deployFrom(defaultBuildPaths());
      assert.equal(deployment.network, "json-rpc");
      assert.deepEqual(
        deployment.verifierKeys.map((k) => k.kind),
        ["development", "development"],
      );
      const gate = new Contract(deployment.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider);
      assert.equal(await gate.getFunction("policyHash")(), 1n);
    });

    it("refuses a verifier.json whose creation code deploys other code than its runtime code (exit 3), before any gate trusts it", async function () {
      const paths = copyBuild(mkdtempSync(path.join(dir, "swapped-")));
      // The rebalance verifier's file keeps its runtime code (what the key check reads) but
      // carries the solvency verifier's creation code: the chain would run another contract.
      const rebalance = artifactOf(paths, INSTANCES[1]);
      writeArtifact(paths, INSTANCES[1], { ...rebalance, bytecode: artifactOf(paths, INSTANCES[0]).bytecode });
      const nonce = await provider.getTransactionCount(new Wallet(DEPLOYER_KEY).address);
      await assert.rejects(deployFrom(paths), (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /rebalance-3x3x16\/verifier\.json: bytecode: deploying it left other code at 0x[0-9a-fA-F]{40} than its deployedBytecode/);
        return true;
      });
      // The verifiers go first: two deployments, then the refusal; no oracle, gate or registry.
      assert.equal(await provider.getTransactionCount(new Wallet(DEPLOYER_KEY).address), nonce + 2);
    });

    it("refuses a verifier whose VERIFICATION_KEY_HASH is not the installed key's (exit 3)", async function () {
      const paths = copyBuild(mkdtempSync(path.join(dir, "other-key-")));
      const manifestFile = path.join(instanceDir(paths, INSTANCES[0]), "manifest.json");
      const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { verificationKeyHash: string };
      const other = `0x${"ab".repeat(32)}`;
      writeFileSync(manifestFile, JSON.stringify({ ...manifest, verificationKeyHash: other }));
      await assert.rejects(deployFrom(paths), (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 3);
        assert.match(error.message, new RegExp(`the deployed Solvency3x3x16Verifier's VERIFICATION_KEY_HASH is ${manifest.verificationKeyHash}, not the installed key's ${other}`));
        return true;
      });
    });

    it("a verifier.json compiled from an edited source is an UNKNOWN key (a local chain only); a source that is not its recorded sha256, or a missing file, is refused (exit 3)", async function () {
      const paths = copyBuild(mkdtempSync(path.join(dir, "edited-")));
      const solvency = artifactOf(paths, INSTANCES[0]);
      // An edit that keeps the VERIFICATION_KEY_HASH line and every key constant.
      const source = `${solvency.source}\n// an edit\n`;
      const { createHash } = await import("node:crypto");
      writeArtifact(paths, INSTANCES[0], { ...solvency, source, sourceSha256: createHash("sha256").update(source).digest("hex") });
      const deployment = await deployFrom(paths);
      assert.equal(deployment.verifierKeys[0]!.kind, "unknown");
      assert.match(deployment.verifierKeys[0]!.label, /^UNKNOWN key \(compiled from a source other than the verifier the installed key of solvency-3x3x16 makes/);
      assert.equal(deployment.verifierKeys[0]!.deployable, false);

      writeArtifact(paths, INSTANCES[0], { ...solvency, source });
      await assert.rejects(deployFrom(paths), /solvency-3x3x16\/verifier\.json: sourceSha256: not the sha256 of its source; run `zks setup`/);
      rmSync(path.join(instanceDir(paths, INSTANCES[0]), VERIFIER_ARTIFACT_FILE));
      await assert.rejects(deployFrom(paths), (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 3);
        assert.match(
          error.message,
          /solvency-3x3x16\/verifier\.json is missing: `zks setup --instance solvency-3x3x16` compiles the verifier when solc is installed; install the compiler with `npm install solc@0\.8\.37`/,
        );
        return true;
      });
    });
  });
});
