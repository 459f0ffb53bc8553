import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";
import { example } from "./helpers/examples.ts";

const ZKS = path.join(PACKAGE_ROOT, "packages", "cli", "bin", "zks.js");

function zks(...args: string[]) {
  const result = spawnSync(process.execPath, [ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One clear line on stderr, no stack trace. */
function assertOneLineError(stderr: string, fragment: string): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, new RegExp(fragment));
  assert.doesNotMatch(stderr, /\bat .+:\d+:\d+/);
}

describe("zks CLI", function () {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "zks-cli-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("commit prints the commitment of the example position (exit 0), in text and JSON", function () {
    const text = zks("commit", "--position", example("position-healthy.json"), "--market", example("market-grid.json"));
    assert.equal(text.code, 0, text.stderr);
    const json = zks("commit", "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--json");
    const parsed = JSON.parse(json.stdout);
    assert.match(parsed.commitment, /^0x[0-9a-f]{64}$/);
    assert.ok(text.stdout.includes(parsed.commitment));
    assert.equal(parsed.slots, "8x8");
  });

  it("bad input ends in one line naming file and field, exit 2", function () {
    const missing = zks("commit", "--position", path.join(dir, "nope.json"), "--market", example("market-grid.json"));
    assert.equal(missing.code, 2);
    assertOneLineError(missing.stderr, "nope.json: file not found");

    const malformed = path.join(dir, "malformed.json");
    writeFileSync(malformed, '{ "version": 1, ');
    const bad = zks("commit", "--position", malformed, "--market", example("market-grid.json"));
    assert.equal(bad.code, 2);
    assertOneLineError(bad.stderr, "malformed.json: malformed JSON");

    const unknown = path.join(dir, "unknown.json");
    const position = JSON.parse(readFileSync(example("position-healthy.json"), "utf8"));
    writeFileSync(unknown, JSON.stringify({ ...position, collateral: { DOGE: "1" } }));
    const unknownAsset = zks("commit", "--position", unknown, "--market", example("market-grid.json"));
    assert.equal(unknownAsset.code, 2);
    assertOneLineError(unknownAsset.stderr, "collateral.DOGE: unknown asset");

    const small = zks("commit", "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--slots", "2x2");
    assert.equal(small.code, 2);
    assertOneLineError(small.stderr, "3 assets but the circuit instance has 2 asset slots");
  });

  it("a position without salt is refused, and --add-salt writes one without losing the file's content or permissions", function () {
    const file = path.join(dir, "position.json");
    const { salt: _salt, ...unsalted } = JSON.parse(readFileSync(example("position-at-risk.json"), "utf8"));
    writeFileSync(file, JSON.stringify(unsalted));
    chmodSync(file, 0o640);

    const refused = zks("commit", "--position", file, "--market", example("market-grid.json"));
    assert.equal(refused.code, 2);
    assertOneLineError(refused.stderr, "salt: missing");

    const added = zks("commit", "--position", file, "--market", example("market-grid.json"), "--add-salt", "--json");
    assert.equal(added.code, 0, added.stderr);
    const written = JSON.parse(readFileSync(file, "utf8"));
    assert.match(written.salt, /^0x[0-9a-f]{62}$/);
    assert.deepEqual({ ...written, salt: undefined }, { ...unsalted, salt: undefined });
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith(".tmp")),
      [],
    );

    // The stored salt opens the same commitment again.
    const again = zks("commit", "--position", file, "--market", example("market-grid.json"), "--json");
    assert.equal(JSON.parse(again.stdout).commitment, JSON.parse(added.stdout).commitment);
  });

  it("unknown options and commands exit 2 with usage help", function () {
    const result = zks("commit", "--position", "p.json", "--market", "m.json", "--bogus");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--bogus'/);
    const command = zks("frobnicate");
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command/);
  });
});
