/**
 * Every market value a statement computes with is range-checked in-circuit, once per circuit, by the
 * digest template of the market-root section that binds it (packages/circuits/market/*.circom;
 * docs/risk-arithmetic.md, "Bounds"). For each value, on solvency-3x3x16:
 *   - the largest in-range value is accepted, the model agrees, and the witness's marketRoot is the
 *     TypeScript mirror's (packages/sdk/src/commitment/market-root.ts packs identically);
 *   - one beyond is refused by the model and the parser, has no root in the mirror, and the circuit
 *     rejects it at that value's range check (the root is the circuit's own output, computed over
 *     the bad value, so nothing but the range check stands in the way);
 *   - for packed values, an aliased pair (slot + 2^bits, its neighbour - 1) hashes to the very same
 *     word, so it carries the oracle's real root: the forged witness violates only the slot's range
 *     check;
 *   - for the values that fit their slot but not their bound (a threshold or weight above 1) and for
 *     the unpacked ones (scenario count, horizon, scale), the circuit's own witness for the refused
 *     value (test/helpers/lenient-witness.ts: the market root computed over it) violates only that
 *     value's check, and no assignment of the check's bits (or of the scale's selector) satisfies it.
 * Then the same digest templates in health-var-3x3x128, the audit batch (checked once per batch)
 * and Rebalance. (The policy's ranges: test/solvency.test.ts and test/rebalance-circuit.test.ts.)
 */
