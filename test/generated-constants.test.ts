/**
 * The shared constants have one source each (scripts/generate-constants.ts): the public-signal
 * positions come from packages/circuits/instances.json's template declarations, the bit widths from
 * packages/circuits/constants.json, and both are generated for Solidity and TypeScript. These tests make a
 * stale or hand-edited generated file, a declaration that disagrees with its circom template or
 * with a compiled circuit, a circom bound that disagrees with constants.json, and a Solidity value
 * that differs from its TypeScript twin (evaluated by the EVM on hardhat's in-process chain) fail
 * the build, each with one line naming the file and the field.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import path from "node:path";
import { network } from "hardhat";
import * as C from "../packages/sdk/src/core/constants.generated.ts";
import { InputError, SetupError, ZksError } from "../packages/sdk/src/core/errors.ts";
import { AMOUNT_BITS, DEBT_INDEX_BITS, DEBT_INDEX_DECIMALS, DEBT_INDEX_SCALE, MAX_AMOUNT, QUANTITY_OFFSET } from "../packages/sdk/src/core/fixed-point.ts";
import * as S from "../packages/sdk/src/core/signals.generated.ts";
import { custodyLayout } from "../packages/sdk/src/chain/custody.ts";
import { SOLVENCY_SIGNAL, SOLVENCY_SIGNAL_COUNT } from "../packages/sdk/src/chain/calldata.ts";
import { batchSignals, mergeSignals } from "../packages/sdk/src/audit/public-signals.ts";
import { BOUND_BITS, MAX_ASSET_DECIMALS, MAX_HORIZON_DAYS } from "../packages/sdk/src/model/bounds.ts";
import { INSTANCES_FILE, loadInstances, loadTemplateLayouts } from "../packages/node/src/setup/instances.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../packages/node/src/setup/paths.ts";
import { expandSignalNames, type TemplateLayout } from "../packages/node/src/setup/signal-layout.ts";
import {
  checkCircomConstants,
  checkCircomTemplates,
  CIRCUITS_DIR,
  CircomConstantError,
  CONSTANTS_FILE,
  generateConstants,
  loadConstants,
  OUTPUTS,
  REPO_ROOT,
  TemplateDeclarationError,
} from "../scripts/generate-constants.ts";
import { TempDirs } from "./helpers/setup-fixtures.ts";

const SCRIPT = path.join(REPO_ROOT, "scripts", "generate-constants.ts");
const upperSnake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
const camel = (snake: string): string => snake.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const lowerFirst = (name: string): string => name[0]!.toLowerCase() + name.slice(1);
const isConstantLayout = (layout: TemplateLayout) => layout.count.terms.every((t) => t.coefficient === 0);

type Fn = (...args: number[]) => Record<string, number> | string[];
const generated = S as unknown as Record<string, unknown>;
const tsLayout = (layout: TemplateLayout) => generated[`${lowerFirst(layout.template)}SignalLayout`] as Fn;
const tsNames = (layout: TemplateLayout) => generated[`${lowerFirst(layout.template)}SignalNames`] as Fn;

/** Every combination of these values for the layout's parameters (the others at 1). */
function grid(layout: TemplateLayout, values: readonly number[]): { params: number[]; args: number[] }[] {
  let combos: Record<string, number>[] = [{}];
  for (const p of layout.layoutParams) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [p]: v })));
  return combos.map((c) => ({ params: layout.params.map((p) => c[p] ?? 1), args: layout.layoutParams.map((p) => c[p]!) }));
}

/** The thrown ZksError, checked to be one line (no stack trace reaches a user). */
function thrown(fn: () => unknown): ZksError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ZksError, `expected a ZksError, got ${String(error)}`);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    return error;
  }
  assert.fail("expected an error");
}
async function rejected(promise: Promise<unknown>): Promise<ZksError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ZksError, `expected a ZksError, got ${String(error)}`);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    return error;
  }
  assert.fail("expected a rejection");
}

