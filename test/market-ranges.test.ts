/**
 * Every market value a statement computes with is range-checked in-circuit, once per circuit, by the
 * digest template of the market-root section that binds it (circuits/market/*.circom;
 * docs/risk-arithmetic.md, "Bounds"). For each value, on solvency-3x3x16:
 *   - the largest in-range value is accepted, the model agrees, and the witness's marketRoot is the
 *     TypeScript mirror's (src/commitment/market-root.ts packs identically);
 *   - one beyond is refused by the model and the parser, has no root in the mirror, and the circuit
 *     rejects it at that value's range check (the root is the circuit's own output, computed over
 *     the bad value, so nothing but the range check stands in the way);
 *   - for packed values, an aliased pair (slot + 2^bits, its neighbour - 1) hashes to the very same
 *     word, so it carries the oracle's real root: the forged witness violates only the slot's range
 *     check.
 * Then the same digest templates in the audit batch (checked once per batch) and in Rebalance.
 */
import assert from "node:assert/strict";
import type { CircuitSignals } from "snarkjs";
import { auditBatchInput } from "../src/audit/batch-input.ts";
import { marketDigests, marketRootOf, marketSignals, MARKET_PACKING, type MarketSignals } from "../src/commitment/market-root.ts";
import { InputError } from "../src/core/errors.ts";
import { SNARK_FIELD, toField } from "../src/core/field.ts";
import { parseMarket } from "../src/inputs/parse-market.ts";
import type { Market, Position } from "../src/inputs/types.ts";
import { checkPosition, ModelBoundsError } from "../src/model/index.ts";
import { loadInstanceArtifacts } from "../src/node/artifacts.ts";
import { readJsonFile } from "../src/node/read-json.ts";
import { releaseProverThreads } from "../src/prover/release.ts";
import { rebalanceInput } from "../src/prover/witness/rebalance.ts";
import { applyMovements, noMovements, type Transition } from "../src/rebalance/transition.ts";
import { example } from "./helpers/examples.ts";
import { positionOf, withMarket } from "./helpers/model-fixtures.ts";
import { SolvencyHarness } from "./helpers/solvency-harness.ts";
import { SOLVENCY_LAYOUT } from "./helpers/solvency-cases.ts";
import { FastWitness, type WitnessResult } from "./helpers/solvency-witness.ts";

const INSTANCE = "solvency-3x3x16";
const LAYOUT = SOLVENCY_LAYOUT;
const [WETH, WBTC, USDC] = [0, 1, 2];
const BTC_CALL = 2;
const bit = (n: number): bigint => 1n << BigInt(n);