import assert from "node:assert/strict";
import type { CircuitSignals } from "snarkjs";
import { auditBatchInput } from "../packages/sdk/src/audit/batch-input.ts";
import { marketDigests, marketRootOf, marketSignals, MARKET_PACKING, type MarketSignals } from "../packages/sdk/src/commitment/market-root.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";
import { SNARK_FIELD, toField } from "../packages/sdk/src/core/field.ts";
import { parseMarket } from "../packages/sdk/src/inputs/parse-market.ts";
import type { Market, Position } from "../packages/sdk/src/inputs/types.ts";
import { checkPosition, ModelBoundsError } from "../packages/sdk/src/model/index.ts";
import { loadInstanceArtifacts } from "../packages/node/src/artifacts.ts";
import { readJsonFile } from "../packages/node/src/read-json.ts";
import { releaseProverThreads } from "../packages/sdk/src/prover/release.ts";
import { rebalanceInput } from "../packages/sdk/src/prover/witness/rebalance.ts";
import { solvencyInput } from "../packages/sdk/src/prover/witness/solvency.ts";
import { applyMovements, noMovements, type Transition } from "../packages/sdk/src/rebalance/transition.ts";
import { example, loadMarket, loadPolicy } from "./helpers/examples.ts";
import { positionOf, withMarket } from "./helpers/model-fixtures.ts";
import { CircuitUnderTest } from "./helpers/circuit.ts";
import { LenientWitness } from "./helpers/lenient-witness.ts";
import { TEST_KEEPER } from "./helpers/keeper-key.ts";
import { SolvencyHarness } from "./helpers/solvency-harness.ts";
import { salted, SOLVENCY_LAYOUT } from "./helpers/solvency-cases.ts";
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
    assert.throws(
      () => checkPosition(cash, m, h.policy),
      (e: unknown) => e instanceof ModelBoundsError && model.test(e.message),
      `${what}: the model refuses`,
    );
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

    it("delta: +-(2^40 - 1) pass (10,995 underlying units per contract: a 100-unit option contract fits); 2^40 and -2^40 - 1 are refused", async function () {
      await accepts((m) => (m.instruments[BTC_CALL]!.delta = 100n * 10n ** 8n), "delta 100 (a 100-unit contract)");
      await accepts((m) => (m.instruments[BTC_CALL]!.delta = bit(40) - 1n), "delta 2^40 - 1");
      await accepts((m) => (m.instruments[BTC_CALL]!.delta = -(bit(40) - 1n)), "delta -(2^40 - 1)");
      await refused((m) => (m.instruments[BTC_CALL]!.delta = bit(40)), /delta of instrument BTC-26DEC26-95000-C exceeds 2\^40/, /InstrumentsDigest/, "delta 2^40");
      await refused((m) => (m.instruments[BTC_CALL]!.delta = -bit(40) - 1n), /delta of instrument/, /InstrumentsDigest/, "delta -2^40 - 1");
    });

    it("scenario PnL: +-(2^49 - 1) pass (in the first and the last slot); 2^49 and -2^49 - 1 are refused; -2^49 only by the model", async function () {
      await accepts((m) => (m.scenarios[0]!.instrumentPnl[BTC_CALL] = bit(49) - 1n), "PnL 2^49 - 1");
      await accepts((m) => (m.scenarios[15]!.instrumentPnl[0] = -(bit(49) - 1n)), "PnL -(2^49 - 1)");
      await refused(
        (m) => (m.scenarios[0]!.instrumentPnl[BTC_CALL] = bit(49)),
        /PnL of instrument BTC-26DEC26-95000-C in scenario .* exceeds 2\^49/,
        /ScenariosDigest/,
        "PnL 2^49",
      );
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
      await refused(
        (m) => (m.covariance.matrix[WETH]![WBTC] = m.covariance.matrix[WBTC]![WETH] = -bit(40) - 1n),
        /covariance entry \[WETH\]\[WBTC\]/,
        /CovarianceDigest/,
        "covariance -2^40 - 1",
      );
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

    it("liquidation threshold: 1 (10^4) passes; 1.0001 (which fits the 14-bit slot) and 2^14 are refused: a threshold above 1 would inflate the health factor", async function () {
      await accepts((m) => (m.assets[WBTC]!.liquidationThreshold = 10_000n), "threshold 1");
      await accepts((m) => (m.assets[WBTC]!.liquidationThreshold = 0n), "threshold 0");
      await refused((m) => (m.assets[WBTC]!.liquidationThreshold = 10_001n), /liquidation threshold of WBTC is 1.0001/, /AssetsDigest/, "threshold 1.0001");
      const m = marketSignals(market, LAYOUT);
      await rejectsAt(withSignals({ threshold: [m.threshold[0]!, bit(14), m.threshold[2]!] }), /AssetsDigest/, "threshold 2^14");
    });

    it("scenario weight (stress uses it): 1 passes; 1.0001 and 2^14 are refused", async function () {
      await accepts((m) => (m.scenarios[4]!.weight = 10_000n), "weight 1");
      await refused((m) => (m.scenarios[4]!.weight = 10_001n), /weight of scenario '.*' is 1.0001/, /ScenariosDigest/, "weight 1.0001");
      const weight = [...marketSignals(market, LAYOUT).weight];
      weight[4] = bit(14);
      await rejectsAt(withSignals({ weight }), /ScenariosDigest/, "weight 2^14");
    });

    it("underlying: the last asset slot passes; slot 3 of 3 has no root in the mirror and is rejected by ParametricVarCheck, which uses it", async function () {
      await accepts((m) => (m.instruments[BTC_CALL]!.underlying = USDC), "underlying USDC (slot 2)");
      await refused((m) => (m.instruments[BTC_CALL]!.underlying = 3), /underlying of instrument BTC-26DEC26-95000-C is slot 3/, /ParametricVarCheck/, "underlying 3");
    });

    it("quote decimals: 8 and 6 have roots; 9 and 18 are refused by the parser (with what to publish instead), the model and the mirror", async function () {
      await accepts((m) => (m.quote.decimals = 6), "6 quote decimals");
      for (const decimals of [9, 18]) {
        const m = withMarket(market, (next) => (next.quote.decimals = decimals));
        assert.throws(
          () => checkPosition(cash, m, h.policy),
          (e: unknown) => e instanceof ModelBoundsError && /quote.decimals is \d+; at most 8 can be proven: publish the market at 8 quote decimals or fewer/.test(e.message),
        );
        assert.throws(() => marketRootOf(marketSignals(m, LAYOUT)), /quote scale 10+ is not 10\^decimals with decimals in \[0, 8\]/);
        const file = readJsonFile(example("market-grid.json")) as Record<string, any>;
        file.quote.decimals = decimals;
        assert.throws(
          () => parseMarket(file, "market.json"),
          (e: unknown) =>
            e instanceof InputError &&
            e.exitCode === 2 &&
            e.message ===
              `market.json: quote.decimals: must be <= 8, got number ${decimals}: publish the market at 8 quote decimals or fewer (6 for a USDC-style quote is fine); prices, marks and PnL are bounded in quote units (docs/risk-arithmetic.md, Bounds)`,
        );
      }
    });

    it("the parser refuses each out-of-range value of a market file, naming the field", function () {
      const raw = () => readJsonFile(example("market-grid.json")) as Record<string, any>;
      const cases: [string, (r: Record<string, any>) => void, string][] = [
        ["price", (r) => (r.assets[1].price = "184467440737.09551616"), "assets[1].price: must be < 184467440737.09551616 (2^64 quote units)"],
        ["decimals", (r) => (r.assets[1].decimals = 19), "assets[1].decimals: must be <= 18, got number 19"],
        ["mark", (r) => (r.instruments[2].mark = "-184467440737.09551616"), "instruments[2].mark: must be in (-184467440737.09551616, 184467440737.09551616)"],
        ["delta", (r) => (r.instruments[2].delta = "10995.11627776"), "instruments[2].delta: must be in (-10995.11627776, 10995.11627776)"],
        ["threshold", (r) => (r.assets[1].liquidationThreshold = "1.0001"), 'assets[1].liquidationThreshold: must be in [0, 1], got "1.0001"'],
        ["weight", (r) => (r.scenarios.items[0].weight = "1.0001"), 'scenarios.items[0].weight: must be in (0, 1], got "1.0001"'],
        [
          "PnL",
          (r) => (r.scenarios.items[0].instrumentPnl["BTC-26DEC26-95000-C"] = "5629499.53421312"),
          "scenarios.items[0].instrumentPnl.BTC-26DEC26-95000-C: must be in (-5629499.53421312, 5629499.53421312)",
        ],
        ["return", (r) => (r.scenarios.items[0].assetReturns.WBTC = "-21.47483648"), "scenarios.items[0].assetReturns.WBTC: must be in (-21.47483648, 21.47483648)"],
        ["covariance", (r) => (r.covariance.matrix[1][1] = "1.099511627776"), "covariance.matrix[1][1]: must be in (-1.099511627776, 1.099511627776)"],
        ["horizon", (r) => (r.covariance.horizonDays = 1024), "covariance.horizonDays: must be <= 1023, got number 1024"],
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
      inside.instruments[2].delta = "-10995.11627775";
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

    const slots = (packing: keyof typeof MARKET_PACKING, value: string, component: string, first: number, second: number, extra?: (i: number) => BitCheck) =>
      alias(
        h.circuit,
        honest,
        packing,
        [`${value}[${first}]`, `${value}[${second}]`],
        [first, second].map((i) => [slotCheck(packing, component, i), ...(extra ? [extra(i)] : [])]) as [BitCheck[], BitCheck[]],
      );

    it("prices (64-bit slots): WETH + 2^64, WBTC - 1", function () {
      slots("price", "main.price", "main.assets.prices", 0, 1);
    });

    it("liquidation thresholds (14-bit slots): WETH + 2^14, WBTC - 1; the first breaks both its slot and its <= 10^4 check", function () {
      slots("threshold", "main.threshold", "main.assets.thresholds", 0, 1, (i) => atMostOne(`main.assets.atMostOne[${i}]`));
    });

    it("marks (65-bit slots): call + 2^65, put - 1", function () {
      slots("mark", "main.mark", "main.instruments.marks", 0, 1);
    });

    it("deltas (41-bit slots): call + 2^41, put - 1", function () {
      slots("delta", "main.delta", "main.instruments.deltas", 0, 1);
    });

    it("scenario weights (14-bit slots, checked where stress uses them): scenario 0 + 2^14, scenario 1 - 1", function () {
      slots("weight", "main.weight", "main.scenarios.weights", 0, 1, (j) => atMostOne(`main.scenarios.weightAtMostOne[${j}]`));
    });

    it("scenario PnL (50-bit slots): scenario 0's call + 2^50, its put - 1", function () {
      alias(
        h.circuit,
        honest,
        "instrumentPnl",
        ["main.instrumentPnl[0][0]", "main.instrumentPnl[0][1]"],
        [[slotCheck("instrumentPnl", "main.scenarios.pnl", 0)], [slotCheck("instrumentPnl", "main.scenarios.pnl", 1)]],
      );
    });

    it("asset returns (32-bit slots): scenario 0's WETH + 2^32, WBTC - 1", function () {
      alias(
        h.circuit,
        honest,
        "assetReturn",
        ["main.assetReturn[0][0]", "main.assetReturn[0][1]"],
        [[slotCheck("assetReturn", "main.scenarios.returns", 0)], [slotCheck("assetReturn", "main.scenarios.returns", 1)]],
      );
    });

    it("covariance (41-bit slots): WETH variance + 2^41, WETH-WBTC covariance - 1", function () {
      slots("covariance", "main.covarianceUpper", "main.covariance.entries", 0, 1);
    });
  });

  describe("forged witnesses: the circuit's own witness for a refused value breaks only that value's range check, whatever the prover puts in its bits", function () {
    // Computed by the circuit's witness generator with its assertions off (test/helpers/lenient-witness.ts):
    // the market root and every check are computed over the refused value, so a witness violating
    // nothing but the named check's constraints shows that check is all that stands in the way.
    let lenient: LenientWitness;
    let honestRoot: bigint;

    before(async function () {
      lenient = await LenientWitness.load(h.artifacts, inputOf(market) as CircuitSignals, (input) => h.circuit.witness(input));
      honestRoot = marketRootOf(marketSignals(market, LAYOUT));
    });

    /**
     * The lenient witness for `overrides` violates constraints, each touching the bits of one of
     * `failing` (the checks the refused value breaks); then, for each of them on its own, every
     * assignment of its free bits (--O2 substitutes the top one away) still violates one of its
     * constraints.
     */
    async function onlyBreaks(overrides: Partial<MarketSignals>, failing: BitCheck[], what: string): Promise<void> {
      const witness = await lenient.calculate(withSignals(overrides) as CircuitSignals);
      assert.notEqual(h.signal(witness, "main.marketRoot"), honestRoot, `${what}: the root is computed over the refused value`);
      const theirs = new Set(failing.flatMap((c) => [...bitIndices(h.circuit, c.bits, c.n).values()]));
      assertViolatesOnly(h.circuit, witness, theirs, what);
      for (const check of failing) assertNoBitsFit(h.circuit, witness, check, what);
    }

    it("scenario count 0 and 17 (of 16 slots): each breaks both 4-bit checks (count - 1 and 16 - count)", async function () {
      const above = { bits: "main.scenarios.countRanges[0].bits", n: 4, of: (c: bigint) => c - 1n };
      const below = { bits: "main.scenarios.countRanges[1].bits", n: 4, of: (c: bigint) => 16n - c };
      for (const count of [0n, 17n]) await onlyBreaks({ scenarioCount: count }, [above, below], `count ${count}`);
    });

    it("horizonDays 0 breaks horizonDays - 1 in [0, 2^10); 1024 breaks 1023 - horizonDays in [0, 2^10)", async function () {
      await onlyBreaks({ horizonDays: 0n }, [{ bits: "main.covariance.horizonRanges[0].bits", n: 10, of: (d: bigint) => d - 1n }], "horizon 0");
      await onlyBreaks({ horizonDays: 1024n }, [{ bits: "main.covariance.horizonRanges[1].bits", n: 10, of: (d: bigint) => 1023n - d }], "horizon 1024");
    });

    it("liquidation threshold 1.0001 (fits its 14-bit slot): only its <= 10^4 check", async function () {
      const threshold = [...marketSignals(market, LAYOUT).threshold];
      threshold[WETH] = 10_001n;
      await onlyBreaks({ threshold }, [atMostOne(`main.assets.atMostOne[${WETH}]`)], "threshold 1.0001");
    });

    it("scenario weight 1.0001 (fits its 14-bit slot): only its <= 10^4 check", async function () {
      const weight = [...marketSignals(market, LAYOUT).weight];
      weight[4] = 10_001n;
      await onlyBreaks({ weight }, [atMostOne("main.scenarios.weightAtMostOne[4]")], "weight 1.0001");
    });

    it("scale 2, 3 and 10^17 + 1: only the power-of-ten selector; 10^19 and p - 1 also AssetValues' divisor bound; no selector fits any", async function () {
      // (A scale of 0 has no witness at all: the generator's quotient hints divide by it. The boundary test above rejects it.)
      const selector = Array.from({ length: 19 }, (_, d) => `main.assets.power[${WBTC}][${d}]`).flatMap((name) => {
        try {
          return [h.circuit.index(name)];
        } catch {
          return []; // optimised away
        }
      });
      // --O2 solves the two linear constraints (one set, sum = scale) for two of the 19 signals.
      assert.ok(selector.length >= 17);
      const scaleIndex = h.circuit.index(`main.scale[${WBTC}]`);
      const selectorConstraints = h.circuit.r1cs.constraints.map((_, c) => c).filter((c) => touches(h.circuit, c, new Set(selector)));
      for (const bad of [2n, 3n, 10n ** 17n + 1n, 10n ** 19n, SNARK_FIELD - 1n]) {
        const scale = [...marketSignals(market, LAYOUT).scale];
        scale[WBTC] = bad;
        const witness = await lenient.calculate(withSignals({ scale }) as CircuitSignals);
        if (bad < 1n << 60n) assertViolatesOnly(h.circuit, witness, new Set(selector), `scale ${bad}`);
        // From 2^60, AssetValues' remainder bound (remainder < scale < 2^60) fails as well.
        else
          assert.ok(
            h.circuit.violated(witness).some((c) => touches(h.circuit, c, new Set(selector))),
            `scale ${bad}: the selector is violated`,
          );
        // Every one-hot choice of the exponent among the signals left (and none at all) still breaks
        // the selector: sum_d power[d] * 10^d = scale has no boolean one-hot solution, so a
        // constraint that involves the scale (the solved-for signals' bit checks) fails.
        for (let d = -1; d < selector.length; d++) {
          const forged = [...witness];
          selector.forEach((i, k) => (forged[i] = k === d ? 1n : 0n));
          const broken = violatedAmong(h.circuit, forged, selectorConstraints);
          assert.ok(
            broken.some((c) => touches(h.circuit, c, new Set([scaleIndex]))),
            `scale ${bad}, exponent slot ${d}: the selector must be violated`,
          );
        }
      }
    });
  });
});

/** A Num2Bits range check: its component (`.out[k]` are the bits), its width, and what it decomposes for a value. */
interface BitCheck {
  bits: string;
  n: number;
  of: (value: bigint) => bigint;
}

/** The range check of a PackWords slot (`component.ranges[i]`, packages/circuits/lib/pack.circom): value + offset. */
function slotCheck(packing: keyof typeof MARKET_PACKING, component: string, i: number): BitCheck {
  const { bits, offset } = MARKET_PACKING[packing];
  return { bits: `${component}.ranges[${i}]`, n: bits, of: (v) => v + offset };
}

/** The <= 10^4 check beside a threshold or weight slot (a RangeCheck(14) of 10^4 - value). */
const atMostOne = (component: string): BitCheck => ({ bits: `${component}.bits`, n: 14, of: (v) => 10_000n - v });

const signed = (x: bigint): bigint => (x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x);

/** Witness indices of a Num2Bits' bits by position (--O2 substitutes the top one away). */
function bitIndices(circuit: CircuitUnderTest, component: string, n: number): Map<number, number> {
  const found = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    try {
      found.set(k, circuit.index(`${component}.out[${k}]`));
    } catch {
      // optimised away
    }
  }
  assert.ok(found.size >= n - 1, `${component}: expected at least ${n - 1} bits in the witness`);
  return found;
}

