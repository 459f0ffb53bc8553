/**
 * Completeness against the chain and the per-token reserves (packages/sdk/src/audit/completeness.ts), on the
 * batches' public signals and a gate snapshot built here: every way an audit can differ from the
 * gate's state, each rejected with its message, and the operator-side check of a book. The same
 * checks run with real proofs against a real gate in test/audit-chain.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { AUDIT_KIND, AUDIT_VERSION, type AuditReport } from "../packages/sdk/src/audit/audit-files.ts";
import { checkAgainstGate, checkBookAgainstGate, type DeploymentPins, type GateCheckOptions, type GateSnapshot } from "../packages/sdk/src/audit/completeness.ts";
import { SNARK_FIELD } from "../packages/sdk/src/core/field.ts";
import { ownerHash, zeroFigures, type AuditFigures } from "../packages/sdk/src/audit/merkle-sum-tree.ts";
import { AuditVerificationError } from "../packages/sdk/src/audit/verify-audit.ts";
import { InputError } from "../packages/sdk/src/core/errors.ts";

const LAYOUT = { nAssets: 2, nInstruments: 2, nScenarios: 2 };
const GATE = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ROOT = 0xabcn;
const ORACLE = "0x0000000000000000000000000000000000000005";
const DEV = { verificationKeyHash: `0x${"11".repeat(32)}`, keySource: { kind: "development" as const, contributions: 1 as const } };
const member = (account: bigint) => ({ account, commitment: account * 1_000n + 7n });

/** Per-token sums: 100 + 50 of asset 0 held, 7 debt units of asset 1 owed, 3 long contracts of instrument 0. */
const SUMS: AuditFigures = { ...zeroFigures(LAYOUT), positions: 5n, amounts: [150n, 0n], debtUnits: [0n, 7n], long: [3n, 0n], written: [0n, 0n] };

/** An audit whose batches hold these (account, commitment) lists, with the batch proofs' public signals only. */
function auditOf(batches: { account: bigint; commitment: bigint }[][], options: { batchSize?: number; sums?: AuditFigures; chain?: AuditReport["chain"] } = {}): AuditReport {
  const batchSize = options.batchSize ?? 2;
  const batchProofs = batches.map((list) => {
    const members = Array.from({ length: batchSize }, (_, s) => (list[s] ? ownerHash(list[s]!.commitment, list[s]!.account) : ownerHash(0n, 0n)));
    const signals = [1n, 2n, list[0]!.account, list.at(-1)!.account, ROOT, 3n, BigInt(list.length), 0n, ...members];
    return { proof: {} as never, publicSignals: signals.map(String) };
  });
  return {
    kind: AUDIT_KIND,
    version: AUDIT_VERSION,
    epoch: 42,
    marketRoot: ROOT,
    policyHash: 3n,
    instances: { batch: "b", merge: "m", top: "t" },
    keys: { batch: DEV, merge: DEV, top: DEV },
    layout: LAYOUT,
    batchSize,
    fanIn: 2,
    depth: 2,
    root: { hash: 1n, sums: options.sums ?? SUMS },
    ...(options.chain ? { chain: options.chain } : {}),
    proofs: [batchProofs, [{ proof: {} as never, publicSignals: [] }]],
    createdAt: "",
  };
}

const ACCOUNTS = [10n, 20n, 30n, 40n, 50n].map(member);

function snapshot(edit: (s: GateSnapshot) => void = () => {}): GateSnapshot {
  const s: GateSnapshot = {
    chainId: 31337n,
    gate: GATE,
    block: 100,
    blockHash: `0x${"aa".repeat(32)}`,
    nAssets: 2,
    nInstruments: 2,
    members: ACCOUNTS.map((m) => ({ ...m })),
    assets: [
      { symbol: "WETH", decimals: 0, token: "0x0000000000000000000000000000000000000001", held: 155n, lender: null, debtUnits: 0n },
      { symbol: "USDC", decimals: 0, token: "0x0000000000000000000000000000000000000002", held: 0n, lender: "0x0000000000000000000000000000000000000003", debtUnits: 7n },
    ],
    instruments: [
      { id: "PUT", token: "0x0000000000000000000000000000000000000004", held: 3n },
      { id: "CALL", token: null, held: 0n },
    ],
    oracle: ORACLE,
    policyHash: 3n,
    epochRoot: ROOT,
    latestEpoch: 42n,
    epochFresh: true,
  };
  edit(s);
  return s;
}