describe(`market values are range-checked in-circuit (${INSTANCE})`, function () {
  this.timeout(600_000);
  let h: SolvencyHarness;
  let market: Market;
  /** 10,000 USDC and nothing else: every WETH / WBTC slot and every instrument is unused, so an edit there changes no figure. */
  let cash: Position;

  before(async function () {
    h = await SolvencyHarness.load(INSTANCE);
    market = h.market;
    cash = positionOf(market, { collateral: { USDC: 10_000n * 10n ** 6n } });
  });
  after(releaseProverThreads);

  const inputOf = (m: Market): Record<string, unknown> => h.input(h.caseOf(cash, m)) as Record<string, unknown>;
  const calculate = (input: Record<string, unknown>): Promise<WitnessResult> => h.fast.calculate(input as CircuitSignals);

  /** In range: the model passes, the circuit accepts, and its marketRoot is the mirror's. */
  async function accepts(edit: (m: Market) => void, what: string): Promise<void> {
    const m = withMarket(market, edit);
    assert.equal(checkPosition(cash, m, h.policy).pass, true, `${what}: the model passes`);
    const result = await calculate(inputOf(m));
    assert.ok(result.accepted, `${what}: ${!result.accepted && result.error}`);
    assert.equal(h.signal(result.witness, "main.marketRoot"), marketRootOf(marketSignals(m, LAYOUT)), `${what}: marketRoot`);
  }

  /** Circuit inputs with market signals replaced (the digests of unhashed sections are unused: this instance hashes all four). */
  const withSignals = (overrides: Partial<MarketSignals>): Record<string, unknown> => ({ ...inputOf(market), ...overrides });

  /** The circuit rejects, at the named digest template's range check. */
  async function rejectsAt(input: Record<string, unknown>, template: RegExp, what: string): Promise<void> {
    const result = await calculate(input);
    assert.ok(!result.accepted, `${what}: the circuit must reject it`);
    assert.match(result.error, template, `${what}: rejected by ${template}`);
  }

  /** Out of range: the model refuses (naming it), the mirror has no root, the circuit rejects at `template`. */
  async function refused(edit: (m: Market) => void, model: RegExp, template: RegExp, what: string): Promise<void> {
    const m = withMarket(market, edit);
    assert.throws(() => checkPosition(cash, m, h.policy), (e: unknown) => e instanceof ModelBoundsError && model.test(e.message), `${what}: the model refuses`);
    const signals = marketSignals(m, LAYOUT);
    assert.throws(() => marketDigests(signals), RangeError, `${what}: the mirror has no root`);
    await rejectsAt(withSignals(signals), template, what);
  }

  describe("boundaries: the largest in-range value passes, one beyond is refused by the model, the mirror and the circuit", function () {
    it("price: 2^64 - 1 passes; 2^64 is refused; a negative (field-wrapped) price is rejected", async function () {
      await accepts((m) => (m.assets[WBTC]!.price = bit(64) - 1n), "price 2^64 - 1");
      await refused((m) => (m.assets[WBTC]!.price = bit(64)), /price of WBTC exceeds 2\^64/, /AssetsDigest/, "price 2^64");
      const prices = marketSignals(market, LAYOUT).price;
      await rejectsAt(withSignals({ price: [prices[0]!, SNARK_FIELD - 1n, prices[2]!] }), /AssetsDigest/, "price -1");
    });

    it("scale: 10^18 passes; 10^19 is refused; 0, 3, 2 (a divisor of 10^18) and p - 1 are no power of ten up to 10^18", async function () {
      await accepts((m) => (m.assets[WBTC]!.decimals = 18), "18 decimals");
      await refused((m) => (m.assets[WBTC]!.decimals = 19), /decimals of WBTC is 19/, /AssetsDigest/, "19 decimals");
      const scales = marketSignals(market, LAYOUT).scale;
      for (const bad of [0n, 3n, 2n, 10n ** 17n + 1n, SNARK_FIELD - 1n]) {
        await rejectsAt(withSignals({ scale: [scales[0]!, bad, scales[2]!] }), /AssetsDigest/, `scale ${bad}`);
      }
    });

    it("instrument mark: +-(2^64 - 1) pass; 2^64 and -2^64 - 1 are refused", async function () {
      await accepts((m) => (m.instruments[BTC_CALL]!.mark = bit(64) - 1n), "mark 2^64 - 1");
      await accepts((m) => (m.instruments[BTC_CALL]!.mark = -(bit(64) - 1n)), "mark -(2^64 - 1)");
      await refused((m) => (m.instruments[BTC_CALL]!.mark = bit(64)), /mark of instrument BTC-26DEC26-95000-C exceeds 2\^64/, /InstrumentsDigest/, "mark 2^64");
      await refused((m) => (m.instruments[BTC_CALL]!.mark = -bit(64) - 1n), /mark of instrument/, /InstrumentsDigest/, "mark -2^64 - 1");
    });

    it("delta: +-(2^31 - 1) pass; 2^31 and -2^31 - 1 are refused", async function () {
      await accepts((m) => (m.instruments[BTC_CALL]!.delta = bit(31) - 1n), "delta 2^31 - 1");
      await accepts((m) => (m.instruments[BTC_CALL]!.delta = -(bit(31) - 1n)), "delta -(2^31 - 1)");
      await refused((m) => (m.instruments[BTC_CALL]!.delta = bit(31)), /delta of instrument BTC-26DEC26-95000-C exceeds 2\^31/, /InstrumentsDigest/, "delta 2^31");
      await refused((m) => (m.instruments[BTC_CALL]!.delta = -bit(31) - 1n), /delta of instrument/, /InstrumentsDigest/, "delta -2^31 - 1");
    });

    it("scenario PnL: +-(2^49 - 1) pass (in the first and the last slot); 2^49 and -2^49 - 1 are refused; -2^49 only by the model", async function () {
      await accepts((m) => (m.scenarios[0]!.instrumentPnl[BTC_CALL] = bit(49) - 1n), "PnL 2^49 - 1");
      await accepts((m) => (m.scenarios[15]!.instrumentPnl[0] = -(bit(49) - 1n)), "PnL -(2^49 - 1)");
      await refused((m) => (m.scenarios[0]!.instrumentPnl[BTC_CALL] = bit(49)), /PnL of instrument BTC-26DEC26-95000-C in scenario .* exceeds 2\^49/, /ScenariosDigest/, "PnL 2^49");
      await refused((m) => (m.scenarios[15]!.instrumentPnl[0] = -bit(49) - 1n), /PnL of instrument/, /ScenariosDigest/, "PnL -2^49 - 1");
      // A signed slot holds [-2^49, 2^49): its lowest value is one the model's |g| < 2^49 refuses.
      // The slack is harmless (every bound in the circuits holds for |g| <= 2^49), and the model
      // stays the stricter of the two, so whatever it accepts has a proof.
      const lowest = withMarket(market, (m) => (m.scenarios[15]!.instrumentPnl[0] = -bit(49)));
      assert.throws(() => checkPosition(cash, lowest, h.policy), ModelBoundsError);
      const result = await calculate(inputOf(lowest));
      assert.ok(result.accepted && h.signal(result.witness, "main.marketRoot") === marketRootOf(marketSignals(lowest, LAYOUT)));
    });

    it("asset return: +-(2^31 - 1) pass; 2^31 and -2^31 - 1 are refused", async function () {
      await accepts((m) => (m.scenarios[3]!.assetReturns[WBTC] = bit(31) - 1n), "return 2^31 - 1");
      await accepts((m) => (m.scenarios[3]!.assetReturns[WETH] = -(bit(31) - 1n)), "return -(2^31 - 1)");
      await refused((m) => (m.scenarios[3]!.assetReturns[WBTC] = bit(31)), /return of WBTC/, /ScenariosDigest/, "return 2^31");
      await refused((m) => (m.scenarios[3]!.assetReturns[WBTC] = -bit(31) - 1n), /return of WBTC/, /ScenariosDigest/, "return -2^31 - 1");
    });

    it("covariance entry: +-(2^40 - 1) pass; 2^40 and -2^40 - 1 are refused", async function () {
      await accepts((m) => (m.covariance.matrix[WBTC]![WBTC] = bit(40) - 1n), "variance 2^40 - 1");
      await accepts((m) => (m.covariance.matrix[WETH]![WBTC] = m.covariance.matrix[WBTC]![WETH] = -(bit(40) - 1n)), "covariance -(2^40 - 1)");
      await refused((m) => (m.covariance.matrix[WBTC]![WBTC] = bit(40)), /covariance entry \[WBTC\]\[WBTC\] exceeds 2\^40/, /CovarianceDigest/, "variance 2^40");
      await refused((m) => (m.covariance.matrix[WETH]![WBTC] = m.covariance.matrix[WBTC]![WETH] = -bit(40) - 1n), /covariance entry \[WETH\]\[WBTC\]/, /CovarianceDigest/, "covariance -2^40 - 1");
    });

    it("horizonDays: 1 and 1023 pass; 0 and 1024 are refused", async function () {
      await accepts((m) => (m.covariance.horizonDays = 1023), "1023 days");
      await accepts((m) => (m.covariance.horizonDays = 1), "1 day");
      await refused((m) => (m.covariance.horizonDays = 1024), /horizonDays is 1024/, /CovarianceDigest/, "1024 days");
      await refused((m) => (m.covariance.horizonDays = 0), /horizonDays is 0/, /CovarianceDigest/, "0 days");
    });

    it("scenario count: 1 and 16 (every slot) pass; 0 and 17 have no root and are rejected", async function () {
      await accepts((m) => (m.scenarios = m.scenarios.slice(0, 1)), "1 scenario");
      await accepts(() => {}, "16 scenarios");
      for (const count of [0n, 17n, SNARK_FIELD - 1n]) {
        const signals = { ...marketSignals(market, LAYOUT), scenarioCount: count };
        assert.throws(() => marketDigests(signals), RangeError);
        await rejectsAt(withSignals({ scenarioCount: count }), /ScenariosDigest/, `count ${count}`);
      }
    });

    it("liquidation threshold and scenario weight (stress uses them): 2^14 is rejected; underlying: 3 is no asset slot", async function () {
      const m = marketSignals(market, LAYOUT);
      await rejectsAt(withSignals({ threshold: [m.threshold[0]!, bit(14), m.threshold[2]!] }), /AssetsDigest/, "threshold 2^14");
      const weight = [...m.weight];
      weight[4] = bit(14);
      await rejectsAt(withSignals({ weight }), /ScenariosDigest/, "weight 2^14");
      await accepts((m) => (m.instruments[BTC_CALL]!.underlying = USDC), "underlying USDC (slot 2)");
      await rejectsAt(withSignals({ underlying: [0n, 0n, 3n] }), /ParametricVarCheck/, "underlying 3");
    });

    it("the parser refuses each out-of-range value of a market file, naming the field", function () {
      const raw = () => readJsonFile(example("market-grid.json")) as Record<string, any>;
      const cases: [string, (r: Record<string, any>) => void, string][] = [
        ["price", (r) => (r.assets[1].price = "184467440737.09551616"), "assets[1].price: must be < 184467440737.09551616 (2^64 quote units)"],
        ["decimals", (r) => (r.assets[1].decimals = 19), "assets[1].decimals: must be <= 18, got 19"],
        ["mark", (r) => (r.instruments[2].mark = "-184467440737.09551616"), "instruments[2].mark: must be in (-184467440737.09551616, 184467440737.09551616)"],
        ["delta", (r) => (r.instruments[2].delta = "21.47483648"), "instruments[2].delta: must be in (-21.47483648, 21.47483648)"],
        ["PnL", (r) => (r.scenarios.items[0].instrumentPnl["BTC-26DEC26-95000-C"] = "5629499.53421312"), 'scenarios.items[0].instrumentPnl.BTC-26DEC26-95000-C: must be in (-5629499.53421312, 5629499.53421312)'],
        ["return", (r) => (r.scenarios.items[0].assetReturns.WBTC = "-21.47483648"), "scenarios.items[0].assetReturns.WBTC: must be in (-21.47483648, 21.47483648)"],
        ["covariance", (r) => (r.covariance.matrix[1][1] = "1.099511627776"), "covariance.matrix[1][1]: must be in (-1.099511627776, 1.099511627776)"],
        ["horizon", (r) => (r.covariance.horizonDays = 1024), "covariance.horizonDays: must be <= 1023, got 1024"],
      ];
      for (const [what, edit, message] of cases) {
        const file = raw();
        edit(file);
        assert.throws(
          () => parseMarket(file, "market.json"),
          (e: unknown) => e instanceof InputError && e.exitCode === 2 && e.message.startsWith(`market.json: ${message}`),
          what,
        );
      }
      // One unit inside each bound parses.
      const inside = raw();
      inside.assets[1].price = "184467440737.09551615";
      inside.instruments[2].mark = "-184467440737.09551615";
      inside.scenarios.items[0].instrumentPnl["BTC-26DEC26-95000-C"] = "5629499.53421311";
      inside.covariance.horizonDays = 1023;
      assert.doesNotThrow(() => parseMarket(inside, "market.json"));
    });
  });

  describe("aliased packed values (the same word, so the oracle's real root) violate only the slot's range check", function () {
    let honest: bigint[];

    before(async function () {
      const result = await calculate(inputOf(market));
      assert.ok(result.accepted);
      honest = result.witness;
    });

    const index = (name: string): number => h.circuit.index(name);
    /** Witness indices of a PackWords slot's Num2Bits bits (--O2 substitutes the top one away). */
    function bits(check: string, n: number): Map<number, number> {
      const found = new Map<number, number>();
      for (let k = 0; k < n; k++) {
        try {
          found.set(k, index(`${check}.out[${k}]`));
        } catch {
          // optimised away
        }
      }
      assert.ok(found.size >= n - 1, `${check}: expected at least ${n - 1} bits in the witness`);
      return found;
    }
    /** The word the circuit hashes: sum (v + offset) * 2^(bits * u), over the field. */
    const fieldWord = (values: bigint[], slotBits: number, offset: bigint): bigint =>
      values.reduce((word, v, u) => (word + (v + offset) * (1n << BigInt(slotBits * u))) % SNARK_FIELD, 0n);

    /**
     * Raises signal `first` by 2^bits and lowers `second` (the next slot of the same word) by 1,
     * resets both slots' bits to their new values' low bits, and checks that only `first`'s range
     * check is violated.
     */
    function alias(packing: keyof typeof MARKET_PACKING, first: string, second: string, firstCheck: string, secondCheck: string): void {
      const { bits: slotBits, offset } = MARKET_PACKING[packing];
      const forged = [...honest];
      const [a, b] = [index(first), index(second)];
      const signed = (x: bigint) => (x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x);
      const [va, vb] = [signed(honest[a]!), signed(honest[b]!)];
      forged[a] = toField(va + (1n << BigInt(slotBits)));
      forged[b] = toField(vb - 1n);
      // The same word: whatever the oracle published, the forged pair carries its root.
      assert.equal(fieldWord([signed(forged[a]!), signed(forged[b]!)], slotBits, offset), fieldWord([va, vb], slotBits, offset));
      for (const [check, value] of [[firstCheck, signed(forged[a]!)], [secondCheck, signed(forged[b]!)]] as const) {
        for (const [k, i] of bits(check, slotBits)) forged[i] = (toField(value + offset) >> BigInt(k)) & 1n;
      }
      const mine = new Set([a, ...bits(firstCheck, slotBits).values()]);
      const violated = h.circuit.violated(forged);
      assert.ok(violated.length > 0, `${first} + 2^${slotBits}: expected its range check to be violated`);
      for (const c of violated) {
        const touched = h.circuit.r1cs.constraints[c]!.flatMap((lc) => Object.keys(lc).map(Number));
        assert.ok(touched.some((s) => mine.has(s)), `${first}: constraint ${c} is not ${firstCheck}'s`);
      }
    }

    it("prices (64-bit slots): WETH + 2^64, WBTC - 1", function () {
      alias("price", "main.price[0]", "main.price[1]", "main.assets.prices.ranges[0]", "main.assets.prices.ranges[1]");
    });

    it("marks (65-bit slots): call + 2^65, put - 1", function () {
      alias("mark", "main.mark[0]", "main.mark[1]", "main.instruments.marks.ranges[0]", "main.instruments.marks.ranges[1]");
    });

    it("deltas (32-bit slots): call + 2^32, put - 1", function () {
      alias("delta", "main.delta[0]", "main.delta[1]", "main.instruments.deltas.ranges[0]", "main.instruments.deltas.ranges[1]");
    });

    it("scenario PnL (50-bit slots): scenario 0's call + 2^50, its put - 1", function () {
      alias("instrumentPnl", "main.instrumentPnl[0][0]", "main.instrumentPnl[0][1]", "main.scenarios.pnl.ranges[0]", "main.scenarios.pnl.ranges[1]");
    });

    it("asset returns (32-bit slots): scenario 0's WETH + 2^32, WBTC - 1", function () {
      alias("assetReturn", "main.assetReturn[0][0]", "main.assetReturn[0][1]", "main.scenarios.returns.ranges[0]", "main.scenarios.returns.ranges[1]");
    });

    it("covariance (41-bit slots): WETH variance + 2^41, WETH-WBTC covariance - 1", function () {
      alias("covariance", "main.covarianceUpper[0]", "main.covarianceUpper[1]", "main.covariance.entries.ranges[0]", "main.covariance.entries.ranges[1]");
    });
  });
});