/** Sets a check's bits to the low bits of what it decomposes for `value`: the prover's best try. */
function setBits(circuit: CircuitUnderTest, witness: bigint[], check: BitCheck, value: bigint): void {
  for (const [k, i] of bitIndices(circuit, check.bits, check.n)) witness[i] = (toField(check.of(value)) >> BigInt(k)) & 1n;
}

const touches = (circuit: CircuitUnderTest, constraint: number, signals: Set<number>): boolean =>
  circuit.r1cs.constraints[constraint]!.some((lc) => Object.keys(lc).some((i) => signals.has(Number(i))));

/** The witness violates some constraint, and every one it violates touches one of `signals`. */
function assertViolatesOnly(circuit: CircuitUnderTest, witness: bigint[], signals: Set<number>, what: string): void {
  const violated = circuit.violated(witness);
  assert.ok(violated.length > 0, `${what}: expected its range check to be violated`);
  for (const c of violated) assert.ok(touches(circuit, c, signals), `${what}: constraint ${c} belongs to no check under test`);
}

/** Which of `constraints` the witness violates (a full scan is `circuit.violated`). */
function violatedAmong(circuit: CircuitUnderTest, witness: bigint[], constraints: number[]): number[] {
  const dot = (lc: Record<string, bigint>) => Object.entries(lc).reduce((sum, [i, k]) => (sum + k * witness[Number(i)]!) % SNARK_FIELD, 0n);
  return constraints.filter((c) => {
    const [a, b, ab] = circuit.r1cs.constraints[c]!;
    return (dot(a) * dot(b) - dot(ab)) % SNARK_FIELD !== 0n;
  });
}

