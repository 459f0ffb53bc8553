/**
 * packages/circuits/execution/schedule-slice.circom with real proofs: a slice's commitment, time
 * and amounts are exactly the ones the committed seed draws from the committed plan
 * (schedule.ts's rule), at the edges of every range; any other time, amount, slice, window, plan
 * or pair is refused or changes the commitment; a proof whose public signals are edited does not
 * verify; and a cheating prover's forged hints (another quotient and remainder for a draw's
 * offset, another draw as the slice's rank, another cumulative amount, the other 254-bit
 * representation of a draw) break the checks that pin them, and only those.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { CircuitSignals } from "snarkjs";
import { loadCircuitArtifacts, loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { manifestFiles } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir } from "../packages/node/src/setup/paths.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import {
  checkScheduleSliceProof,
  deriveSchedule,
  proveScheduleSlice,
  scheduleSliceInput,
  sliceDraw,
  type ScheduleSecret,
  type ScheduleSliceProof,
  type ScheduleSwap,
  type ScheduleWindow,
} from "../packages/sdk/src/execution/index.ts";
import { UnprovableError } from "../packages/sdk/src/prover/errors.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";

const INSTANCE = "schedule-slice-16x2";
const MAX_AMOUNT = (1n << 96n) - 1n;
const SECRET: ScheduleSecret = { seed: 0xfeed_beef_0000_1111_2222_3333_4444_5555n, salt: (1n << 230n) + 12345n };
const WINDOW: ScheduleWindow = { start: 1_767_225_600, seconds: 21_600, slices: 8 };
const PLAN: ScheduleSwap[] = [
  { sell: 0, buy: 2, amountIn: 3n * 10n ** 18n + 7n },
  { sell: 1, buy: 2, amountIn: 12_345_678_901n },
];
const OLD = 0x1111n;
const NEW = 0x2222n;

type Signals = Record<string, unknown>;

describe(`schedule slice circuit (${INSTANCE})`, function () {
  let circuit: CircuitUnderTest;
  let lenient: LenientWitness;
  let artifacts: ReturnType<typeof loadCircuitArtifacts>;
  /** A real proof of slice 3 (made once: the passing case and the edited-signal cases use it). */
  let proof: ScheduleSliceProof;
  /** Witness index -> signal name, to say which constraints a forged witness breaks. */
  const names = new Map<number, string>();

  const input = (index = 3, window = WINDOW, plan = PLAN, secret = SECRET): Signals =>
    scheduleSliceInput({ secret, window, index, plan, oldCommitment: OLD, newCommitment: NEW }) as Signals;

  before(async function () {
    circuit = await CircuitUnderTest.load(INSTANCE);
    const dir = instanceDir(defaultBuildPaths(), INSTANCE);
    const built = loadInstanceArtifacts(INSTANCE);
    for (const line of readFileSync(manifestFiles(dir, built.manifest).sym, "utf8").split("\n")) {
      const [, witness, , name] = line.split(",");
      if (name && Number(witness) >= 0) names.set(Number(witness), name);
    }
    lenient = await LenientWitness.load(built, input() as CircuitSignals, (i) => circuit.witness(i));
    artifacts = loadCircuitArtifacts(INSTANCE);
    proof = await proveScheduleSlice({ secret: SECRET, window: WINDOW, index: 3, plan: PLAN, oldCommitment: OLD, newCommitment: NEW }, artifacts);
  });
  after(releaseProverThreads);

  /** The witness generator refuses the input (a constraint of the circuit fails). */
  const refuses = (signals: Signals, what: string) => assert.rejects(circuit.witness(signals as CircuitSignals), (e: unknown) => e instanceof UnprovableError, what);

  const has = (name: string): boolean => {
    try {
      circuit.index(name);
      return true;
    } catch {
      return false;
    }
  };
  const mod = (value: bigint): bigint => ((value % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD;
  /** Sets a signal; one --O2 removed is skipped (its value lives on in the constraints that replaced it). */
  const set = (w: bigint[], name: string, value: bigint) => {
    if (has(name)) w[circuit.index(name)] = mod(value);
  };
  const get = (w: bigint[], name: string): bigint => w[circuit.index(name)]!;
  /** Sets a Num2Bits component's output bits to the low `n` bits of `value` (a negative value as its field element; d + p kept as the integer). */
  function setBits(w: bigint[], component: string, value: bigint, n: number): void {
    const v = value < 0n ? mod(value) : value;
    for (let k = 0; k < n; k++) set(w, `${component}.out[${k}]`, (v >> BigInt(k)) & 1n);
  }
  const inverse = (x: bigint): bigint => {
    // Fermat: x^(p - 2) mod p.
    let [result, base, e] = [1n, mod(x), SNARK_FIELD - 2n];
    while (e > 0n) {
      if (e & 1n) result = (result * base) % SNARK_FIELD;
      base = (base * base) % SNARK_FIELD;
      e >>= 1n;
    }
    return result;
  };
  /**
   * After a forged offset or choice: recomputes, as an honest generator would from those values,
   * everything downstream of the rank's inputs (the chosen offset, every comparison with it, the
   * rank's terms, sliceTime), so a forged witness breaks only what pins the forged value.
   */
  function recompare(w: bigint[], slices: number, chosenDraw: number): void {
    // The one-hot choice as values (--O2 keeps chosen[15] only as 1 - the others' sum).
    const chosen = Array.from({ length: 16 }, (_, j) => (j === chosenDraw ? 1n : 0n));
    chosen.forEach((c, j) => {
      set(w, `main.chosen[${j}]`, c);
      set(w, `main.chosenIsActive[${j}]`, j < slices ? c : 0n);
    });
    let picked = 0n;
    for (let j = 0; j < 16; j++) {
      const term = chosen[j]! * get(w, `main.offset[${j}]`);
      set(w, `main.chosenTerm[${j}]`, term);
      picked += term;
    }
    set(w, "main.pickedOffset", picked);
    for (let j = 0; j < 16; j++) {
      const o = get(w, `main.offset[${j}]`);
      const diff = o + (1n << 32n) - picked;
      setBits(w, `main.earlier[${j}].n2b`, diff, 33);
      const earlier = 1n - ((diff >> 32n) & 1n);
      set(w, `main.earlier[${j}].out`, earlier);
      const d = mod(picked - o);
      set(w, `main.tied[${j}].isz.inv`, d === 0n ? 0n : inverse(d));
      const tied = d === 0n ? 1n : 0n;
      set(w, `main.tied[${j}].isz.out`, tied);
      set(w, `main.tied[${j}].out`, tied);
      let later = 0n;
      for (let k = j + 1; k < 16; k++) later += chosen[k]!;
      set(w, `main.tiedBefore[${j}]`, tied * later);
      set(w, `main.ranked[${j}]`, (j < slices ? 1n : 0n) * (earlier + tied * later));
    }
    set(w, "main.sliceTime", get(w, "main.windowStart") + picked);
  }
  /** Draw j's offset hints set to quotient q and offset o (with their range checks' bits), then recompare. */
  function forgeOffset(w: bigint[], j: number, q: bigint, o: bigint, slices: number, chosenDraw: number): void {
    const seconds = get(w, "main.windowSeconds");
    set(w, `main.quotient[${j}]`, q);
    set(w, `main.offset[${j}]`, o);
    setBits(w, `main.quotientBits[${j}]`, q, 64);
    setBits(w, `main.offsetBits[${j}]`, o, 32);
    setBits(w, `main.offsetBelow[${j}]`, seconds - 1n - o, 32);
    recompare(w, slices, chosenDraw);
  }
  /**
   * The violated constraints, each as the names of its signals (--O2 merges a range check's bit sum
   * with the linear expression it checks, so a constraint names both).
   */
  function violatedSignals(w: bigint[]): string[][] {
    return circuit.violated(w).map((i) => {
      const [a, b, c] = circuit.r1cs.constraints[i]!;
      return [a, b, c].flatMap((lc) => Object.keys(lc).map((key) => names.get(Number(key)) ?? `#${key}`));
    });
  }
  /** At least one constraint breaks, and every broken one involves a signal of `component` (a name prefix, or a regex). */
  function breaksOnly(w: bigint[], component: string | RegExp): void {
    const broken = violatedSignals(w);
    assert.ok(broken.length > 0, "the forged witness must break a constraint");
    const matches = (name: string) => (typeof component === "string" ? name.startsWith(`${component}.`) || name === component : component.test(name));
    for (const signals of broken) assert.ok(signals.some(matches), `a constraint outside ${String(component)}: ${signals.join(", ")}`);
  }

  describe("passing and boundary", function () {
    it("passing: a real proof of slice 3 verifies; its public commitment, time, pairs and amounts are the model's; the totals are not public", async function () {
      assert.deepEqual(await checkScheduleSliceProof(proof, artifacts), { valid: true });
      const model = deriveSchedule(SECRET, WINDOW, PLAN);
      assert.equal(proof.seedCommitment, model.seedCommitment);
      assert.equal(proof.sliceTime, model.slices[3]!.time);
      assert.deepEqual(proof.swapIn, model.slices[3]!.amounts);
      assert.deepEqual(
        [proof.planSell, proof.planBuy],
        [
          [0n, 1n],
          [2n, 2n],
        ],
      );
      assert.deepEqual([proof.slice, proof.slices, proof.windowStart, proof.windowSeconds], [3, 8, WINDOW.start, WINDOW.seconds]);
      assert.deepEqual([proof.oldCommitment, proof.newCommitment], [OLD, NEW]);
      assert.deepEqual(artifacts.manifest.publicSignals, [
        "seedCommitment",
        "sliceTime",
        "slices",
        "slice",
        "windowStart",
        "windowSeconds",
        "planSell[0]",
        "planSell[1]",
        "planBuy[0]",
        "planBuy[1]",
        "swapIn[0]",
        "swapIn[1]",
        "oldCommitment",
        "newCommitment",
      ]);
      for (const total of PLAN.map((s) => s.amountIn.toString())) assert.ok(!proof.publicSignals.includes(total as never), "the plan's totals stay private");
    });

    it("boundary: the last of 16 slices at the largest start, window and amounts proves; one slice; one second per slice (every draw tied: ranks by index)", async function () {
      const edge: ScheduleWindow = { start: 2 ** 40 - 1, seconds: 2 ** 32 - 1, slices: 16 };
      const big = PLAN.map((s) => ({ ...s, amountIn: MAX_AMOUNT }));
      const last = await proveScheduleSlice({ secret: SECRET, window: edge, index: 15, plan: big, oldCommitment: SNARK_FIELD - 1n, newCommitment: 0n }, artifacts);
      assert.deepEqual(await checkScheduleSliceProof(last, artifacts), { valid: true });
      assert.equal(last.sliceTime, deriveSchedule(SECRET, edge, big).slices[15]!.time);
      const one = await circuit.witness(input(0, { start: 5, seconds: 1, slices: 1 }) as CircuitSignals);
      assert.equal(get(one, "main.sliceTime"), 5n);
      assert.equal(get(one, "main.swapIn[0]"), PLAN[0]!.amountIn);
      for (const index of [0, 9, 15]) {
        const tight = await circuit.witness(input(index, { start: 100, seconds: 16, slices: 16 }) as CircuitSignals);
        const model = deriveSchedule(SECRET, { start: 100, seconds: 16, slices: 16 }, PLAN).slices[index]!;
        assert.equal(get(tight, "main.sliceTime"), BigInt(model.time));
        assert.equal(get(tight, `main.chosen[${model.draw}]`), 1n);
      }
      // Zero plans: every slice sells nothing.
      const zero = await circuit.witness(
        input(
          2,
          WINDOW,
          PLAN.map((s) => ({ ...s, amountIn: 0n })),
        ) as CircuitSignals,
      );
      assert.deepEqual([get(zero, "main.swapIn[0]"), get(zero, "main.swapIn[1]")], [0n, 0n]);
    });
  });

  describe("failing: the circuit refuses anything but the seed's slice of the committed plan", function () {
    it("another amount (one base unit more or less, in either swap)", async function () {
      const honest = input();
      const [a, b] = honest.swapIn as bigint[];
      await refuses({ ...honest, swapIn: [a! + 1n, b] }, "+1");
      await refuses({ ...honest, swapIn: [a! - 1n, b] }, "-1");
      await refuses({ ...honest, swapIn: [a, b! + 1n] }, "swap 1");
      // Another slice's amounts under this index.
      await refuses({ ...honest, swapIn: input(4).swapIn }, "slice 4's amounts as slice 3's");
    });

    it("another plan, seed or index: the amounts no longer follow; another pair or total is another commitment", async function () {
      const honest = input();
      await refuses({ ...honest, planIn: [PLAN[0]!.amountIn + 1000n, PLAN[1]!.amountIn] }, "another plan total");
      await refuses({ ...honest, seed: SECRET.seed + 1n }, "another seed");
      await refuses({ ...honest, slice: 4n }, "another index");
      const published = get(await circuit.witness(honest as CircuitSignals), "main.seedCommitment");
      // The pairs are public and hashed: a slice proof for another pair proves under another commitment (verifyScheduleChain: seedMismatch).
      const otherPair = await circuit.witness({ ...honest, planBuy: [1n, 2n] } as CircuitSignals);
      assert.notEqual(get(otherPair, "main.seedCommitment"), published);
      // Half the plan, with the amounts that follow from it: another commitment too.
      const half = input(
        3,
        WINDOW,
        PLAN.map((s) => ({ ...s, amountIn: s.amountIn / 2n })),
      );
      assert.notEqual(get(await circuit.witness(half as CircuitSignals), "main.seedCommitment"), published);
      // The window is public: another start proves another time, which verifyScheduleChain compares with the published window.
      const moved = await circuit.witness({ ...honest, windowStart: BigInt(WINDOW.start + 1) } as CircuitSignals);
      assert.equal(get(moved, "main.sliceTime"), BigInt(deriveSchedule(SECRET, WINDOW, PLAN).slices[3]!.time + 1));
    });

    it("out of range: slice >= slices, 0 or 17 slices, a window shorter than its slices or of 2^32 s, a start of 2^40, a plan of 2^96", async function () {
      const honest = input(0, { ...WINDOW, slices: 2 });
      await refuses({ ...honest, slice: 2n }, "slice = slices");
      await refuses({ ...honest, slice: SNARK_FIELD - 1n }, "slice -1");
      await refuses({ ...honest, slices: 0n }, "0 slices");
      await refuses({ ...honest, slices: 17n }, "17 slices");
      await refuses({ ...honest, windowSeconds: 1n }, "a window shorter than its slices");
      await refuses({ ...honest, windowSeconds: 1n << 32n }, "2^32 s");
      await refuses({ ...honest, windowStart: 1n << 40n }, "a start of 2^40");
      await refuses({ ...input(0, WINDOW, [{ ...PLAN[0]!, amountIn: MAX_AMOUNT }]), planIn: [MAX_AMOUNT + 1n, 0n], swapIn: [0n, 0n] }, "a plan of 2^96");
    });

    it("a real proof with an edited public signal does not verify (and a relabelled field is caught)", async function () {
      const signals = [...proof.publicSignals];
      signals[1] = (BigInt(signals[1]!) + 1n).toString() as (typeof signals)[number];
      const edited: ScheduleSliceProof = { ...proof, publicSignals: signals, sliceTime: proof.sliceTime + 1 };
      const verdict = await checkScheduleSliceProof(edited, artifacts);
      assert.equal(verdict.valid, false);
      assert.match((verdict as { problem: string }).problem, /does not verify/);
      assert.deepEqual(await checkScheduleSliceProof({ ...proof, sliceTime: proof.sliceTime + 1 }, artifacts), {
        valid: false,
        problem: "sliceTime is not what the public signals encode",
      });
      const pair = [...proof.publicSignals];
      pair[8] = "1";
      assert.equal((await checkScheduleSliceProof({ ...proof, publicSignals: pair, planBuy: [1n, 2n] }, artifacts)).valid, false, "the pairs are bound");
      const moved = [...proof.publicSignals];
      moved[13] = "7";
      assert.equal((await checkScheduleSliceProof({ ...proof, publicSignals: moved, newCommitment: 7n }, artifacts)).valid, false, "bound to the transition's commitment");
    });
  });

  describe("forged witnesses: no choice of the hints gives another slice", function () {
    it("another time: a draw's quotient - 1 and offset + windowSeconds (the latest slice, later still) breaks only offset < windowSeconds", async function () {
      const w = await circuit.witness(input(7) as CircuitSignals);
      const drawn = deriveSchedule(SECRET, WINDOW, PLAN).slices[7]!.draw;
      const [q, o] = [get(w, `main.quotient[${drawn}]`), get(w, `main.offset[${drawn}]`)];
      assert.ok(q > 0n);
      forgeOffset(w, drawn, q - 1n, o + BigInt(WINDOW.seconds), 8, drawn);
      assert.equal(get(w, "main.sliceTime"), BigInt(WINDOW.start) + o + BigInt(WINDOW.seconds));
      breaksOnly(w, `main.offsetBelow[${drawn}]`);
    });

    it("another rank: choosing slice 4's draw as slice 3's time (the hint) breaks only the rank equation", async function () {
      const w = await circuit.witness(input(3) as CircuitSignals);
      const model = deriveSchedule(SECRET, WINDOW, PLAN).slices;
      recompare(w, 8, model[4]!.draw);
      assert.equal(get(w, "main.sliceTime"), BigInt(model[4]!.time));
      // The rank is 4, not slice = 3: the constraint summing the ranked terms (--O2 folds `rank === slice` into one of them).
      breaksOnly(w, /^main\.(ranked\[\d+\]|slice)$/);
    });

    it("an unused draw (j >= slices) whose offset would rank as the slice: choosing it breaks only the check that the choice is an active draw", async function () {
      const offset = (j: number) => (sliceDraw(SECRET.seed, j) & ((1n << 64n) - 1n)) % BigInt(WINDOW.seconds);
      const rankAmongActive = (i: number) => Array.from({ length: 8 }, (_, j) => j).filter((j) => offset(j) < offset(i) || (offset(j) === offset(i) && j < i)).length;
      const unused = [8, 9, 10, 11, 12, 13, 14, 15].find((i) => rankAmongActive(i) < 8)!;
      const slice = rankAmongActive(unused);
      const w = await circuit.witness(input(slice) as CircuitSignals);
      recompare(w, 8, unused);
      assert.equal(get(w, "main.sliceTime"), BigInt(WINDOW.start) + offset(unused));
      breaksOnly(w, /^main\.chosenIsActive\[\d+\]$/);
    });

    it("another amount: cumulative + 1 and remainder - total breaks only remainder >= 0", async function () {
      const forged = input();
      const [a, b] = forged.swapIn as bigint[];
      forged.swapIn = [a! + 1n, b];
      const w = await lenient.calculate(forged as CircuitSignals);
      assert.ok(circuit.violated(w).length > 0, "the lenient witness breaks the split");
      const honest = await circuit.witness(input() as CircuitSignals);
      const total = deriveSchedule(SECRET, WINDOW, PLAN).totalWeight;
      const cumulative = get(honest, "main.throughCumulative[0]");
      const remainder = get(honest, "main.throughRemainder[0]");
      set(honest, "main.swapIn[0]", a! + 1n);
      set(honest, "main.throughCumulative[0]", cumulative + 1n);
      set(honest, "main.throughRemainder[0]", remainder - total);
      setBits(honest, "main.cumulativeBits[0][0]", cumulative + 1n, 96);
      setBits(honest, "main.remainderBits[0][0]", remainder - total, 22);
      setBits(honest, "main.remainderBelow[0][0]", total - 1n - (remainder - total), 22);
      breaksOnly(honest, "main.remainderBits[0][0]");
    });

    it("a draw's other representation d + p (another time draw) breaks only the alias check", async function () {
      // A seed whose draw for an unused slot j = 15 (8 slices) is below 2^254 - p, so d + p has 254 bits.
      let seed = 1n;
      while (sliceDraw(seed, 15) + SNARK_FIELD >= 1n << 254n) seed++;
      const w = await circuit.witness(input(3, WINDOW, PLAN, { seed, salt: SECRET.salt }) as CircuitSignals);
      const alias = sliceDraw(seed, 15) + SNARK_FIELD;
      setBits(w, "main.drawBits[15]", alias, 254);
      // Its time draw is now the alias's low 64 bits: the offset hints follow it honestly.
      const u = alias & ((1n << 64n) - 1n);
      forgeOffset(w, 15, u / BigInt(WINDOW.seconds), u % BigInt(WINDOW.seconds), 8, deriveSchedule({ seed, salt: SECRET.salt }, WINDOW, PLAN).slices[3]!.draw);
      // The bits still sum to d (mod p): only the alias check (bits < p) refuses them.
      breaksOnly(w, "main.drawBits[15].aliasCheck");
    });
  });
});
