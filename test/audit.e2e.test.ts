/**
 * The audit end to end with real proofs (test-tier instances): `zks audit` over a JSONL book,
 * `zks audit verify`, inclusion proofs cut and checked by each account; then tampered, replayed,
 * reordered and stale audits rejected by verifyAudit, and bad input refused with named errors.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAuditReport, type AuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { accountFigures } from "../packages/sdk/src/audit/figures.ts";
import { checkInclusion, inclusionFile, matchLeaf } from "../packages/sdk/src/audit/inclusion.ts";
import { AuditTreeError, buildSumTree, figuresDigest, ownerHash, type AuditLeaf, type MerkleSumTree } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { syntheticBook } from "../packages/sdk/src/audit/synthetic-book.ts";
import { AuditKeyError, AuditVerificationError, verifyAudit, type AuditKeys } from "../packages/sdk/src/audit/verify-audit.ts";
import { marketRoot } from "../packages/sdk/src/commitment/market-root.ts";
import { verificationKeyHash } from "../packages/sdk/src/verifier/key-hash.ts";
import { positionToJson } from "../packages/sdk/src/inputs/position-file.ts";
import { checkPosition } from "../packages/sdk/src/model/check.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readBook } from "../packages/node/src/audit/read-book.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example, loadMarket, loadPolicy, loadPosition } from "./helpers/examples.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");
const zks = (...args: string[]) => spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "" }, maxBuffer: 16 << 20 });
const LAYOUT = { nAssets: 3, nInstruments: 3, nScenarios: 16 };

/**
 * The public signals the audit's proofs would have for `tree` (batch: hash, digest, first, last,
 * marketRoot, policyHash, positions, failing, members; merge: hash, digest, first, last, positions,
 * failing, then its children's hashes, digests, firsts and lasts), each with the honest run's
 * Groth16 proof.
 */
function signalsOf(tree: MerkleSumTree, leaves: readonly AuditLeaf[], report: AuditReport): AuditReport["proofs"] {
  const width = (l: number) => report.batchSize * report.fanIn ** l;
  const subtree = (l: number, j: number) => {
    const node = tree.levels[Math.log2(width(l))]![j]!;
    const below = leaves.slice(j * width(l), (j + 1) * width(l));
    const accounts = below.map((leaf) => leaf.account);
    const members = Array.from({ length: width(l) }, (_, s) => (below[s] ? ownerHash(below[s]!.commitment, below[s]!.account) : ownerHash(0n, 0n)));
    return { hash: node.hash, digest: figuresDigest(node.sums), first: accounts[0] ?? 0n, last: accounts.at(-1) ?? 0n, sums: node.sums, members };
  };
  return report.proofs.map((level, l) =>
    level.map((zkProof, j) => {
      const s = subtree(l, j);
      const own = [s.hash, s.digest, s.first, s.last];
      const counts = [s.sums.positions, s.sums.fails];
      if (l === 0) return { ...zkProof, publicSignals: [...own, report.marketRoot, report.policyHash, ...counts, ...s.members].map(String) };
      const children = Array.from({ length: report.fanIn }, (_, c) => subtree(l - 1, j * report.fanIn + c));
      return {
        ...zkProof,
        publicSignals: [...own, ...counts, ...children.map((c) => c.hash), ...children.map((c) => c.digest), ...children.map((c) => c.first), ...children.map((c) => c.last)].map(
          String,
        ),
      };
    }),
  );
}

