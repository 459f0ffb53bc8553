/**
 * Audit completeness against the chain (docs/audit.md), with real proofs on a real `hardhat node`:
 * `zks deploy` puts the RebalanceGate, its test tokens, option tokens and a USDC LenderVault on
 * the node; three accounts register real positions with real `rebalance-3x3x16` proofs (deposits,
 * a borrow from the lender, long puts); someone donates WETH to the gate. Then:
 *   - an honest `zks audit --rpc --gate --block` (its book checked against the gate first, the chain
 *     state recorded) is VALID and COMPLETE under `zks audit verify --rpc`, with per-token reserves
 *     (the donation reported as surplus);
 *   - the operator's own check refuses a book with a fake, a dropped or a stale position (exit 2);
 *   - audits proven without that check and published anyway are rejected by `zks audit verify
 *     --rpc`, each naming what is wrong: a fake account, a dropped account, a stale commitment,
 *     and per-token totals the gate does not back (tokens drained from it).
 *
 *   npx mocha --no-config -n import=tsx --timeout 600000 test/audit-chain.e2e.test.ts
 */
import { zksAsync as runZksAsync } from "./helpers/cli.ts";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, HDNodeWallet, JsonRpcProvider, JsonRpcSigner, NonceManager, Wallet, type Signer } from "ethers";
import { parseAuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { ERC20_ABI, MARKET_ORACLE_ABI, REBALANCE_GATE_ABI } from "../packages/sdk/src/chain/abi.ts";
import { gateArguments } from "../packages/sdk/src/chain/calldata.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { commitPosition } from "../packages/sdk/src/commitment/position-commitment.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import type { Position } from "../packages/sdk/src/inputs/types.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { generateProof } from "../packages/sdk/src/prover/prove.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { registrationTransition } from "../packages/sdk/src/rebalance/registration.ts";
import { noMovements, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { LAYOUT, transitionOf, USDC, WETH } from "./helpers/contracts-fixtures.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { HARDHAT_MNEMONIC, startLocalNode, type LocalNode } from "./helpers/local-node.ts";

const hardhatKey = (index: number) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
const E6 = 10n ** 6n;
const E8 = 10n ** 8n;
const E18 = 10n ** 18n;
const PUT = 1; // ETH-26DEC26-2800-P: instrument slot 1 of the example market
const EPOCH = 42n;

/** The CLI as a child process, without blocking this process's event loop (the node is a child too). */
function zks(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runZksAsync(args, env);
}

const oneLine = (stderr: string, fragment: RegExp): void => {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, fragment);
  assert.doesNotMatch(stderr, /\bat .+:\d+:\d+/);
};

describe("audit completeness against the chain (real proofs, a local hardhat node)", function () {
  this.timeout(900_000);
  const market = loadMarket();
  const policy = loadPolicy(market);
  const inputs = ["--market", example("market-grid.json"), "--policy", example("policy.json")];
  let node: LocalNode;
  let url: string;
  let dir: string;
  let provider: JsonRpcProvider;
  let owner: Signer;
  let gate: string;
  let tokens: Contract[]; // WETH, WBTC, USDC, as the owner (test tokens: anyone mints)
  let positions: Position[]; // the registered positions, in increasing account order
  let block: number; // the block the honest audit is at
  const book = (name: string, list: Position[]): string => {
    const file = path.join(dir, `${name}.jsonl`);
    writeFileSync(file, `${list.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
    return file;
  };
  const prove = (bookFile: string, out: string, ...extra: string[]) =>
    zks(["audit", "--positions", bookFile, ...inputs, "--out", path.join(dir, out), "--tier", "test", "--workers", "2", ...extra]);
  /** The user pins the gate (and its oracle, tokens and lenders) with the deployments file; audit.json's gate is only the operator's claim. */
  const verify = (out: string, ...extra: string[]) => zks(["audit", "verify", "--audit", path.join(dir, out), ...inputs, "--rpc", url, "--deployment", deploymentFile, ...extra]);
  let deploymentFile: string;
  const chain = () => ["--rpc", url, "--gate", gate, "--block", String(block)];
  /** The node's latest block, asked each time (ethers' getBlockNumber() answers from a short cache). */
  const latestBlock = async (): Promise<number> => Number(await provider.send("eth_blockNumber", []));

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "zks-audit-chain-"));
    node = await startLocalNode();
    url = node.url;
    deploymentFile = path.join(dir, "deployment.json");
    const keeperKeyFile = path.join(dir, "keeper.pub.json");
    writeFileSync(keeperKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
    const deployed = await zks(["deploy", "--rpc", url, ...inputs, "--test-tokens", "--test-lenders", "USDC", "--keeper-key", keeperKeyFile, "--out", deploymentFile], {
      ZKS_PRIVATE_KEY: hardhatKey(0),
    });
    assert.equal(deployed.code, 0, deployed.stderr);
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
    gate = deployment.contracts.RebalanceGate;
    const context = BigInt(deployment.contexts.RebalanceGate);

    provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100 });
    // NonceManager: the provider's short nonce cache would give consecutive transactions the same one.
    owner = new NonceManager(new Wallet(hardhatKey(0), provider));
    const mintable = [...ERC20_ABI, "function mint(address to, uint256 amount)", "function transfer(address to, uint256 amount) returns (bool)"];
    tokens = deployment.tokens.map((t: { address: string }) => new Contract(t.address, mintable, owner));
    const put = new Contract(deployment.instrumentTokens[PUT].address, mintable, owner);
    const send = async (contract: Contract, method: string, ...args: unknown[]) => (await contract.getFunction(method)(...args)).wait();
    const latest = (await provider.getBlock("latest"))!;
    await send(new Contract(deployment.contracts.MarketOracle, MARKET_ORACLE_ABI, owner), "publish", EPOCH, marketRoot(market, LAYOUT), BigInt(latest.timestamp));
    // The lender's depositor: 1,000,000 USDC to lend.
    const lender = new Contract(deployment.lenders[USDC].address, ["function deposit(uint256 assets, address receiver) returns (uint256)"], owner);
    await send(tokens[USDC]!, "mint", await owner.getAddress(), 1_000_000n * E6);
    await send(tokens[USDC]!, "approve", await lender.getAddress(), 1_000_000n * E6);
    await send(lender, "deposit", 1_000_000n * E6, await owner.getAddress());

    // Three accounts register real positions, each with a real proof of the transition from the empty position.
    const accounts = [1, 2, 3].map((i) => new NonceManager(new Wallet(hardhatKey(i), provider)));
    const targets: [number, bigint[], bigint[], bigint[]][] = [
      [0, [10n * E18, 0n, 20_000n * E6], [0n, 0n, 5_000n * E6], [0n, 0n, 0n]], // WETH and USDC, 5,000 USDC borrowed
      [1, [5n * E18, 0n, 0n], [0n, 0n, 0n], [0n, 2n * E8, 0n]], // WETH and 2 long puts
      [2, [0n, E8, 10_000n * E6], [0n, 0n, 0n], [0n, 0n, 0n]], // WBTC and USDC
    ];
    const artifacts = loadInstanceArtifacts("rebalance-3x3x16");
    const gateContract = (signer: Signer) => new Contract(gate, REBALANCE_GATE_ABI, signer);
    const registered: Position[] = [];
    for (const [i, collateral, debt, quantities] of targets) {
      const wallet = accounts[i]!;
      const account = await wallet.getAddress();
      const position: Position = { version: 1, account, nonce: 1n, salt: 1_000n + BigInt(i), collateral, debt, quantities };
      const t = registrationTransition(position, market, policy);
      for (const [slot, token] of tokens.entries()) {
        const deposit = t.flows[slot]!;
        if (deposit > 0n) await send(token, "mint", account, deposit);
        await send(token.connect(wallet) as Contract, "approve", gate, 1n << 255n);
      }
      if (quantities[PUT]! > 0n) await send(put, "mint", account, quantities[PUT]!);
      await send(put.connect(wallet) as Contract, "approve", gate, 1n << 255n);
      const { proof, signals } = gateArguments(await generateProof(rebalanceInput(t, market, policy, LAYOUT, account, context, { keeperKey: TEST_KEEPER.publicKey }), artifacts));
      await send(gateContract(wallet), "register", EPOCH, proof, signals);
      registered.push(t.next);
    }
    positions = registered.sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : 1));
    // A donation: 1 WETH sent to the gate by someone with no position. It backs nothing; the audit reports it as surplus.
    await send(tokens[WETH]!, "mint", gate, E18);
    block = await latestBlock();
    for (const p of positions)
      assert.equal(await gateContract(owner).getFunction("commitmentOf")(p.account), commitPosition(p, p.salt!, LAYOUT), "the gate holds each registered position");

    // The stale test's rebalance is proven now (while nothing else proves) and sent later.
    staleMove = transitionOf(positions[0]!, { ...noMovements(market), flows: [E18, 0n, 0n] }, 77n);
    const zk = await generateProof(rebalanceInput(staleMove, market, policy, LAYOUT, "stale", context, { keeperKey: TEST_KEEPER.publicKey }), artifacts);
    const staleSigner = accounts[(await Promise.all(accounts.map((w) => w.getAddress()))).indexOf(staleMove.old.account)]!;
    sendStaleMove = async () => {
      await send(tokens[WETH]!, "mint", staleMove.old.account, E18);
      const { proof, signals } = gateArguments(zk);
      await send(gateContract(staleSigner), "rebalance", EPOCH, proof, signals);
    };
  });
  let staleMove: Transition;
  let sendStaleMove: () => Promise<void>;

  after(async function () {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("an honest audit: the book checked against the gate before proving, the chain state recorded; verify --rpc finds it complete, with per-token reserves and the donation as surplus", async function () {
    const result = await prove(book("honest", positions), "honest", ...chain());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`the book is exactly the 3 positions gate ${gate} holds at block ${block} \\(chain 31337\\), backed by its holdings`));
    assert.match(result.stdout, new RegExp(`complete: exactly the 3 positions gate ${gate} holds at block ${block} on chain 31337 \\(recorded in audit.json\\)`));
    const report = parseAuditReport(JSON.parse(readFileSync(path.join(dir, "honest", "audit.json"), "utf8")), "audit.json");
    assert.deepEqual({ ...report.chain, blockHash: undefined }, { chainId: 31337n, gate, block, blockHash: undefined });
    assert.equal(report.chain!.blockHash, (await provider.getBlock(block))!.hash);
    // Per-token totals: what the three positions hold and owe.
    assert.deepEqual(report.root.sums.amounts, [15n * E18, E8, 30_000n * E6]);
    assert.deepEqual(report.root.sums.debtUnits, [0n, 0n, 5_000n * E6]);
    assert.deepEqual(report.root.sums.long, [0n, 2n * E8, 0n]);

    const verified = await verify("honest");
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^VALID: audit of epoch 42: 3 positions, 0 failing/);
    assert.match(
      verified.stdout,
      new RegExp(`COMPLETE: the audited positions are exactly the 3 accounts registered with gate ${gate} on chain 31337 at block ${block}, each at its commitment there`),
    );
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
    assert.match(
      verified.stdout,
      new RegExp(`gate pinned by ${deploymentFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(its oracle ${deployment.contracts.MarketOracle}, tokens and lenders checked\\)`, "i"),
    );
    assert.match(
      verified.stdout,
      new RegExp(
        `WETH \\(token ${deployment.tokens[WETH].address}\\): the gate holds 16\\.0; the positions hold 15\\.0 \\(surplus 1\\.0: held beyond what the positions commit, e\\.g\\. a donation\\)`,
        "i",
      ),
    );
    assert.match(verified.stdout, /USDC \(token 0x[0-9a-fA-F]{40}\): the gate holds 30000\.0; the positions hold 30000\.0\n/);
    assert.match(verified.stdout, new RegExp(`USDC debt: the lender ${deployment.lenders[USDC].address} counts 5000\\.0 debt units of the gate; the positions owe 5000\\.0`, "i"));
    assert.match(verified.stdout, /ETH-26DEC26-2800-P \(token 0x[0-9a-fA-F]{40}\): the gate holds 2\.0 option tokens; the positions hold 2\.0/);
    // audit.json's gate alone is the operator's claim: the user must pin it.
    const unpinned = await zks(["audit", "verify", "--audit", path.join(dir, "honest"), ...inputs, "--rpc", url]);
    assert.equal(unpinned.code, 2, unpinned.stdout + unpinned.stderr);
    oneLine(unpinned.stderr, new RegExp(`--rpc: pin the gate with --gate ADDR or --deployment FILE; audit\\.json's gate \\(${gate.toLowerCase()}\\) is the operator's claim`, "i"));
    // A --from-block after the gate's deployment would miss registrations before it.
    const late = await verify("honest", "--from-block", String(block));
    assert.equal(late.code, 2, late.stdout + late.stderr);
    oneLine(late.stderr, new RegExp(`--from-block: gate ${gate} already exists at block ${block - 1}: registrations before block ${block} would be missed`));
    const json = await verify("honest", "--json");
    assert.equal(json.code, 0, json.stderr);
    const verdict = JSON.parse(json.stdout);
    assert.equal(verdict.complete, true);
    assert.equal(verdict.gate.accounts, 3);
    assert.equal(verdict.gate.reserves.find((r: { label: string; what: string }) => r.label === "WETH" && r.what === "collateral").surplus, String(E18));
  });

  it("the operator's own check refuses a book that is not the gate's, before any proof (exit 2, one line)", async function () {
    const fake: Position = { ...positions[0]!, account: "0x8000000000000000000000000000000000000001", salt: 5n };
    const withFake = await prove(book("check-fake", [...positions, fake]), "x", ...chain());
    assert.equal(withFake.code, 2, withFake.stderr);
    oneLine(withFake.stderr, new RegExp(`check-fake\\.jsonl:4: account: 0x8000000000000000000000000000000000000001 is not registered with gate ${gate} at block ${block}$`));
    const without = await prove(book("check-dropped", [positions[0]!, positions[2]!]), "x", ...chain());
    assert.equal(without.code, 2);
    oneLine(
      without.stderr,
      new RegExp(`--positions: 1 account\\(s\\) registered with gate ${gate} at block ${block} have no position in the book, e\\.g\\. ${positions[1]!.account.toLowerCase()}`),
    );
    const resalted = await prove(book("check-stale", [positions[0]!, { ...positions[1]!, salt: 9n }, positions[2]!]), "x", ...chain());
    assert.equal(resalted.code, 2);
    oneLine(
      resalted.stderr,
      /check-stale\.jsonl:2: this position's commitment 0x[0-9a-f]{8}… is not the one gate .* holds for .* at block \d+ \(0x[0-9a-f]{8}…\): a stale version \(another nonce\) or another salt/,
    );
  });

  it("a fake-account audit is rejected: valid proofs of a book with an account the gate does not hold", async function () {
    // Between the second and third account: batches [1, 2] and [fake, 3].
    const fake: Position = { ...positions[1]!, account: "0x8000000000000000000000000000000000000001", salt: 5n };
    const proven = await prove(book("fake", [...positions, fake]), "fake");
    assert.equal(proven.code, 0, proven.stderr);
    const plain = await zks(["audit", "verify", "--audit", path.join(dir, "fake"), ...inputs]);
    assert.equal(plain.code, 0, "without the chain, the proofs are valid: the fake account holds real collateral in the book");
    const result = await verify("fake", "--block", String(block));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^INVALID: batch proof 1's first account 0x8000000000000000000000000000000000000001 is not registered with the gate at block ${block}: the audit counts a position the gate does not hold \\(a fake account\\)`,
      ),
    );
  });

  it("a dropped-account audit is rejected: the middle account left out of the book", async function () {
    const proven = await prove(book("dropped", [positions[0]!, positions[2]!]), "dropped");
    assert.equal(proven.code, 0, proven.stderr);
    const result = await verify("dropped", "--block", String(block));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^INVALID: account ${positions[1]!.account.toLowerCase()} is registered with the gate at block ${block} \\(commitment 0x[0-9a-f]{8}…\\) but is not among the 2 positions of batch proof 0, whose range \\[.*\\] holds it: the audit leaves it out \\(a dropped account\\)`,
      ),
    );
  });

  it("per-token totals the gate does not back are rejected: WETH taken from the gate without a proof", async function () {
    const snapshot = await provider.send("evm_snapshot", []);
    try {
      // As a custody bug or a stolen key would: the gate's own address sends 2 WETH away (1 more than the donation).
      await provider.send("hardhat_impersonateAccount", [gate]);
      await provider.send("hardhat_setBalance", [gate, "0xde0b6b3a7640000"]);
      // A JsonRpcSigner for the impersonated address (getSigner() accepts only the node's own accounts).
      const asGate = new JsonRpcSigner(provider, gate);
      await (await (tokens[WETH]!.connect(asGate) as Contract).getFunction("transfer")(await owner.getAddress(), 2n * E18)).wait();
      const drained = await latestBlock();
      const result = await verify("honest", "--block", String(drained));
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`^INVALID: WETH: the gate holds 14\\.0 at block ${drained}, the audited positions hold 15\\.0: short by 1\\.0 \\(reserves below liabilities to the accounts\\)`),
      );
    } finally {
      await provider.send("evm_revert", [snapshot]);
    }
  });

  it("a stale-commitment audit is rejected: the positions at one block presented as the gate's at a later one", async function () {
    await sendStaleMove(); // the first account deposits 1 WETH: the gate now holds its nonce-2 commitment
    const later = await latestBlock();
    const stale = positions[0]!;
    const result = await verify("honest", "--block", String(later));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^INVALID: batch proof 0, slot 0: not account ${stale.account.toLowerCase()}'s position at block ${later} \\(the gate holds commitment 0x[0-9a-f]{8}…\\): a stale or forged version of it`,
      ),
    );
    // The same audit claiming the later block in its own record: the record is the operator's claim, checked, not trusted.
    const json = JSON.parse(readFileSync(path.join(dir, "honest", "audit.json"), "utf8"));
    json.chain.block = later;
    json.chain.blockHash = (await provider.getBlock(later))!.hash;
    writeFileSync(path.join(dir, "claims-later.json"), JSON.stringify(json));
    const claimed = await zks(["audit", "verify", "--audit", path.join(dir, "claims-later.json"), ...inputs, "--rpc", url, "--gate", gate]);
    assert.equal(claimed.code, 1, claimed.stdout + claimed.stderr);
    assert.match(claimed.stdout, /^INVALID: batch proof 0, slot 0: not account/);
    // At its own block the honest audit still holds (the node keeps the state of every block).
    const atBlock = await verify("honest");
    assert.equal(atBlock.code, 0, atBlock.stdout + atBlock.stderr);
    assert.match(atBlock.stdout, new RegExp(`COMPLETE: the audited positions are exactly the 3 accounts registered with gate ${gate} on chain 31337 at block ${block},`));
  });
});