/** Every assignment of the check's free bits violates a constraint on them (2^(n-1) assignments, n <= 14). */
function assertNoBitsFit(circuit: CircuitUnderTest, witness: bigint[], check: BitCheck, what: string): void {
  const bits = [...bitIndices(circuit, check.bits, check.n).values()];
  const mine = new Set(bits);
  const constraints = circuit.r1cs.constraints.map((_, c) => c).filter((c) => touches(circuit, c, mine));
  const forged = [...witness];
  assert.ok(bits.length <= 14, `${check.bits}: too many bits to try them all`);
  for (let assignment = 0; assignment < 1 << bits.length; assignment++) {
    bits.forEach((i, k) => (forged[i] = BigInt((assignment >> k) & 1)));
    assert.ok(violatedAmong(circuit, forged, constraints).length > 0, `${what}: bits ${assignment.toString(2)} satisfy ${check.bits}`);
  }
}

/** The word the circuit hashes: sum (v + offset) * 2^(bits * u), over the field. */
const fieldWord = (values: bigint[], slotBits: number, offset: bigint): bigint =>
  values.reduce((word, v, u) => (word + (v + offset) * (1n << BigInt(slotBits * u))) % SNARK_FIELD, 0n);

/**
 * Raises signal `first` by 2^bits and lowers `second` (the next slot of the same word) by 1, so the
 * word, the digest and the market root stay the oracle's; sets every check's bits on both values to
 * the new values' low bits (the prover's best try), and checks that only `first`'s checks are violated.
 */