const honest = () => auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4), ACCOUNTS.slice(4)]);
const rejects = (report: AuditReport, snap: GateSnapshot, pattern: RegExp, options: GateCheckOptions = {}) =>
  assert.throws(
    () => checkAgainstGate(report, snap, options),
    (error: unknown) => error instanceof AuditVerificationError && error.exitCode === 1 && pattern.test(error.message),
  );

describe("audit completeness against the gate's state", function () {
  it("accepts the audit of exactly the gate's positions, with each token's reserves (a surplus reported, not refused)", function () {
    const verdict = checkAgainstGate(honest(), snapshot());
    assert.equal(verdict.accounts, 5);
    assert.deepEqual(
      verdict.reserves.map((r) => [r.what, r.label, r.committed, r.onChain, r.surplus]),
      [
        ["collateral", "WETH", 150n, 155n, 5n],
        ["collateral", "USDC", 0n, 0n, 0n],
        ["debt units", "USDC", 7n, 7n, 0n],
        ["option tokens", "PUT", 3n, 3n, 0n],
      ],
    );
    assert.deepEqual(verdict.notes, []);
    assert.deepEqual(
      verdict.reserves.map((r) => r.address),
      [
        "0x0000000000000000000000000000000000000001",
        "0x0000000000000000000000000000000000000002",
        "0x0000000000000000000000000000000000000003",
        "0x0000000000000000000000000000000000000004",
      ],
      "each line names its token or lender",
    );
  });

  it("rejects an audit under another policy than the gate's", function () {
    rejects(
      honest(),
      snapshot((s) => (s.policyHash = 4n)),
      /^policyHash: the gate's policy at block 100 is 0x00000000…, the audit's is 0x00000000…: the audit applies another policy than the gate$/,
    );
  });

  it("rejects an epoch that is not the oracle's latest, or stale, unless --allow-epoch names it", function () {
    const later = snapshot((s) => (s.latestEpoch = 43n));
    rejects(
      honest(),
      later,
      /^epoch: the oracle's latest epoch at block 100 is 43, the audit's is 42: the audit values the positions at prices the oracle no longer stands by \(accept it explicitly with --allow-epoch 42\)$/,
    );
    rejects(honest(), later, /--allow-epoch 42/, { allowEpoch: 41 });
    assert.deepEqual(checkAgainstGate(honest(), later, { allowEpoch: 42 }).notes, [
      "the oracle's latest epoch at block 100 is 43, the audit's is 42; accepted by --allow-epoch 42",
    ]);
    const stale = snapshot((s) => (s.epochFresh = false));
    rejects(honest(), stale, /^epoch: the oracle calls epoch 42 stale at block 100: .*--allow-epoch 42\)$/);
    assert.equal(checkAgainstGate(honest(), stale, { allowEpoch: 42 }).accounts, 5);
  });

  it("checks the gate against a deployments file: chain, oracle, each token and lender", function () {
    const pins: DeploymentPins = {
      source: "deployment.json",
      chainId: 31337n,
      oracle: ORACLE,
      tokens: ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"],
      lenders: [null, "0x0000000000000000000000000000000000000003"],
      instrumentTokens: ["0x0000000000000000000000000000000000000004", null],
    };
    assert.equal(checkAgainstGate(honest(), snapshot(), { pins }).accounts, 5);
    rejects(honest(), snapshot(), /^deployment\.json: chainId is 1, the RPC endpoint is chain 31337$/, { pins: { ...pins, chainId: 1n } });
    // The operator's own gate with the real oracle but its own tokens: its WETH is not the deployment's.
    rejects(
      honest(),
      snapshot((s) => (s.assets[0]!.token = "0x0000000000000000000000000000000000000009")),
      /^deployment\.json: tokens\[0\] is 0x0+1, but gate 0x5FbDB.* uses 0x0+9 at block 100: not the deployment this file describes$/,
      { pins },
    );
    rejects(
      honest(),
      snapshot((s) => (s.oracle = "0x0000000000000000000000000000000000000009")),
      /^deployment\.json: contracts\.MarketOracle is 0x0+5, but gate .* uses 0x0+9/,
      { pins },
    );
    rejects(
      honest(),
      snapshot((s) => (s.assets[1]!.lender = "0x0000000000000000000000000000000000000009")),
      /^deployment\.json: lenders\[1\] is 0x0+3, but gate .* uses 0x0+9/,
      { pins },
    );
    rejects(honest(), snapshot(), /^deployment\.json: instrumentTokens\[1\] is 0x0+4, but gate .* uses none/, {
      pins: { ...pins, instrumentTokens: [pins.instrumentTokens[0]!, pins.instrumentTokens[0]!] },
    });
  });

  it("sums a token shared between slots (or a lender shared between assets) before comparing it with the balance", function () {
    // The PUT option token is the WETH token: 150 + 3 committed against one balance of 155 holds; of 152 it does not.
    const shared = (held: bigint) =>
      snapshot((s) => {
        s.instruments[0]!.token = s.assets[0]!.token;
        s.instruments[0]!.held = held;
        s.assets[0]!.held = held;
      });
    const verdict = checkAgainstGate(honest(), shared(155n));
    assert.deepEqual(
      verdict.reserves.filter((r) => r.what !== "debt units").map((r) => [r.label, r.committed, r.onChain, r.surplus]),
      [
        ["WETH + PUT", 153n, 155n, 2n],
        ["USDC", 0n, 0n, 0n],
      ],
    );
    rejects(
      honest(),
      shared(152n),
      /^WETH \+ PUT: the gate holds 152 at block 100, the audited positions hold 153: short by 1 .*\(token 0x0+1, shared by WETH \+ PUT: their amounts summed\)$/,
    );
    // Both assets owe to one lender: 7 units of USDC and 2 of WETH against its 7 for the gate.
    const oneLender = snapshot((s) => {
      s.assets[0]!.lender = s.assets[1]!.lender;
      s.assets[0]!.debtUnits = s.assets[1]!.debtUnits; // the same contract's debtUnitsOf(gate), read for each slot
    });
    rejects(
      auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4), ACCOUNTS.slice(4)], { sums: { ...SUMS, debtUnits: [2n, 7n] } }),
      oneLender,
      /^WETH \+ USDC debt: the lender 0x0+3 counts 7 debt units of the gate at block 100, the audited positions owe 9: they must be equal$/,
    );
  });

  it("rejects a batch whose slots after its positions are not padding, and a gate commitment that is no field element", function () {
    const report = honest();
    // The third batch counts 1 position; its slot 1 must be Poseidon(0, 0).
    report.proofs[0]![2]!.publicSignals[8 + 1] = String(ownerHash(1n, 60n));
    rejects(report, snapshot(), /^batch proof 2, slot 1: after its 1 positions, a member that is not padding Poseidon\(0, 0\)$/);
    rejects(
      honest(),
      snapshot((s) => (s.members[0]!.commitment = SNARK_FIELD + 7n)),
      /^the gate's commitment for account 0x0+a at block 100 is 0x30644e72…, not a field element: no audit can open it$/,
    );
  });

  it("rejects a fake account: as a batch's first or last account, or inside a batch's range", function () {
    const fake = member(25n);
    rejects(
      auditOf([ACCOUNTS.slice(0, 2), [fake, ACCOUNTS[2]!], ACCOUNTS.slice(3)]),
      snapshot(),
      /batch proof 1's first account 0x0+19 is not registered with the gate at block 100: the audit counts a position the gate does not hold \(a fake account\)/,
    );
    rejects(auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4), [ACCOUNTS[4]!, member(60n)]]), snapshot(), /batch proof 2's last account 0x0+3c is not registered/);
    // Batches of 4: [10, 15, 20, 30] counts 4 positions where the gate holds 3.
    const inside = auditOf([[ACCOUNTS[0]!, member(15n), ACCOUNTS[1]!, ACCOUNTS[2]!], ACCOUNTS.slice(3)], { batchSize: 4 });
    rejects(
      inside,
      snapshot(),
      /batch proof 0, slot 1: a position of an account the gate does not hold at block 100 \(the batch counts 4 positions in its range, the gate holds 3 there\): a fake account/,
    );
  });

  it("rejects a dropped account: before the first batch, between batches, inside a range, after the last", function () {
    const dropped = /is registered with the gate at block 100 \(commitment 0x[0-9a-f]{8}…\) but (.*): the audit leaves it out \(a dropped account\)/;
    const cases: [AuditReport, RegExp][] = [
      [auditOf([ACCOUNTS.slice(1, 3), ACCOUNTS.slice(3)]), /account 0x0+a is registered .* but comes before the first batch's first account/],
      [auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(3)]), /account 0x0+1e is registered .* but lies between batch proofs 0 and 1/],
      [
        auditOf([[ACCOUNTS[0]!, ACCOUNTS[2]!], ACCOUNTS.slice(3)]),
        /account 0x0+14 is registered .* but is not among the 2 positions of batch proof 0, whose range \[0x0+a, 0x0+1e\] holds it/,
      ],
      [auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4)]), /account 0x0+32 is registered .* but comes after the last batch's last account/],
    ];
    for (const [report, pattern] of cases) {
      rejects(report, snapshot(), pattern);
      rejects(report, snapshot(), dropped);
    }
  });

  it("rejects a stale or substituted position: a member that is not the gate's (account, commitment) at the block", function () {
    const stale = { ...ACCOUNTS[1]!, commitment: ACCOUNTS[1]!.commitment + 1n }; // account 20 at another nonce
    rejects(
      auditOf([[ACCOUNTS[0]!, stale], ACCOUNTS.slice(2, 4), ACCOUNTS.slice(4)]),
      snapshot(),
      /batch proof 0, slot 1: not account 0x0+14's position at block 100 \(the gate holds commitment 0x[0-9a-f]{8}…\): a stale or forged version of it/,
    );
    // Account 20 replaced by an unregistered 25 inside a batch of 4 [10, 25, 30, 40]: the counts agree, slot 1 does not.
    const swapped = auditOf([[ACCOUNTS[0]!, member(25n), ACCOUNTS[2]!, ACCOUNTS[3]!], ACCOUNTS.slice(4)], { batchSize: 4 });
    rejects(
      swapped,
      snapshot(),
      /batch proof 0, slot 1: not account 0x0+14's position at block 100 .*: a stale or forged version of it, or another account's position in its place/,
    );
  });

  it("rejects per-token totals the gate does not back: collateral short, debt units unequal, option tokens short, written options, slots without tokens or lenders", function () {
    const cases: [(s: GateSnapshot) => void, AuditFigures | undefined, RegExp][] = [
      [
        (s) => (s.assets[0]!.held = 149n),
        undefined,
        /^WETH: the gate holds 149 at block 100, the audited positions hold 150: short by 1 \(reserves below liabilities to the accounts\)$/,
      ],
      [
        (s) => (s.assets[1]!.debtUnits = 8n),
        undefined,
        /^USDC debt: the lender 0x0+3 counts 8 debt units of the gate at block 100, the audited positions owe 7: they must be equal$/,
      ],
      [(s) => (s.assets[1]!.debtUnits = 6n), undefined, /counts 6 debt units .* owe 7: they must be equal/],
      [
        (s) => (s.instruments[0]!.held = 2n),
        undefined,
        /^PUT: the gate holds 0\.00000002 option tokens at block 100, the audited positions hold 0\.00000003: short by 0\.00000001$/,
      ],
      [() => {}, { ...SUMS, written: [0n, 4n] }, /^CALL: the audited positions have written 0\.00000004 contracts, which a custody gate cannot hold/],
      [(s) => (s.assets[0]!.token = null), undefined, /^asset slot 0 \(WETH\) has no token at the gate, yet the audited positions hold 150 of it$/],
      [(s) => (s.assets[1]!.lender = null), undefined, /^asset slot 1 \(USDC\) has no lender at the gate, yet the audited positions owe 7 debt units of it$/],
      [() => {}, { ...SUMS, long: [3n, 1n] }, /^instrument slot 1 \(CALL\) has no option token at the gate, yet the audited positions hold 0\.00000001 contracts$/],
    ];
    for (const [edit, sums, pattern] of cases) {
      const report = auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4), ACCOUNTS.slice(4)], sums ? { sums } : {});
      rejects(report, snapshot(edit), pattern);
    }
  });

  it("checks the chain state audit.json records: chain id, gate, and the block's hash at that block", function () {
    const chain = { chainId: 31337n, gate: GATE.toLowerCase(), block: 100, blockHash: `0x${"aa".repeat(32)}` };
    const recorded = (edit: Partial<typeof chain>) => auditOf([ACCOUNTS.slice(0, 2), ACCOUNTS.slice(2, 4), ACCOUNTS.slice(4)], { chain: { ...chain, ...edit } });
    assert.equal(checkAgainstGate(recorded({}), snapshot()).accounts, 5, "the gate's address compares case-insensitively");
    rejects(recorded({ chainId: 1n }), snapshot(), /^chain\.chainId: the audit was made on chain 1, the RPC endpoint is chain 31337$/);
    rejects(recorded({ gate: "0x0000000000000000000000000000000000000009" }), snapshot(), /^chain\.gate: the audit was made for gate 0x0+9, not 0x5FbDB/);
    rejects(
      recorded({ blockHash: `0x${"bb".repeat(32)}` }),
      snapshot(),
      /^chain\.blockHash: block 100 is 0xaaaa.*, the audit records 0xbbbb.* \(a reorganisation, or another chain\)$/,
    );
    // Checked at another block than the recorded one, the hashes are of different blocks: no comparison.
    assert.equal(checkAgainstGate(recorded({ block: 90, blockHash: `0x${"bb".repeat(32)}` }), snapshot()).block, 100);
  });

  it("checks the gate's layout and its oracle's market for the audit's epoch", function () {
    rejects(
      honest(),
      snapshot((s) => (s.nAssets = 3)),
      /the gate commits positions of 3 asset and 2 instrument slots; the audit's instances open 2 and 2/,
    );
    rejects(
      honest(),
      snapshot((s) => (s.epochRoot = 0n)),
      /the gate's oracle has no market for the audit's epoch 42 at block 100/,
    );
    rejects(
      honest(),
      snapshot((s) => (s.epochRoot = 0xdefn)),
      /the gate's oracle's root for epoch 42 at block 100 is 0x00000000…, not the audit's marketRoot/,
    );
  });

  describe("the operator's book against the gate (before proving)", function () {
    const audit = { layout: LAYOUT, epoch: 42, marketRoot: ROOT, policyHash: 3n };
    const book = ACCOUNTS.map((m, i) => ({ ...m, source: `book.jsonl:${i + 1}` }));
    const refuses = (
      list: typeof book,
      sums: AuditFigures,
      pattern: RegExp,
      kind: typeof InputError | typeof AuditVerificationError = InputError,
      edit: (s: GateSnapshot) => void = () => {},
    ) =>
      assert.throws(
        () => checkBookAgainstGate(list, sums, audit, snapshot(edit)),
        (error: unknown) => error instanceof kind && pattern.test(error.message),
      );

    it("accepts exactly the gate's positions, in any order", function () {
      assert.equal(checkBookAgainstGate([...book].reverse(), SUMS, audit, snapshot()).accounts, 5);
    });

    it("names the position or account that differs (exit 2), and refuses totals the gate does not back (exit 1)", function () {
      refuses(
        [...book, { ...member(60n), source: "book.jsonl:6" }],
        SUMS,
        /^book\.jsonl:6: account: 0x0+3c is not registered with gate 0x5FbDB2315678afecb367f032d93F642f64180aa3 at block 100$/,
      );
      refuses(
        book.slice(1),
        SUMS,
        /^--positions: 1 account\(s\) registered with gate .* at block 100 have no position in the book, e\.g\. 0x0+a; an audit of the gate counts every one$/,
      );
      refuses(
        [book[0]!, { ...book[1]!, commitment: 1n }, ...book.slice(2)],
        SUMS,
        /^book\.jsonl:2: this position's commitment 0x00000000… is not the one gate .* holds for 0x0+14 at block 100 \(0x[0-9a-f]{8}…\): a stale version \(another nonce\) or another salt$/,
      );
      refuses(book, SUMS, /^policyHash: the gate's policy .* the audit applies another policy than the gate$/, AuditVerificationError, (s) => (s.policyHash = 9n));
      refuses(book, { ...SUMS, amounts: [200n, 0n] }, /^WETH: the gate holds 155 at block 100, the audited positions hold 200: short by 45/, AuditVerificationError);
      assert.equal(new InputError("x", "", "y").exitCode, 2);
    });
  });
});
