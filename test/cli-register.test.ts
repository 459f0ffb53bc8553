/**
 * `zks register`: a registration proven as a deposit (and borrow) from the empty position
 * (docs/custody.md), and the one-line refusals before proving.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assertOneLineError, zks } from "./helpers/cli.ts";
import { example } from "./helpers/examples.ts";

describe("zks register", function () {
  let dir: string;
  const inputs = () => ["--market", example("market-grid.json"), "--policy", example("policy.json")];
  const healthy = () => JSON.parse(readFileSync(example("position-healthy.json"), "utf8")) as Record<string, unknown>;
  const write = (name: string, json: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(json));
    return file;
  };

  before(() => (dir = mkdtempSync(path.join(tmpdir(), "zks-register-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("proves the healthy example (its long puts kept, no written call) from the empty position; zks verify accepts it", function () {
    const position = write("longs.json", { ...healthy(), derivatives: { "ETH-26DEC26-2800-P": "2" } });
    const out = path.join(dir, "out");
    const result = zks("register", "--position", position, ...inputs(), "--out", out, "--json");
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { movements: string[]; publicSignals: Record<string, string> };
    assert.deepEqual(summary.movements, ["deposit 12.5 WETH", "borrow 14,000 USDC from the lender", "deposit 11,000 USDC", "deposit 2 ETH-26DEC26-2800-P option tokens"]);
    assert.equal(BigInt(summary.publicSignals.fromEmpty!), 1n);
    assert.equal(BigInt(summary.publicSignals.nonce!), 0n);
    const registered = JSON.parse(readFileSync(path.join(out, "position.json"), "utf8")) as { nonce: number };
    assert.equal(registered.nonce, 1);
    assert.ok(existsSync(path.join(out, "proof.json")));
    const verified = zks("verify", "--proof", path.join(out, "proof.json"), "--json");
    assert.equal(verified.code, 0, verified.stderr);
  });

  it("refuses a written option, a registered nonce and a failing position with one line and exit 2, before proving", function () {
    const shorts = zks("register", "--position", example("position-healthy.json"), ...inputs(), "--out", path.join(dir, "x"));
    assert.equal(shorts.code, 2);
    assertOneLineError(shorts, /ETH-26DEC26-3200-C: a written option \(4 short\) cannot be registered/);
    const later = zks("register", "--position", write("later.json", { ...healthy(), nonce: 3, derivatives: {} }), ...inputs(), "--out", path.join(dir, "y"));
    assert.equal(later.code, 2);
    assertOneLineError(later, /nonce: a registration creates nonce 1 from the empty position; this position is at nonce 3/);
    const failing = zks("register", "--position", write("failing.json", { ...healthy(), collateral: { WETH: "1" }, derivatives: {} }), ...inputs(), "--out", path.join(dir, "z"));
    assert.equal(failing.code, 2);
    assertOneLineError(failing, /the registration cannot be proven: the new position fails the policy's checks/);
    for (const d of ["x", "y", "z"]) assert.equal(existsSync(path.join(dir, d)), false);
  });
});