function alias(
  circuit: CircuitUnderTest,
  honest: bigint[],
  packing: keyof typeof MARKET_PACKING,
  [first, second]: [string, string],
  [firstChecks, secondChecks]: [BitCheck[], BitCheck[]],
): void {
  const { bits: slotBits, offset } = MARKET_PACKING[packing];
  const forged = [...honest];
  const [a, b] = [circuit.index(first), circuit.index(second)];
  const [va, vb] = [signed(honest[a]!), signed(honest[b]!)];
  const [fa, fb] = [va + (1n << BigInt(slotBits)), vb - 1n];
  forged[a] = toField(fa);
  forged[b] = toField(fb);
  assert.equal(fieldWord([fa, fb], slotBits, offset), fieldWord([va, vb], slotBits, offset), "the same word");
  for (const check of firstChecks) setBits(circuit, forged, check, fa);
  for (const check of secondChecks) setBits(circuit, forged, check, fb);
  const mine = new Set([a, ...firstChecks.flatMap((c) => [...bitIndices(circuit, c.bits, c.n).values()])]);
  assertViolatesOnly(circuit, forged, mine, `${first} + 2^${slotBits}`);
  // The honest pair with its honest bits: nothing violated (the control).
  assert.deepEqual(circuit.violated(honest), []);
}