describe("the same range checks in the audit batch (once per batch) and in Rebalance", function () {
  this.timeout(600_000);
  after(releaseProverThreads);

  it("audit-batch-3x3x16x2 accepts the example market and rejects a 2^49 PnL and a scale of 2, at the digest templates", async function () {
    const h = await SolvencyHarness.load(INSTANCE);
    const batch = await FastWitness.load(loadInstanceArtifacts("audit-batch-3x3x16x2"));
    const members = [{ position: { ...h.healthy, salt: 1n }, fails: 0n, source: "position-healthy.json" }];
    const honest = auditBatchInput(members, h.market, h.policy, LAYOUT, 2) as Record<string, unknown>;
    const ok = await batch.calculate(honest as CircuitSignals);
    assert.ok(ok.accepted, !ok.accepted ? ok.error : "");
    const pnl = (honest.instrumentPnl as bigint[][]).map((row) => [...row]);
    pnl[0]![2] = bit(49);
    const badPnl = await batch.calculate({ ...honest, instrumentPnl: pnl } as CircuitSignals);
    assert.ok(!badPnl.accepted && /ScenariosDigest/.test(badPnl.error), `PnL 2^49: ${!badPnl.accepted && badPnl.error}`);
    const scale = [...(honest.scale as bigint[])];
    scale[1] = 2n;
    const badScale = await batch.calculate({ ...honest, scale } as CircuitSignals);
    assert.ok(!badScale.accepted && /AssetsDigest/.test(badScale.error), `scale 2: ${!badScale.accepted && badScale.error}`);
  });

  it("rebalance-3x3x16: 10^18 / scale is an integer only for a power of ten: a scale of 2 (which divides 10^18) is rejected at AssetsDigest", async function () {
    const h = await SolvencyHarness.load(INSTANCE);
    const rebalance = await FastWitness.load(loadInstanceArtifacts("rebalance-3x3x16"));
    const old = h.healthy;
    const t: Transition = { old, next: { ...applyMovements(old, noMovements(h.market)), salt: old.salt! + 7n }, ...noMovements(h.market), forced: false, fromEmpty: false };
    const honest = rebalanceInput(t, h.market, h.policy, { ...LAYOUT, nSwaps: 2 }) as Record<string, unknown>;
    const ok = await rebalance.calculate(honest as CircuitSignals);
    assert.ok(ok.accepted, !ok.accepted ? ok.error : "");
    const scale = [...(honest.scale as bigint[])];
    scale[1] = 2n;
    const bad = await rebalance.calculate({ ...honest, scale } as CircuitSignals);
    assert.ok(!bad.accepted && /AssetsDigest/.test(bad.error), `scale 2: ${!bad.accepted && bad.error}`);
  });
});