/** The script as a user runs it (each run loads TypeScript, prettier and zod: seconds, so the runs go in parallel). */
function runScript(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], { cwd: REPO_ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("generated constants: one source for the public-signal positions and the bit widths", function () {
  const temp = new TempDirs();
  after(() => temp.cleanup());
  const config = JSON.parse(readFileSync(INSTANCES_FILE, "utf8")) as { templates: Record<string, Record<string, unknown>>; instances: Record<string, Record<string, unknown>> };
  /** A copy of instances.json with `edit` applied, for the refusals. */
  const editedInstances = (edit: (c: typeof config) => void): string => {
    const copy = structuredClone(config);
    edit(copy);
    const file = path.join(temp.make("instances"), "instances.json");
    writeFileSync(file, JSON.stringify(copy));
    return file;
  };

  describe("up to date", function () {
    it("every generated file is what scripts/generate-constants.ts writes now, byte for byte", async function () {
      const dir = temp.make("generated");
      const files = await generateConstants();
      assert.deepEqual(files.map((f) => f.file).sort(), Object.values(OUTPUTS).sort());
      for (const { file, content } of files) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), content);
      }
      for (const { file } of files) {
        const fresh = readFileSync(path.join(dir, file));
        const checkedIn = readFileSync(path.join(REPO_ROOT, file));
        assert.ok(fresh.equals(checkedIn), `${file} is stale or was edited by hand: run npm run generate:constants`);
      }
    });

    it("the script: --check exits 0 when current and 1 naming a hand-edited file; an unknown argument is exit 2, one line", async function () {
      const dir = temp.make("out");
      for (const { file, content } of await generateConstants()) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), content);
      }
      // Someone shifts a position by hand in the Solidity only: the gate would read the wrong signal.
      const tampered = path.join(dir, OUTPUTS.signalsSol);
      writeFileSync(tampered, readFileSync(tampered, "utf8").replace("REBALANCE_DEBT_INDEX = 4;", "REBALANCE_DEBT_INDEX = 5;"));
      const [current, stale, unknown] = await Promise.all([runScript(["--check"]), runScript(["--check", "--out", dir]), runScript(["--fix"])]);
      assert.equal(current.status, 0, current.stderr);
      assert.match(current.stdout, /every generated file is current/);
      assert.equal(stale.status, 1);
      assert.equal(stale.stderr, `generate-constants: stale: ${OUTPUTS.signalsSol}; run npm run generate:constants\n`);
      assert.equal(unknown.status, 2);
      assert.equal(unknown.stderr, "generate-constants: command line: --fix: unknown argument (usage: generate-constants.ts [--out DIR] [--check])\n");
    });
  });

  describe("the signal declarations, the circom templates and the compiled circuits", function () {
    const layouts = loadTemplateLayouts();
    const instances = loadInstances();

    it("every template an instance uses is declared, and each declaration matches its circom template", function () {
      const declared = layouts.map((l) => l.template);
      assert.deepEqual(declared, ["PositionCommitment", "Solvency", "Rebalance", "AuditBatch", "AuditMerge", "AuditBatchCrowding", "AuditMergeCrowding", "ScheduleSlice"]);
      for (const instance of instances) assert.ok(declared.includes(instance.template), `${instance.name}: ${instance.template} is declared`);
      checkCircomTemplates(layouts);
      // The contracts check Solvency and Rebalance proofs: those two have Solidity positions.
      assert.deepEqual(
        layouts.filter((l) => l.solidity).map((l) => l.template),
        ["Solvency", "Rebalance"],
      );
    });

    it("every built instance's public signals, as its compiled circuit names them (.sym), are the declaration's expansion", function () {
      const paths = defaultBuildPaths();
      const built = instances.filter((i) => i.tier !== "large");
      for (const instance of built) {
        const dir = instanceDir(paths, instance.name);
        assert.ok(existsSync(path.join(dir, "manifest.json")), `${instance.name} is not built in ${dir}: run zks setup --tier test && zks setup --tier standard --compile-only`);
        const manifest = readManifest(dir)!;
        const byWitness = new Map<number, string>();
        // Signals 1..nPublic (main's outputs, then its public inputs) open the file: its head is enough.
        const fd = openSync(path.join(dir, manifest.files.sym), "r");
        const head = Buffer.alloc(64 * 1024);
        const read = readSync(fd, head, 0, head.length, 0);
        closeSync(fd);
        for (const line of head.subarray(0, read).toString("utf8").split("\n").slice(0, -1)) {
          const [, witness, , name] = line.split(",");
          if (name && witness) byWitness.set(Number(witness), name.replace(/^main\./, ""));
        }
        const compiled = Array.from({ length: manifest.nPublic }, (_, i) => byWitness.get(i + 1));
        assert.deepEqual(compiled, instance.publicSignals, `${instance.name}: the compiled circuit's public signals`);
        const layout = layouts.find((l) => l.template === instance.template)!;
        const args = layout.layoutParams.map((p) => instance.params[layout.params.indexOf(p)]!);
        const ts = isConstantLayout(layout) ? (generated[`${upperSnake(layout.template)}_SIGNAL_NAMES`] as string[]) : tsNames(layout)(...args);
        assert.deepEqual(ts, compiled, `${instance.name}: the SDK's generated names`);
      }
      assert.ok(built.length >= 12, `${built.length} instances checked`);
    });

    it("expanding the lists leaves every instance as the explicit lists did, so no build's compile key changes", function () {
      // The old format: every instance states its lists, no templates section.
      const explicit = structuredClone(config) as Record<string, unknown> & typeof config;
      delete (explicit as Partial<typeof config>).templates;
      for (const instance of instances) Object.assign(explicit.instances[instance.name]!, { publicInputs: instance.publicInputs, publicSignals: instance.publicSignals });
      const file = path.join(temp.make("explicit"), "instances.json");
      writeFileSync(file, JSON.stringify(explicit));
      const stated = loadInstances(file);
      // build.ts hashes JSON.stringify of the instance (keys in order): equal strings, equal keys.
      assert.deepEqual(
        stated.map((i) => JSON.stringify(i)),
        instances.map((i) => JSON.stringify(i)),
      );
      // And a declared template's instance may still state its lists, if they agree.
      const both = structuredClone(config);
      for (const instance of instances) Object.assign(both.instances[instance.name]!, { publicInputs: instance.publicInputs, publicSignals: instance.publicSignals });
      const bothFile = path.join(temp.make("both"), "instances.json");
      writeFileSync(bothFile, JSON.stringify(both));
      assert.deepEqual(loadInstances(bothFile), instances);
    });

    it("the SDK's layouts name their own signals, for every template over a grid of sizes, and the SDK's readers use them", function () {
      let checked = 0;
      for (const layout of layouts) {
        if (isConstantLayout(layout)) {
          const prefix = upperSnake(layout.template);
          const names = generated[`${prefix}_SIGNAL_NAMES`] as string[];
          const positions = generated[`${prefix}_SIGNAL`] as Record<string, number>;
          assert.deepEqual(
            names,
            expandSignalNames(
              layout,
              layout.params.map(() => 1),
            ),
          );
          assert.equal(generated[`${prefix}_SIGNAL_COUNT`], names.length);
          for (const [field, at] of Object.entries(positions)) assert.ok(names[at] === field || names[at] === `${field}[0]`, `${layout.template}.${field} at ${at}`);
          assert.deepEqual(
            Object.keys(positions),
            layout.segments.map((s) => s.name),
          );
          checked++;
          continue;
        }
        for (const { params, args } of grid(layout, [1, 2, 3, 5, 8])) {
          const names = tsNames(layout)(...args) as string[];
          const offsets = tsLayout(layout)(...args) as Record<string, number>;
          assert.deepEqual(names, expandSignalNames(layout, params), `${layout.template}(${params.join(", ")}) names`);
          assert.equal(offsets.count, names.length);
          for (const segment of layout.segments) {
            const at = offsets[segment.name]!;
            assert.ok(names[at] === segment.name || names[at] === `${segment.name}[0]`, `${layout.template}(${params.join(", ")}).${segment.name} at ${at} is ${names[at]}`);
          }
          checked++;
        }
      }
      assert.ok(checked > 130, `${checked} layouts checked`);
      // The hand-written API keeps its names over the generated layouts.
      assert.equal(SOLVENCY_SIGNAL, S.SOLVENCY_SIGNAL);
      assert.equal(SOLVENCY_SIGNAL_COUNT, 6);
      assert.deepEqual(custodyLayout(3, 3, 2), S.rebalanceSignalLayout(3, 3, 2));
      const batch = batchSignals(S.auditBatchSignalNames(4).map((_, i) => String(i)));
      assert.deepEqual([batch.hash, batch.marketRoot, batch.failing, batch.members], [0n, 4n, 7n, [8n, 9n, 10n, 11n]]);
      const merge = mergeSignals(
        S.auditMergeSignalNames(2).map((_, i) => String(i)),
        2,
      );
      assert.deepEqual(merge.children, [
        { hash: 6n, digest: 8n, firstAccount: 10n, lastAccount: 12n },
        { hash: 7n, digest: 9n, firstAccount: 11n, lastAccount: 13n },
      ]);
    });
  });

  describe("Solidity equals TypeScript, evaluated on hardhat's in-process chain", function () {
    it("every constant of PublicSignals and CircuitConstants, and every Rebalance layout over a grid of sizes and the instances'", async function () {
      const { ethers } = await network.connect();
      const harness = await ethers.deployContract("PublicSignalsHarness");
      const [names, values] = (await harness.getFunction("constants")()) as unknown as [string[], bigint[]];
      const solidity = new Map(names.map((name, i) => [name, values[i]!]));
      assert.equal(solidity.size, names.length, "no constant twice");

      const layouts = loadTemplateLayouts().filter((l) => l.solidity);
      const expected = new Map<string, bigint>();
      for (const [name, value] of Object.entries(C)) expected.set(name, BigInt(value));
      const variable: TemplateLayout[] = [];
      for (const layout of layouts) {
        const prefix = upperSnake(layout.template);
        if (isConstantLayout(layout)) {
          for (const [field, at] of Object.entries(generated[`${prefix}_SIGNAL`] as Record<string, number>)) expected.set(`${prefix}_${upperSnake(field)}`, BigInt(at));
          expected.set(`${prefix}_COUNT`, BigInt(generated[`${prefix}_SIGNAL_COUNT`] as number));
        } else {
          variable.push(layout);
          // The offsets every instance shares are constants on both sides.
          const samples = grid(layout, [1, 4]).map(({ args }) => tsLayout(layout)(...args) as Record<string, number>);
          for (const segment of layout.segments) {
            if (samples.every((s) => s[segment.name] === samples[0]![segment.name])) expected.set(`${prefix}_${upperSnake(segment.name)}`, BigInt(samples[0]![segment.name]!));
          }
        }
      }
      const sizes = [1, 2, 3, 5, 8];
      for (const [name, value] of solidity) {
        const after = /^(\w+)_AFTER_(\w+)$/.exec(name);
        if (after) {
          // A distance the gate adds to a layout field: the same for every instance, in the SDK too.
          const [follower, anchor] = [camel(after[1]!), camel(after[2]!)];
          const owner = variable.find((l) => l.segments.some((s) => s.name === follower) && l.segments.some((s) => s.name === anchor));
          assert.ok(owner, `${name}: no layout has ${follower} and ${anchor}`);
          for (const { args } of grid(owner, sizes)) {
            const l = tsLayout(owner)(...args) as Record<string, number>;
            assert.equal(BigInt(l[follower]! - l[anchor]!), value, `${name} at (${args.join(", ")})`);
          }
          continue;
        }
        assert.ok(expected.has(name), `Solidity's ${name} has no TypeScript twin`);
        assert.equal(value, expected.get(name), `${name}: Solidity ${value}, TypeScript ${expected.get(name)}`);
        expected.delete(name);
      }
      assert.deepEqual([...expected.keys()], [], "every TypeScript constant has a Solidity twin");

      let calls = 0;
      for (const layout of variable) {
        const points = grid(layout, [1, 2, 3, 5, 8]).map((g) => g.args);
        for (const instance of loadInstances().filter((i) => i.template === layout.template))
          points.push(layout.layoutParams.map((p) => instance.params[layout.params.indexOf(p)]!));
        points.push(layout.layoutParams.map((_, i) => [1, 16, 0][i % 3]!)); // no swap slots, many instruments
        for (const args of points) {
          const ts = tsLayout(layout)(...args) as Record<string, number>;
          const sol = (await harness.getFunction(`${lowerFirst(layout.template)}Layout`)(...args)) as unknown as { toObject(): Record<string, bigint> };
          const fields = sol.toObject();
          assert.ok(Object.keys(fields).length >= 3, "the struct has fields");
          for (const [field, value] of Object.entries(fields)) assert.equal(Number(value), ts[field], `${layout.template}Layout(${args.join(", ")}).${field}`);
          for (const size of layout.sizes) {
            const sizeArgs = size.params.map((p) => args[layout.layoutParams.indexOf(p)]!);
            assert.equal(Number(await harness.getFunction(size.name)(...sizeArgs)), (generated[size.name] as Fn)(...sizeArgs), `${size.name}(${sizeArgs.join(", ")})`);
          }
          calls++;
        }
      }
      assert.ok(calls > 120, `${calls} layouts compared`);
    });
  });

  describe("the bit widths", function () {
    it("constants.json, the circom definitions it names, the SDK's generated constants, the model's bounds and the parsers' limits agree", function () {
      const constants = loadConstants();
      checkCircomConstants(constants);
      assert.deepEqual(Object.keys(C).sort(), constants.map((c) => c.name).sort());
      for (const c of constants) assert.equal((C as Record<string, unknown>)[c.name], c.type === "bigint" ? c.value : Number(c.value), c.name);
      // Every literal bound of lib/bounds.circom is a shared constant: none can be added or changed on one side only.
      const bounds = readFileSync(path.join(CIRCUITS_DIR, "lib", "bounds.circom"), "utf8");
      const literal = [...bounds.matchAll(/function\s+([A-Z_]+)\(\)\s*\{\s*return\s+\d+;\s*\}/g)].map((m) => `lib/bounds.circom:${m[1]}()`);
      assert.ok(literal.length >= 20, `${literal.length} literal bounds`);
      const named = new Set(constants.flatMap((c) => c.circom));
      for (const reference of literal) assert.ok(named.has(reference), `${reference} is in constants.json`);
      assert.deepEqual(BOUND_BITS, {
        value: C.VALUE_BITS,
        assetReturn: C.RETURN_BITS,
        price: C.PRICE_BITS,
        mark: C.MARK_BITS,
        pnl: C.PNL_BITS,
        quantity: C.QUANTITY_BITS,
        delta: C.DELTA_BITS,
        covariance: C.COVARIANCE_BITS,
        notional: C.NOTIONAL_BITS,
        deltaExposure: C.DELTA_EXPOSURE_BITS,
        minEquity: C.VALUE_BITS,
        debtAssets: C.DEBT_ASSETS_BITS,
        debtIndex: C.DEBT_INDEX_BITS,
      });
      assert.equal(MAX_ASSET_DECIMALS, 18);
      assert.equal(MAX_HORIZON_DAYS, 1023);
      assert.equal(DEBT_INDEX_SCALE, 10n ** BigInt(DEBT_INDEX_DECIMALS));
      assert.equal(DEBT_INDEX_BITS, 64);
      assert.equal(MAX_AMOUNT, (1n << 96n) - 1n);
      assert.equal(AMOUNT_BITS, 96);
      assert.equal(QUANTITY_OFFSET, 1n << BigInt(AMOUNT_BITS - 1));
    });
  });

  describe("refused with one clear line", function () {
    it("instances.json: an instance's stated signals that differ from its template's, a wrong parameter count, an undeclared template without lists (exit 3)", function () {
      const swapped = editedInstances((c) => {
        const names = loadInstances()
          .find((i) => i.name === "rebalance-3x3x16")!
          .publicSignals.slice();
        [names[7], names[8]] = [names[8]!, names[7]!];
        c.instances["rebalance-3x3x16"]!.publicSignals = names;
      });
      const mismatch = thrown(() => loadInstances(swapped));
      assert.ok(mismatch instanceof SetupError);
      assert.match(
        mismatch.message,
        /instances\.json: instances\.rebalance-3x3x16\.publicSignals: \[.*nonce, account.*\] is not what templates\.Rebalance declares for these parameters: \[.*account, nonce.*\]$/,
      );

      const params = thrown(() => loadInstances(editedInstances((c) => (c.instances["solvency-3x3x16"]!.params = [3, 3, 16]))));
      assert.match(params.message, /instances\.solvency-3x3x16\.params: Solvency takes 4 parameters \(nAssets, nInstruments, nScenarios, checks\), got 3$/);

      const undeclared = thrown(() => loadInstances(editedInstances((c) => delete c.templates.Solvency)));
      assert.equal(undeclared.exitCode, 3);
      assert.match(undeclared.message, /instances\.solvency-3x3x16\.publicInputs: required, since templates declares no Solvency$/);
    });

    it("instances.json: a declaration that cannot be laid out names its field (exit 3)", function () {
      const rebalance = (edit: (d: Record<string, unknown>) => void) => () => loadInstances(editedInstances((c) => edit(c.templates.Rebalance!)));
      const cases: [string, (d: Record<string, unknown>) => void, RegExp][] = [
        [
          "an unknown identifier in a size",
          (d) => (d.sizes = { ciphertextLength: "3 * ceil((1 + nAssts) / 3) + 1" }),
          /templates\.Rebalance\.sizes\.ciphertextLength: "nAssts" is not a parameter of the template \(nAssets, nInstruments, nScenarios, checks, nSwaps\) in ".*"$/,
        ],
        [
          "ceil of anything but a quotient",
          (d) => (d.sizes = { ciphertextLength: "ceil(nAssets + 1)" }),
          /templates\.Rebalance\.sizes\.ciphertextLength: ceil takes a quotient, ceil\(a \/ b\) in "ceil\(nAssets \+ 1\)"$/,
        ],
        [
          "an array length that is no parameter or size",
          (d) => ((d.publicInputs as string[])[0] = "debtIndex[nAsset]"),
          /templates\.Rebalance\.publicInputs\[0\]: the length "nAsset" is not a positive integer, a parameter or a named size \(sizes: ciphertextLength\)$/,
        ],
        ["a signal declared twice", (d) => (d.publicInputs as string[]).push("account"), /templates\.Rebalance\.publicInputs\[22\]: "account" is declared twice$/],
        [
          "a signal named like the layout's count",
          (d) => (d.publicInputs as string[]).push("count"),
          /templates\.Rebalance\.publicInputs\[22\]: "count" is the layout's own field$/,
        ],
        [
          "a malformed declaration",
          (d) => ((d.outputs as string[])[0] = "old Commitment"),
          /templates\.Rebalance\.outputs\[0\]: "old Commitment" is not "name" or "name\[length\]"$/,
        ],
        ["docs for nothing", (d) => ((d.docs as Record<string, string>).nope = "x"), /templates\.Rebalance\.docs\.nope: no parameter, size or signal is named "nope"$/],
      ];
      for (const [what, edit, expected] of cases) {
        const error = thrown(rebalance(edit));
        assert.equal(error.exitCode, 3, what);
        assert.match(error.message, expected, what);
      }
    });

    it("a declaration that disagrees with its circom template: reordered public inputs, a wrong array length, a missing output (exit 1)", async function () {
      // Each would lay out every gate's signals wrong while instances.json still loads.
      const cases: [(d: Record<string, unknown>) => void, RegExp][] = [
        [
          (d) => {
            const inputs = d.publicInputs as string[];
            [inputs[4], inputs[5]] = [inputs[5]!, inputs[4]!];
          },
          /^packages\/circuits\/rebalance\.circom: template Rebalance declares the public inputs \[debtIndex, account, nonce, context, forced, fromEmpty, .*\] in this order \(and these exist\), but instances\.json's templates\.Rebalance\.publicInputs says \[debtIndex, account, nonce, context, fromEmpty, forced, .*\]$/,
        ],
        [
          (d) => ((d.publicInputs as string[])[0] = "debtIndex[nSwaps]"),
          /^packages\/circuits\/rebalance\.circom: template Rebalance declares debtIndex\[nAssets\], but instances\.json's templates\.Rebalance says debtIndex\[nSwaps\]$/,
        ],
        [
          (d) => {
            (d.outputs as string[]).splice(3, 1);
            delete (d.docs as Record<string, string>).policyHash;
          },
          /^packages\/circuits\/rebalance\.circom: template Rebalance's outputs are \[oldCommitment, newCommitment, marketRoot, policyHash\], but instances\.json's templates\.Rebalance\.outputs says \[oldCommitment, newCommitment, marketRoot\]$/,
        ],
        [
          // A parameter renamed consistently in the declaration, but not in the template.
          (d) => {
            (d.params as string[])[4] = "swaps";
            d.publicInputs = (d.publicInputs as string[]).map((signal) => signal.replace("[nSwaps]", "[swaps]"));
            const docs = d.docs as Record<string, string>;
            docs.swaps = docs.nSwaps!;
            delete docs.nSwaps;
          },
          /^packages\/circuits\/rebalance\.circom: template Rebalance\(nAssets, nInstruments, nScenarios, checks, nSwaps\), but instances\.json's templates\.Rebalance\.params says \(nAssets, nInstruments, nScenarios, checks, swaps\)$/,
        ],
      ];
      for (const [edit, expected] of cases) {
        const instancesFile = editedInstances((c) => edit(c.templates.Rebalance!));
        const error = await rejected(generateConstants({ instancesFile }));
        assert.ok(error instanceof TemplateDeclarationError, error.message);
        assert.equal(error.exitCode, 1);
        assert.match(error.message, expected);
      }
    });

    it("constants.json against the circuits: a bound changed on one side only (exit 1); an invalid file names its field (exit 2)", async function () {
      const raw = JSON.parse(readFileSync(CONSTANTS_FILE, "utf8")) as { constants: Record<string, Record<string, unknown>> };
      const write = (edit: (c: typeof raw) => void): string => {
        const copy = structuredClone(raw);
        edit(copy);
        const file = path.join(temp.make("constants"), "constants.json");
        writeFileSync(file, JSON.stringify(copy));
        return file;
      };
      const widened = await rejected(generateConstants({ constantsFile: write((c) => (c.constants.VALUE_BITS!.value = 81)) }));
      assert.ok(widened instanceof CircomConstantError);
      assert.equal(widened.exitCode, 1);
      assert.equal(
        widened.message,
        "packages/circuits/lib/bounds.circom: function VALUE_BITS() is 80, but packages/circuits/constants.json's VALUE_BITS is 81; change one of them, then run npm run generate:constants",
      );

      // The circuit changed instead (a copy of the circuits): the template's var disagrees.
      const circuitsDir = temp.make("circuits");
      cpSync(CIRCUITS_DIR, circuitsDir, { recursive: true, filter: (src) => !src.includes("node_modules") });
      const rebalance = path.join(circuitsDir, "rebalance.circom");
      writeFileSync(rebalance, readFileSync(rebalance, "utf8").replace("var AMOUNT = 96;", "var AMOUNT = 95;"));
      const narrowed = await rejected(generateConstants({ circuitsDir }));
      assert.equal(
        narrowed.message,
        "packages/circuits/rebalance.circom: var AMOUNT is 95, but packages/circuits/constants.json's AMOUNT_BITS is 96; change one of them, then run npm run generate:constants",
      );
      writeFileSync(rebalance, readFileSync(rebalance, "utf8").replace("var AMOUNT = 95;", "var AMOUNT_WIDTH = 96;"));
      const gone = await rejected(generateConstants({ circuitsDir }));
      assert.equal(gone.message, "packages/circuits/rebalance.circom: no var AMOUNT = ...;, which constants.json's AMOUNT_BITS names");

      const invalid: [(c: typeof raw) => void, RegExp][] = [
        [(c) => (c.constants.VALUE_BITS!.value = 1.5), /constants\.json: constants\.VALUE_BITS\.value: /],
        [
          (c) => (c.constants.VALUE_BITS!.value = 2 ** 60),
          /constants\.json: constants\.VALUE_BITS\.value: a "number" constant is a JSON integer below 2\^53; write larger ones as a decimal string with "type": "bigint"$/,
        ],
        [(c) => (c.constants.DEBT_INDEX_SCALE!.value = 1e18), /constants\.json: constants\.DEBT_INDEX_SCALE\.value: a "bigint" constant is a decimal string$/],
        [
          (c) => (c.constants.VALUE_BITS!.circom = ["lib/bounds.circom VALUE_BITS"]),
          /constants\.json: constants\.VALUE_BITS\.circom\.0: expected "file\.circom:NAME\(\)" \(a function\) or "file\.circom:NAME" \(a var\)$/,
        ],
        [(c) => (c.constants.valueBits = c.constants.VALUE_BITS!), /constants\.json: constants\.valueBits: expected an UPPER_SNAKE name$/],
      ];
      for (const [edit, expected] of invalid) {
        const error = thrown(() => loadConstants(write(edit)));
        assert.ok(error instanceof InputError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, expected);
      }
    });
  });
});
