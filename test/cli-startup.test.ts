/**
 * The CLI loads only the command being run (packages/cli/src/cli/support/command-table.ts): the
 * top-level help loads no command module, a command loads its own and none of the others', and
 * nothing a command loads is hardhat, solc, scripts/ or the demo unless the command is the demo.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { commandFor, COMMANDS } from "../packages/cli/src/cli/support/command-table.ts";
import { ZKS } from "./helpers/cli.ts";
import { example } from "./helpers/examples.ts";
import { moduleTrace } from "./helpers/module-trace.ts";

/** Runs zks with a module trace; returns its result and the command modules and packages it loaded. */
function traced(args: string[]) {
  const trace = moduleTrace();
  try {
    const started = performance.now();
    const result = spawnSync(process.execPath, [...trace.nodeArgs, ZKS, ...args], { encoding: "utf8", env: { ...process.env, ZKS_DEBUG: "", ...trace.env } });
    const ms = performance.now() - started;
    const loaded = trace.loaded();
    const commands = loaded.map((url) => /\/packages\/cli\/src\/cli\/commands\/([a-z-]+)\.ts$/.exec(url)?.[1]).filter((name): name is string => name !== undefined);
    const forbidden = loaded.filter((url) => /\/node_modules\/(hardhat|@nomicfoundation|solc)\/|\/scripts\/|\/packages\/cli\/src\/demo\//.test(url));
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, commands, forbidden, loaded, ms };
  } finally {
    trace.dispose();
  }
}

describe("zks start-up: only the command being run is loaded", function () {
  it("commandFor picks the command from the arguments (options skipped, `help X` is X); the top-level help and unknown names pick none", function () {
    const name = (args: string[]) => commandFor(args)?.name;
    assert.equal(name(["check", "--position", "p.json"]), "check");
    assert.equal(name(["--json", "deploy"]), "deploy");
    assert.equal(name(["audit", "verify", "--audit", "dir"]), "audit");
    assert.equal(name(["help", "keeper"]), "keeper");
    assert.equal(name(["deploy", "--help"]), "deploy");
    for (const args of [[], ["--help"], ["-h"], ["help"], ["nope"], ["chek"]]) assert.equal(name(args), undefined, args.join(" "));
  });

  it("every row of the table loads a module that registers exactly that command (names are unique)", async function () {
    assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
    for (const row of COMMANDS) {
      const program = new Command();
      (await row.load())(program);
      assert.deepEqual(
        program.commands.map((c) => c.name()),
        [row.name],
        row.name,
      );
      assert.ok(row.summary.length > 0 && row.summary.length <= 100, `${row.name}: a one-line summary`);
    }
  });

  it("`zks --help` lists every command with its summary and loads no command module", function () {
    const help = traced(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    const listed = [...help.stdout.matchAll(/^ {2}([a-z]+)(?: \[command\])? {2,}/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...COMMANDS.map((c) => c.name), "help"]);
    for (const row of COMMANDS) assert.ok(help.stdout.replace(/\s+/g, " ").includes(row.summary), row.name);
    assert.deepEqual(help.commands, []);
    assert.deepEqual(help.forbidden, []);
    assert.ok(!help.loaded.some((url) => /\/node_modules\/(snarkjs|ethers)\//.test(url)), "neither snarkjs nor ethers");
    // An unknown command is refused with commander's suggestion, still loading none.
    const typo = traced(["chek"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'chek'\n\(Did you mean check\?\)/);
    assert.deepEqual(typo.commands, []);
  });

  it("`zks check`, `zks deploy --help` and `zks help audit` load their own command module only, and no hardhat, solc, scripts/ or demo module", function () {
    const check = traced(["check", "--position", example("position-healthy.json"), "--market", example("market-grid.json"), "--policy", example("policy.json")]);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(check.commands, ["check"]);
    assert.deepEqual(check.forbidden, []);
    const deploy = traced(["deploy", "--help"]);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /^Usage: zks deploy \[options\]/);
    assert.deepEqual(deploy.commands, ["deploy"]);
    assert.deepEqual(deploy.forbidden, []);
    const audit = traced(["help", "audit"]);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /^Usage: zks audit \[options\] \[command\]/);
    assert.deepEqual(audit.commands, ["audit"]);
  });
});