describe("audit, end to end (real proofs)", function () {
  this.timeout(900_000);
  const market = loadMarket();
  const policy = loadPolicy(market);
  const healthy = loadPosition("position-healthy.json", market);
  const atRisk = loadPosition("position-at-risk.json", market);
  // 7 positions: 4 batches of 2, merged 2 at a time (2 + 1): depth 3, one padding leaf.
  const book = syntheticBook(healthy, atRisk, { count: 7, seed: 11, atRiskShare: 0.3 });
  const failingInBook = book.filter((p) => !checkPosition(p, market, policy).pass).length;
  let dir: string;
  let report: AuditReport;
  let keys: AuditKeys;
  const common = ["--market", example("market-grid.json"), "--policy", example("policy.json")];

  before(function () {
    assert.ok(failingInBook >= 1 && failingInBook < 7, `the book should mix verdicts (failing: ${failingInBook})`);
    dir = mkdtempSync(path.join(tmpdir(), "zks-audit-"));
    writeFileSync(path.join(dir, "book.jsonl"), `${book.map((p) => JSON.stringify(positionToJson(p, market))).join("\n")}\n`);
    book.forEach((p, i) => writeFileSync(path.join(dir, `position-${i}.json`), JSON.stringify(positionToJson(p, market))));
    keys = {
      batch: loadInstanceArtifacts("audit-batch-3x3x16x2").verificationKey,
      merge: loadInstanceArtifacts("audit-merge-3x3x16x2").verificationKey,
      top: loadInstanceArtifacts("audit-top-3x3x16x2").verificationKey,
    };
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    await releaseProverThreads();
  });

  it("zks audit proves the book: batches in parallel, chained by root, with a summary", function () {
    const result = zks("audit", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "out"), "--tier", "test", "--workers", "2");
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`PROVEN: audit of epoch ${market.epoch}, 7 positions, ${failingInBook} failing`));
    assert.match(result.stdout, /7 proofs in .* \(4 \+ 2 \+ 1\); tree depth 3/);
    assert.match(result.stderr, /batch proofs/);
    report = parseAuditReport(JSON.parse(readFileSync(path.join(dir, "out", "audit.json"), "utf8")), "audit.json");
    assert.equal(report.root.sums.positions, 7n);
    assert.equal(report.root.sums.fails, BigInt(failingInBook));
    // Per-token totals: what the book's positions hold and owe, token by token.
    const total = (pick: (p: (typeof book)[number]) => bigint) => book.reduce((sum, p) => sum + pick(p), 0n);
    assert.equal(
      report.root.sums.amounts[0],
      total((p) => p.collateral[0]!),
    );
    assert.equal(
      report.root.sums.debtUnits[2],
      total((p) => p.debt[2]!),
    );
    assert.equal(
      report.root.sums.written[0],
      total((p) => (p.quantities[0]! < 0n ? -p.quantities[0]! : 0n)),
    );
    assert.match(result.stdout, /per token {9}WETH [\d.]+ held; WBTC [\d.]+ held; USDC [\d.]+ held, [\d.]+ owed \(debt units\)/);
    // The keys it was proven with, and what they are.
    assert.equal(report.keys.batch.verificationKeyHash, verificationKeyHash(keys.batch));
    assert.equal(report.keys.top.keySource.kind, "development");
    assert.match(result.stdout, /keys: not deployable \(batch: DEVELOPMENT key, merge: DEVELOPMENT key, top: DEVELOPMENT key\): whoever made them/);
  });

  it("zks audit verify checks every proof and the chaining (and the market and policy when given)", async function () {
    const result = zks("audit", "verify", "--audit", path.join(dir, "out"), ...common);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /VALID: audit of epoch 42: 7 positions/);
    assert.match(result.stdout, /keys: not deployable \(batch: DEVELOPMENT key/);
    // audit.json naming a key this machine does not have: an error (exit 3, one line), not INVALID.
    const json = JSON.parse(readFileSync(path.join(dir, "out", "audit.json"), "utf8"));
    json.keys.merge.verificationKeyHash = verificationKeyHash(keys.top);
    writeFileSync(path.join(dir, "other-key.json"), JSON.stringify(json));
    const otherKey = zks("audit", "verify", "--audit", path.join(dir, "other-key.json"));
    assert.equal(otherKey.status, 3, otherKey.stdout + otherKey.stderr);
    assert.equal(otherKey.stdout, "");
    assert.match(
      otherKey.stderr,
      /^zks: .*other-key\.json: keys\.merge\.verificationKeyHash: the merge proofs were made with key 0x[0-9a-f]{64}, but the key of audit-merge-3x3x16x2 here is 0x[0-9a-f]{64}: verify with the audit's own keys/,
    );
    assert.equal(otherKey.stderr.trim().split("\n").length, 1);
    // Chain flags: each misuse one line, before any proof is checked.
    const out = path.join(dir, "out");
    const flagCases: [string[], number, RegExp][] = [
      [["--gate", "0x5FbDB2315678afecb367f032d93F642f64180aa3"], 2, /^zks: --gate: needs --rpc: the gate is read over JSON-RPC$/],
      [
        ["--rpc", "http://127.0.0.1:1"],
        2,
        /^zks: --block: needed: .*audit\.json records no block \(the operator audited without --rpc\); give the block the audit claims to be complete at$/,
      ],
      [["--rpc", "http://127.0.0.1:1", "--block", "5"], 2, /^zks: --rpc: pin the gate with --gate ADDR or --deployment FILE; audit\.json's gate is the operator's claim$/],
      [
        ["--rpc", "http://127.0.0.1:1", "--block", "5", "--gate", "0x5FbDB2315678afecb367f032d93F642f64180aa3", "--deployment", out],
        2,
        /^zks: --gate: --deployment gives the gate; leave this out$/,
      ],
      [
        ["--rpc", "http://127.0.0.1:1", "--block", "5", "--deployment", path.join(out, "audit.json")],
        2,
        /^zks: .*audit\.json: network: .* \(not a deployments file written by `zks deploy`\?\)$/,
      ],
      [
        ["--rpc", "http://127.0.0.1:1", "--block", "5", "--gate", "0x5FbDB2315678afecb367f032d93F642f64180aa3", "--allow-epoch", "x"],
        2,
        /^zks: --allow-epoch: not a non-negative integer: "x"$/,
      ],
      [["--rpc", "http://127.0.0.1:1", "--block", "5", "--gate", "0x12"], 2, /^zks: --gate: not an address: "0x12"$/],
      [["--rpc", "http://127.0.0.1:1", "--block", "five", "--gate", "0x5FbDB2315678afecb367f032d93F642f64180aa3"], 2, /^zks: --block: not a non-negative integer: "five"$/],
      [
        ["--rpc", "http://127.0.0.1:1", "--block", "5", "--gate", "0x5FbDB2315678afecb367f032d93F642f64180aa3"],
        3,
        /^zks: cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1 /,
      ],
    ];
    for (const [flags, status, pattern] of flagCases) {
      const misuse = zks("audit", "verify", "--audit", out, ...flags);
      assert.equal(misuse.status, status, `${flags.join(" ")}: ${misuse.stderr}`);
      assert.equal(misuse.stderr.trim().split("\n").length, 1, misuse.stderr);
      assert.match(misuse.stderr.trim(), pattern);
    }
    // An instance name that climbs out of the build directory is refused before any file is read.
    json.keys.merge.verificationKeyHash = report.keys.merge.verificationKeyHash;
    json.instances.merge = "../../../../tmp/evil";
    writeFileSync(path.join(dir, "traversal.json"), JSON.stringify(json));
    const traversal = zks("audit", "verify", "--audit", path.join(dir, "traversal.json"));
    assert.equal(traversal.status, 2, traversal.stderr);
    assert.match(traversal.stderr, /traversal\.json: instances\.merge: expected an instance name of circuits\/instances\.json/);
    const verdict = await verifyAudit(report, keys, { marketRoot: marketRoot(market, LAYOUT) });
    assert.equal(verdict.proofs, 7);
    assert.equal(verdict.failing, BigInt(failingInBook));
  });

  it("every account checks its inclusion proof with only its own position; others are not included", function () {
    for (const [i, position] of book.entries()) {
      const file = path.join(dir, `inclusion-${i}.json`);
      const cut = zks("audit", "inclusion", "--audit", path.join(dir, "out"), "--account", position.account, "--out", file);
      assert.equal(cut.status, 0, cut.stderr);
      const check = zks("audit", "check", "--inclusion", file, "--position", path.join(dir, `position-${i}.json`), ...common, "--audit", path.join(dir, "out", "audit.json"));
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /INCLUDED: your position/);
    }
    // The spec's example position (another account) is not in this audit; its owner learns so.
    const other = zks("audit", "check", "--inclusion", path.join(dir, "inclusion-0.json"), "--position", example("position-healthy.json"), ...common);
    assert.equal(other.status, 1);
    assert.match(other.stdout, /NOT INCLUDED/);
    // An account that is not in the audit gets no proof.
    const none = zks("audit", "inclusion", "--audit", path.join(dir, "out"), "--account", healthy.account, "--out", path.join(dir, "none.json"));
    assert.equal(none.status, 2);
    assert.match(none.stderr, /has no position in this audit/);
  });

  it("an inclusion proof holds no other account's figures: only hashes, digests and the proofs on its path", function () {
    const json = JSON.parse(readFileSync(path.join(dir, "inclusion-2.json"), "utf8"));
    assert.deepEqual(Object.keys(json.merklePath.path[0]).sort(), ["digest", "hash", "parentDigest", "siblingIsLeft"]);
    assert.equal(json.zkProofs.length, 3, "its batch proof, one merge, the root proof");
    // The only figures in it are the published totals and, inside the proofs' public signals,
    // what audit.json publishes too.
    const published = JSON.stringify(JSON.parse(readFileSync(path.join(dir, "out", "audit.json"), "utf8")).proofs);
    for (const p of json.zkProofs) assert.ok(published.includes(JSON.stringify(p.publicSignals)));
  });

  it("a stale version of a position, a tampered sibling digest, altered totals or a forged proof is not included", function () {
    const stale = { ...book[2]!, nonce: book[2]!.nonce + 1n };
    writeFileSync(path.join(dir, "stale.json"), JSON.stringify(positionToJson(stale, market)));
    const result = zks("audit", "check", "--inclusion", path.join(dir, "inclusion-2.json"), "--position", path.join(dir, "stale.json"), ...common);
    assert.equal(result.status, 1);

    const original = readFileSync(path.join(dir, "inclusion-2.json"), "utf8");
    const check = (edit: (json: any) => void) => {
      const json = JSON.parse(original);
      edit(json);
      writeFileSync(path.join(dir, "tampered.json"), JSON.stringify(json));
      return zks("audit", "check", "--inclusion", path.join(dir, "tampered.json"), "--position", path.join(dir, "position-2.json"), ...common);
    };
    const notIncluded = (edit: (json: any) => void, reason: RegExp) => {
      const tampered = check(edit);
      assert.equal(tampered.status, 1, tampered.stdout + tampered.stderr);
      assert.match(tampered.stdout, reason);
    };
    const bump = (hex: string) => `0x${(BigInt(hex) + 1n).toString(16)}`;
    notIncluded((j) => (j.merklePath.path[0].digest = bump(j.merklePath.path[0].digest)), /NOT INCLUDED: the path does not lead to the batch proof's subtree/);
    notIncluded((j) => (j.root.sums.debt = String(BigInt(j.root.sums.debt) - 1n)), /NOT INCLUDED: the published totals are not the ones the root proof committed to/); // total debt understated
    notIncluded((j) => (j.root.sums.amounts[0] = String(BigInt(j.root.sums.amounts[0]) + 1n)), /NOT INCLUDED: the published totals are not the ones the root proof committed to/); // WETH held overstated
    notIncluded((j) => (j.zkProofs[1].publicSignals[1] = String(BigInt(j.zkProofs[1].publicSignals[1]) + 1n)), /NOT INCLUDED: the proof at level 2 does not take the one below it/);
    notIncluded((j) => (j.zkProofs[0].proof.pi_c[0] = String(BigInt(j.zkProofs[0].proof.pi_c[0]) + 1n)), /NOT INCLUDED: your batch.s proof does not verify/);
    notIncluded((j) => j.zkProofs.pop(), /NOT INCLUDED: an audit of 7 positions has 3 proofs from a batch to the root; the file carries 2/);

    const negative = check((j) => (j.root.sums.debt = "-5")); // a negative balance does not even parse
    assert.equal(negative.status, 2);
    assert.match(negative.stderr, /tampered\.json: root\.sums\.debt: expected a non-negative decimal/);
    // x + p hashes as x in the digest: the non-canonical spelling of a total is refused as it parses.
    const plusP = check((j) => (j.root.sums.debt = String(BigInt(j.root.sums.debt) + SNARK_FIELD)));
    assert.equal(plusP.status, 2, plusP.stdout + plusP.stderr);
    assert.match(plusP.stderr, /tampered\.json: root\.sums\.debt: \d+ is not below 2\^152, the most 32 levels of figures sum to \(a non-canonical field element\?\)/);
    const tokenPlusP = check((j) => (j.root.sums.amounts[0] = String(BigInt(j.root.sums.amounts[0]) + SNARK_FIELD)));
    assert.equal(tokenPlusP.status, 2, tokenPlusP.stdout + tokenPlusP.stderr);
    assert.match(tokenPlusP.stderr, /tampered\.json: root\.sums\.amounts\.0: \d+ is not below 2\^128/);
    const short = check((j) => j.root.sums.long.pop());
    assert.equal(short.status, 2);
    assert.match(short.stderr, /tampered\.json: root\.sums\.long: expected 3 entries \(one per instrument slot/);
    const older = check((j) => (j.version = 2));
    assert.equal(older.status, 2);
    assert.match(older.stderr, /tampered\.json: version: expected version 3/);
    // A proof checked under another key is an error (exit 3), never "not included".
    const otherKey = check((j) => (j.keys.batch.verificationKeyHash = `0x${"ab".repeat(32)}`));
    assert.equal(otherKey.status, 3, otherKey.stdout + otherKey.stderr);
    assert.match(otherKey.stderr, /tampered\.json: keys\.batch\.verificationKeyHash: the batch proofs were made with key 0xabab.*but the key of audit-batch-3x3x16x2 here is 0x/);
    assert.doesNotMatch(otherKey.stdout, /INCLUDED/);
    const other = check((j) => (j.batchSize = 4));
    assert.equal(other.status, 2);
    assert.match(other.stderr, /tampered\.json: batchSize 4 \(audit-batch-3x3x16x2 batches 2\): not the instances it names/);
  });

  describe("verifyAudit rejects", function () {
    const copy = (): AuditReport => structuredClone(report);
    const rejects = async (edit: (r: AuditReport) => void, pattern: RegExp, options = {}) => {
      const r = copy();
      edit(r);
      await assert.rejects(verifyAudit(r, keys, options), (error: unknown) => error instanceof AuditVerificationError && pattern.test(error.message));
    };

    it("a tampered proof and a tampered public signal", async function () {
      await rejects((r) => (r.proofs[0]![1]!.proof.pi_a[0] = String(BigInt(r.proofs[0]![1]!.proof.pi_a[0]!) + 1n)), /batch proof 1 does not verify/);
      await rejects((r) => (r.proofs[0]![2]!.publicSignals[6] = "1"), /batch proof 2 does not verify/);
      await rejects((r) => (r.proofs[2]![0]!.publicSignals[5] = "0"), /the root proof does not verify/);
    });

    it("batches reordered, replayed in place of another, or left out", async function () {
      await rejects((r) => r.proofs[0]!.reverse(), /not chained/);
      await rejects((r) => (r.proofs[0]![3] = r.proofs[0]![0]!), /merge proof 1 of level 1: child 1's hash is not the output of batch proof 3/);
      await rejects((r) => r.proofs[0]!.pop(), /level 0 holds 3 proofs; 4 expected/);
    });

    it("published totals that differ from the root proof's", async function () {
      await rejects((r) => (r.root.sums.collateral += 1n), /published root sums are not the ones the root proof committed to/);
      await rejects((r) => (r.root.hash += 1n), /root proof's hash differs/);
    });

    it('a proof checked under another key: an error naming the key (exit 3), never "invalid"', async function () {
      const swapped = { ...keys, batch: keys.top };
      await assert.rejects(
        verifyAudit(report, swapped),
        (error: unknown) => error instanceof AuditKeyError && error.exitCode === 3 && /keys\.batch\.verificationKeyHash: the batch proofs were made with key/.test(error.message),
      );
      const r = copy();
      r.keys.top.verificationKeyHash = verificationKeyHash(keys.merge);
      await assert.rejects(verifyAudit(r, keys), (error: unknown) => error instanceof AuditKeyError && /keys\.top/.test(error.message));
    });

    it("a stale epoch's audit presented for the current market, and another policy", async function () {
      const next = { ...market, epoch: market.epoch + 1 };
      await rejects(() => {}, /another market/, { marketRoot: marketRoot(next, LAYOUT) });
      await rejects(() => {}, /another policy/, { policyHash: 12345n });
      await rejects((r) => (r.marketRoot = marketRoot(next, LAYOUT)), /batch proof 0 is for another market/);
    });
  });

  it("says so when a passing position is counted as failing (allowed: failures may be overstated)", async function () {
    const leaves = book.map((p) => accountFigures(p, market, policy, LAYOUT).leaf).sort((a, b) => (a.account < b.account ? -1 : 1));
    const index = leaves.findIndex((leaf) => leaf.figures.fails === 0n);
    leaves[index] = { ...leaves[index]!, figures: { ...leaves[index]!.figures, fails: 1n } };
    // The audit an operator who counted it as failing would publish: the proofs' public signals
    // are those of this tree (the circuit accepts fails = 1 on a passing position); the Groth16
    // proofs themselves are the honest run's, so they no longer verify.
    const tree = buildSumTree(leaves, LAYOUT, report.depth);
    const file = inclusionFile(tree, index, { ...report, proofs: signalsOf(tree, leaves, report) });
    const position = book.find((p) => BigInt(p.account) === leaves[index]!.account)!;
    const found = matchLeaf(file, position, market, policy);
    assert.equal(found.countedAsFailingWhilePassing, true);
    assert.equal(found.figures.fails, 1n);
    assert.throws(
      () =>
        matchLeaf(
          file,
          book.find((p) => p !== position)!,
          market,
          policy,
        ),
      AuditTreeError,
    );
    await assert.rejects(checkInclusion(file, position, market, policy, keys), /does not verify/);
  });

  it("refuses bad books with the file, line and field, and an aggregate that does not hold with exit 1", function () {
    const lines = readFileSync(path.join(dir, "book.jsonl"), "utf8").trim().split("\n");
    writeFileSync(path.join(dir, "malformed.jsonl"), `${lines[0]}\n{"version": 1,\n`);
    const malformed = zks("audit", "--positions", path.join(dir, "malformed.jsonl"), ...common, "--out", path.join(dir, "x"), "--tier", "test");
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /malformed\.jsonl:2: malformed JSON/);

    writeFileSync(path.join(dir, "duplicate.jsonl"), `${lines[0]}\n${lines[1]}\n${lines[0]}\n`);
    const duplicate = zks("audit", "--positions", path.join(dir, "duplicate.jsonl"), ...common, "--out", path.join(dir, "x"), "--tier", "test");
    assert.equal(duplicate.status, 2);
    assert.match(duplicate.stderr, /duplicate\.jsonl:\d: account: 0x[0-9a-fA-F]{40} also has a position in .*duplicate\.jsonl:\d/);

    const badField = JSON.parse(lines[0]!);
    badField.collateral.WETH = "-1";
    writeFileSync(path.join(dir, "bad-field.jsonl"), `${JSON.stringify(badField)}\n`);
    const field = zks("audit", "--positions", path.join(dir, "bad-field.jsonl"), ...common, "--out", path.join(dir, "x"), "--tier", "test");
    assert.equal(field.status, 2);
    assert.match(field.stderr, /bad-field\.jsonl:1: collateral\.WETH/);

    const risky = syntheticBook(healthy, atRisk, { count: 3, seed: 5, atRiskShare: 1 });
    writeFileSync(path.join(dir, "risky.jsonl"), risky.map((p) => JSON.stringify(positionToJson(p, market))).join("\n"));
    const uncovered = zks("audit", "--positions", path.join(dir, "risky.jsonl"), ...common, "--out", path.join(dir, "x"), "--tier", "test");
    assert.equal(uncovered.status, 1, uncovered.stderr);
    assert.match(uncovered.stderr, /the aggregate statements do not hold, so no audit proof exists: .*does not cover: "/);

    const tier = zks("audit", "--positions", path.join(dir, "book.jsonl"), ...common, "--out", path.join(dir, "x"), "--tier", "huge");
    assert.equal(tier.status, 2);
    assert.match(tier.stderr, /--tier: expected standard or test/);
  });

  it("reads a book from a directory of position files (in name order, other files ignored) or a JSONL file", function () {
    const books = path.join(dir, "books");
    mkdirSync(books);
    writeFileSync(path.join(books, "b.json"), JSON.stringify(positionToJson(book[1]!, market)));
    writeFileSync(path.join(books, "a.json"), JSON.stringify(positionToJson(book[0]!, market)));
    writeFileSync(path.join(books, "notes.txt"), "not a position");
    const entries = readBook(books, market);
    assert.deepEqual(
      entries.map((e) => path.basename(e.source)),
      ["a.json", "b.json"],
    );
    assert.equal(entries[0]!.position.account, book[0]!.account);
    assert.equal(readBook(path.join(dir, "book.jsonl"), market).length, 7);
    const empty = path.join(dir, "empty");
    mkdirSync(empty);
    assert.throws(() => readBook(empty, market), /holds no \.json position files/);
    assert.throws(() => readBook(path.join(dir, "missing"), market), /not found/);
  });
});
