/**
 * `zks register`: a registration proven as a deposit (and borrow) from the empty position
 * (docs/custody.md), its opening encrypted to the keeper key (docs/enforcement.md), and the
 * one-line refusals before proving (a missing, invalid or disagreeing keeper key among them).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decryptOpening } from "../packages/sdk/src/encryption/opening-cipher.ts";
import { keeperPublicKeyFileJson } from "../packages/sdk/src/encryption/keeper-key.ts";
import { assertOneLineError, zks, zksAsync } from "./helpers/cli.ts";
import { example, loadMarket } from "./helpers/examples.ts";
import { LAYOUT } from "./helpers/contracts-fixtures.ts";
import { OTHER_KEEPER, TEST_KEEPER } from "./helpers/keeper-key.ts";
import { needRapidsnark, RAPIDSNARK } from "./helpers/native-prover.ts";

describe("zks register", function () {
  let dir: string;
  let keeperKeyFile: string;
  const inputs = () => ["--market", example("market-grid.json"), "--policy", example("policy.json")];
  const withKey = () => [...inputs(), "--keeper-key", keeperKeyFile];
  const healthy = () => JSON.parse(readFileSync(example("position-healthy.json"), "utf8")) as Record<string, unknown>;
  const write = (name: string, json: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(json));
    return file;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zks-register-"));
    keeperKeyFile = path.join(dir, "keeper.pub.json");
    writeFileSync(keeperKeyFile, keeperPublicKeyFileJson(TEST_KEEPER.publicKey));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("proves the healthy example (its long puts kept, no written call) from the empty position, its opening encrypted to the keeper key; zks verify accepts it", function () {
    const position = write("longs.json", { ...healthy(), derivatives: { "ETH-26DEC26-2800-P": "2" } });
    const out = path.join(dir, "out");
    const result = zks("register", "--position", position, ...withKey(), "--out", out, "--json");
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { movements: string[]; publicSignals: Record<string, string>; keeperKey: { x: string; y: string; sources: string[] } };
    assert.deepEqual(summary.keeperKey, { x: TEST_KEEPER.publicKey[0].toString(), y: TEST_KEEPER.publicKey[1].toString(), sources: [`--keeper-key ${keeperKeyFile}`] });
    const signal = (name: string) => BigInt(summary.publicSignals[name]!);
    assert.deepEqual([signal("keeperKey[0]"), signal("keeperKey[1]")], [...TEST_KEEPER.publicKey]);
    // The keeper's secret opens the published ciphertext to exactly the written position (decryptOpening checks the commitment).
    const written = JSON.parse(readFileSync(path.join(out, "position.json"), "utf8")) as { salt: string };
    const ciphertext = Object.keys(summary.publicSignals)
      .filter((n) => n.startsWith("ciphertext["))
      .map(signal);
    const opened = decryptOpening(
      { account: healthy().account as string, nonce: 1n, commitment: signal("newCommitment"), ephemeralKey: [signal("ephemeralKey[0]"), signal("ephemeralKey[1]")], ciphertext },
      TEST_KEEPER.secret,
      loadMarket(),
      LAYOUT,
    );
    assert.equal(opened.salt, BigInt(written.salt));
    assert.deepEqual(summary.movements, ["deposit 12.5 WETH", "borrow 14,000 USDC from the lender", "deposit 11,000 USDC", "deposit 2 ETH-26DEC26-2800-P option tokens"]);
    assert.equal(BigInt(summary.publicSignals.fromEmpty!), 1n);
    assert.equal(BigInt(summary.publicSignals.nonce!), 0n);
    const registered = JSON.parse(readFileSync(path.join(out, "position.json"), "utf8")) as { nonce: number };
    assert.equal(registered.nonce, 1);
    assert.ok(existsSync(path.join(out, "proof.json")));
    const verified = zks("verify", "--proof", path.join(out, "proof.json"), "--json");
    assert.equal(verified.code, 0, verified.stderr);
  });

  it("--prover rapidsnark makes the registration proof, says so (stderr and --json) and it verifies; a bad --prover is exit 2 before any work", async function () {
    needRapidsnark(this);
    const position = write("native.json", { ...healthy(), derivatives: {} });
    const out = path.join(dir, "native");
    const result = await zksAsync(["register", "--position", position, ...withKey(), "--out", out, "--prover", "rapidsnark", "--json"], { ZKS_RAPIDSNARK: RAPIDSNARK });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { prover: string; proverBinary: string };
    assert.equal(summary.prover, "rapidsnark");
    assert.equal(summary.proverBinary, RAPIDSNARK);
    const human = await zksAsync(["register", "--position", position, ...withKey(), "--out", path.join(dir, "native-human"), "--prover", "rapidsnark"], {
      ZKS_RAPIDSNARK: RAPIDSNARK,
    });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /proved with rapidsnark \((wasm|native) witness\) in \d+\.\d\d s by /);
    const verified = zks("verify", "--proof", path.join(out, "proof.json"), "--json");
    assert.equal(verified.code, 0, verified.stderr);

    const bad = zks("register", "--position", position, ...withKey(), "--out", path.join(dir, "bad-prover"), "--prover", "gpu");
    assert.equal(bad.code, 2);
    assertOneLineError(bad, /--prover/);
    assert.equal(existsSync(path.join(dir, "bad-prover")), false);
  });

  it("refuses a written option, a registered nonce and a failing position with one line and exit 2, before proving", function () {
    const shorts = zks("register", "--position", example("position-healthy.json"), ...withKey(), "--out", path.join(dir, "x"));
    assert.equal(shorts.code, 2);
    assertOneLineError(shorts, /ETH-26DEC26-3200-C: a written option \(4 short\) cannot be registered/);
    const later = zks("register", "--position", write("later.json", { ...healthy(), nonce: 3, derivatives: {} }), ...withKey(), "--out", path.join(dir, "y"));
    assert.equal(later.code, 2);
    assertOneLineError(later, /nonce: a registration creates nonce 1 from the empty position; this position is at nonce 3/);
    const failing = zks("register", "--position", write("failing.json", { ...healthy(), collateral: { WETH: "1" }, derivatives: {} }), ...withKey(), "--out", path.join(dir, "z"));
    assert.equal(failing.code, 2);
    assertOneLineError(failing, /the registration cannot be proven: the new position fails the policy's checks/);
    for (const d of ["x", "y", "z"]) assert.equal(existsSync(path.join(dir, d)), false);
  });

  it("refuses a missing, invalid or disagreeing keeper key with one line and exit 2 (an unreachable endpoint: exit 3), before proving", function () {
    const position = write("keyless.json", { ...healthy(), derivatives: {} });
    const register = (out: string, ...flags: string[]) => zks("register", "--position", position, ...inputs(), "--out", path.join(dir, out), ...flags);
    const missing = register("k1");
    assert.equal(missing.code, 2, missing.stderr);
    assertOneLineError(
      missing,
      /^zks: --keeper-key: missing: the proof encrypts the new position's opening to the protocol keeper's key; give --keeper-key FILE .*--deployment FILE .*--rpc URL/,
    );

    // A point off the curve: anyone could read what is encrypted to it (the SDK never encrypts to an invalid key).
    const offCurve = write("off-curve.pub.json", { version: 1, kind: "zks-keeper-public-key", publicKey: ["1", "2"] });
    const invalid = register("k2", "--keeper-key", offCurve);
    assert.equal(invalid.code, 2, invalid.stderr);
    assertOneLineError(invalid, /off-curve\.pub\.json: publicKey: the point is not on the Baby Jubjub curve/);

    // The deployments file names another key than --keeper-key (say, one for another deployment): both named.
    const deployment = (keeperKey?: unknown) => ({
      version: 1,
      network: "json-rpc",
      chainId: "31337",
      contracts: { RebalanceGate: "0x5FbDB2315678afecb367f032d93F642f64180aa3", AuditRegistry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" },
      ...(keeperKey === undefined ? {} : { keeperKey }),
    });
    const other = write("other.json", deployment(OTHER_KEEPER.publicKey.map(String)));
    const disagree = register("k3", "--keeper-key", keeperKeyFile, "--deployment", other);
    assert.equal(disagree.code, 2, disagree.stderr);
    assertOneLineError(
      disagree,
      new RegExp(
        `--keeper-key .*keeper\\.pub\\.json: keeper key \\(${TEST_KEEPER.publicKey[0]}, ${TEST_KEEPER.publicKey[1]}\\) differs from .*other\\.json \\(keeperKey\\)'s \\(${OTHER_KEEPER.publicKey[0]}, ${OTHER_KEEPER.publicKey[1]}\\)`,
      ),
    );
    const old = register("k4", "--deployment", write("old.json", deployment()));
    assert.equal(old.code, 2, old.stderr);
    assertOneLineError(old, /old\.json: keeperKey: missing \(a deployment from before keeper keys\?\)/);
    // The deployment's gate and an explicit context for another gate: the proof would be bound to one and encrypted to the other's key.
    const elsewhere = register("k5", "--deployment", write("same.json", deployment(TEST_KEEPER.publicKey.map(String))), "--context", "5");
    assert.equal(elsewhere.code, 2, elsewhere.stderr);
    assertOneLineError(elsewhere, /same\.json: contexts\.RebalanceGate: the deployment's gate has context \d+, but --context gives 5/);
    const noGate = register("k6", "--keeper-key", keeperKeyFile, "--rpc", "http://127.0.0.1:1");
    assert.equal(noGate.code, 2, noGate.stderr);
    assertOneLineError(noGate, /^zks: --rpc: reads the keeper key from the gate: give --contract ADDR or --deployment FILE$/);
    const unreachable = register("k7", "--rpc", "http://127.0.0.1:1", "--contract", "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assertOneLineError(unreachable, /^zks: cannot reach the JSON-RPC endpoint http:\/\/127\.0\.0\.1:1/);
    for (const d of ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]) assert.equal(existsSync(path.join(dir, d)), false);
  });
});