describe("the same range checks in health-var-3x3x128, the audit batch (once per batch) and Rebalance", function () {
  this.timeout(600_000);
  after(releaseProverThreads);

  it("health-var-3x3x128 (no stress: 128 scenarios' PnL checked for historical VaR): a PnL alias in scenario 127 violates only the slot's range check", async function () {
    // Compile-only is enough: witnesses need no keys.
    const circuit = await CircuitUnderTest.load("health-var-3x3x128");
    const market = loadMarket("market-historical.json");
    market.scenarios = market.scenarios.slice(0, 128);
    const policy = loadPolicy(market);
    const cash = salted(positionOf(market, { collateral: { USDC: 10_000n * 10n ** 6n } }), 1n);
    const honest = await circuit.witness(solvencyInput(cash, market, policy, { nAssets: 3, nInstruments: 3, nScenarios: 128 }));
    // Scenario 127's call and put: PnL values 381 and 382, the second and third slots of word 76.
    alias(
      circuit,
      honest,
      "instrumentPnl",
      ["main.instrumentPnl[127][0]", "main.instrumentPnl[127][1]"],
      [[slotCheck("instrumentPnl", "main.scenarios.pnl", 381)], [slotCheck("instrumentPnl", "main.scenarios.pnl", 382)]],
    );
  });

  it("audit-batch-3x3x16x2 accepts the example market, rejects a 2^49 PnL and a scale of 2 at the digest templates, and a PnL alias violates only its slot's check", async function () {
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
    // A PnL alias (the oracle's root) in the batch: only the slot's range check, checked once for all
    // leaves. The member holds no instrument, so no figure moves with the PnL.
    const circuit = await CircuitUnderTest.load(loadInstanceArtifacts("audit-batch-3x3x16x2"));
    const cash = { ...positionOf(h.market, { collateral: { USDC: 10_000n * 10n ** 6n } }), salt: 1n };
    const cashBatch = await batch.calculate(auditBatchInput([{ position: cash, fails: 0n, source: "cash" }], h.market, h.policy, LAYOUT, 2));
    assert.ok(cashBatch.accepted, !cashBatch.accepted ? cashBatch.error : "");
    alias(
      circuit,
      cashBatch.witness,
      "instrumentPnl",
      ["main.instrumentPnl[0][0]", "main.instrumentPnl[0][1]"],
      [[slotCheck("instrumentPnl", "main.scenarios.pnl", 0)], [slotCheck("instrumentPnl", "main.scenarios.pnl", 1)]],
    );
  });

  it("rebalance-3x3x16: 10^18 / scale is an integer only for a power of ten: a scale of 2 (which divides 10^18) is rejected at AssetsDigest", async function () {
    const h = await SolvencyHarness.load(INSTANCE);
    const rebalance = await FastWitness.load(loadInstanceArtifacts("rebalance-3x3x16"));
    const old = h.healthy;
    const t: Transition = { old, next: { ...applyMovements(old, noMovements(h.market)), salt: old.salt! + 7n }, ...noMovements(h.market), forced: false, fromEmpty: false };
    const honest = rebalanceInput(t, h.market, h.policy, { ...LAYOUT, nSwaps: 2 }, "position", 0n, { keeperKey: TEST_KEEPER.publicKey }) as Record<string, unknown>;
    const ok = await rebalance.calculate(honest as CircuitSignals);
    assert.ok(ok.accepted, !ok.accepted ? ok.error : "");
    const scale = [...(honest.scale as bigint[])];
    scale[1] = 2n;
    const bad = await rebalance.calculate({ ...honest, scale } as CircuitSignals);
    assert.ok(!bad.accepted && /AssetsDigest/.test(bad.error), `scale 2: ${!bad.accepted && bad.error}`);
  });
});
