/**
 * The custody test bench (docs/custody.md): the RebalanceGate with real Uniswap v2 pairs (from
 * `@uniswap/v2-core`'s published artifacts), real LenderVaults, and the tests-only
 * ClearTransitionVerifier in place of the Groth16 verifier. A transition is staged in clear (the
 * old and new openings) and then submitted with its public signals; liquidations (docs/enforcement.md)
 * carry their terms, and every proof names the gate's current keeper key (test/liquidation-gate.test.ts).
 */
import { AbiCoder, Contract, Interface, keccak256, type Signer, type TransactionReceipt } from "ethers";
import { network } from "hardhat";
import { gateEnforcement, REBALANCE_GATE_ABI } from "../../packages/sdk/src/chain/abi.ts";
import { custodyLayout, toFieldSigned } from "../../packages/sdk/src/chain/custody.ts";
import { borrowAssets, INDEX_ONE, LENDER_VAULT_ABI, repayAssets } from "../../packages/sdk/src/chain/lender.ts";
import { deployUniswapV2Factory } from "../../packages/node/src/deploy/uniswap-v2-factory.ts";
import { addLiquidity, createPair, getAmountOut } from "../../packages/sdk/src/chain/uniswap-v2.ts";
import { SNARK_FIELD } from "../../packages/sdk/src/core/field.ts";
import { keeperPublicKey, type Point } from "../../packages/sdk/src/encryption/keeper-key.ts";

export const N_ASSETS = 3;
export const N_INSTRUMENTS = 2;
export const N_SWAPS = 2;
export const [WETH, WBTC, USDC] = [0, 1, 2] as const;
export const OPT = 0; // instrument slot 0: an option token; slot 1 has none
export const LAYOUT = custodyLayout(N_ASSETS, N_INSTRUMENTS, N_SWAPS);
export const EPOCH = 42n;
export const FRESHNESS = 30n * 86_400n;
export const POLICY = 0x1234n;
export const MARKET_ROOT = 0xabcdefn;
/** About 100 % a year, simple: 1e18 / 31,536,000 per second (so the index visibly moves). */
export const RATE_PER_SECOND = INDEX_ONE / 31_536_000n;
const E18 = 10n ** 18n;
const E8 = 10n ** 8n;
const E6 = 10n ** 6n;

export const ZERO_PROOF = {
  a: [0n, 0n],
  b: [
    [0n, 0n],
    [0n, 0n],
  ],
  c: [0n, 0n],
};

/** The bench's keeper keys: generation 1 at deployment, then the ones rotations install (fixed secrets: tests only). */
export const KEEPER_SECRETS = [0x1234_5678n, 0x2345_6789n, 0x3456_789an, 0x4567_89abn];
export const keeperKeyOf = (secret: bigint): [bigint, bigint] => [...keeperPublicKey(secret)] as [bigint, bigint];
/** The bench gate's liquidation terms: 5 % bonus, a one-hour grace window (the deploy defaults). */
export const BONUS_BPS = 500n;
export const WINDOW = 3_600n;
/** RebalanceGate.FLAG_LIFETIME: a flag is usable for a liquidation from its liquidatableAt for one day. */
export const FLAG_LIFETIME = 86_400n;

/** A liquidation's terms as its proof's public signals carry them. */
export interface Liquidation {
  liquidator: string;
  bonusBps: bigint;
  /** Per asset, paid to the liquidator out of the position's collateral. */
  bonus: bigint[];
  urgent: boolean;
}

export interface Opening {
  account: string;
  nonce: bigint;
  salt: bigint;
  collateral: bigint[];
  debt: bigint[];
  quantity: bigint[];
}

export interface Swap {
  sell: number;
  buy: number;
  amountIn: bigint;
  minOut: bigint;
}

/** A transition's public movements (signed; debtAssets >= 0). */
export interface Movement {
  flow: bigint[];
  debtDelta: bigint[];
  debtAssets: bigint[];
  swaps: Swap[];
  instrumentFlow: bigint[];
  forced?: boolean;
  liquidation?: Liquidation;
}

export const emptyOpening = (account: string): Opening => ({
  account,
  nonce: 0n,
  salt: 0n,
  collateral: Array(N_ASSETS).fill(0n),
  debt: Array(N_ASSETS).fill(0n),
  quantity: Array(N_INSTRUMENTS).fill(0n),
});

export const noMovement = (): Movement => ({
  flow: Array(N_ASSETS).fill(0n),
  debtDelta: Array(N_ASSETS).fill(0n),
  debtAssets: Array(N_ASSETS).fill(0n),
  swaps: [],
  instrumentFlow: Array(N_INSTRUMENTS).fill(0n),
});

const OPENING_TYPE = "tuple(address account, uint64 nonce, uint256 salt, int256[] collateral, int256[] debt, int256[] quantity)";

/** The ClearTransitionVerifier's commitment: uint256(keccak256(abi.encode(opening))) % p. */
export function commitmentOf(o: Opening): bigint {
  const encoded = AbiCoder.defaultAbiCoder().encode([OPENING_TYPE], [[o.account, o.nonce, o.salt, o.collateral, o.debt, o.quantity]]);
  return BigInt(keccak256(encoded)) % SNARK_FIELD;
}

/** The new opening the circuit's equations give (docs/custody.md, "The circuit proves"); balances may come out negative. */
export function applyMovement(old: Opening, m: Movement, salt: bigint): Opening {
  const collateral = old.collateral.map((c, i) => {
    let next = c + m.flow[i]! + (m.debtDelta[i]! > 0n ? m.debtAssets[i]! : -m.debtAssets[i]!) - (m.liquidation?.bonus[i] ?? 0n);
    for (const s of m.swaps) {
      if (s.buy === i) next += s.minOut;
      if (s.sell === i) next -= s.amountIn;
    }
    return next;
  });
  return {
    account: old.account,
    nonce: old.nonce + 1n,
    salt,
    collateral,
    debt: old.debt.map((d, i) => d + m.debtDelta[i]!),
    quantity: old.quantity.map((q, k) => q + m.instrumentFlow[k]!),
  };
}

export interface SignalOptions {
  context: bigint;
  debtIndex: bigint[];
  fromEmpty: boolean;
  marketRoot?: bigint;
  policyHash?: bigint;
  nonce?: bigint;
  /** The keeper key the proof encrypts the new opening to. */
  keeperKey: Point;
}

/**
 * Stand-ins for the encryption signals: the ClearTransitionVerifier ignores them, the gate
 * republishes them (OpeningEncrypted), so they are derived from the new commitment to be recognisable.
 */
export function stubEncryption(newCommitment: bigint): { ephemeralKey: [bigint, bigint]; ciphertext: bigint[] } {
  const word = (j: number) => (newCommitment * 7n + BigInt(j) + 1n) % SNARK_FIELD;
  return { ephemeralKey: [word(100), word(101)], ciphertext: Array.from({ length: LAYOUT.ciphertextLength }, (_, j) => word(j)) };
}

/** The public signals of the transition old -> next with movements `m`. */
export function signalsOf(old: Opening, next: Opening, m: Movement, o: SignalOptions): bigint[] {
  const x: bigint[] = Array(LAYOUT.count).fill(0n);
  x[LAYOUT.oldCommitment] = commitmentOf(old);
  x[LAYOUT.newCommitment] = commitmentOf(next);
  x[LAYOUT.marketRoot] = o.marketRoot ?? MARKET_ROOT;
  x[LAYOUT.policyHash] = o.policyHash ?? POLICY;
  o.debtIndex.forEach((v, i) => (x[LAYOUT.debtIndex + i] = v));
  x[LAYOUT.account] = BigInt(old.account);
  x[LAYOUT.nonce] = o.nonce ?? old.nonce;
  x[LAYOUT.context] = o.context;
  x[LAYOUT.forced] = m.forced ? 1n : 0n;
  x[LAYOUT.fromEmpty] = o.fromEmpty ? 1n : 0n;
  for (let i = 0; i < N_ASSETS; i++) {
    x[LAYOUT.flow + i] = toFieldSigned(m.flow[i]!);
    x[LAYOUT.debtDelta + i] = toFieldSigned(m.debtDelta[i]!);
    x[LAYOUT.debtAssets + i] = m.debtAssets[i]!;
  }
  m.swaps.forEach((s, j) => {
    x[LAYOUT.swapSell + j] = BigInt(s.sell);
    x[LAYOUT.swapBuy + j] = BigInt(s.buy);
    x[LAYOUT.swapIn + j] = s.amountIn;
    x[LAYOUT.swapMinOut + j] = s.minOut;
  });
  m.instrumentFlow.forEach((g, k) => (x[LAYOUT.instrumentFlow + k] = toFieldSigned(g)));
  if (m.liquidation) {
    x[LAYOUT.liquidation] = 1n;
    x[LAYOUT.urgent] = m.liquidation.urgent ? 1n : 0n;
    x[LAYOUT.liquidator] = BigInt(m.liquidation.liquidator);
    x[LAYOUT.liquidationBonus] = m.liquidation.bonusBps;
    m.liquidation.bonus.forEach((b, i) => (x[LAYOUT.bonus + i] = b));
  }
  x[LAYOUT.keeperKey] = o.keeperKey[0];
  x[LAYOUT.keeperKey + 1] = o.keeperKey[1];
  const { ephemeralKey, ciphertext } = stubEncryption(x[LAYOUT.newCommitment]!);
  x[LAYOUT.ephemeralKey] = ephemeralKey[0];
  x[LAYOUT.ephemeralKey + 1] = ephemeralKey[1];
  ciphertext.forEach((c, j) => (x[LAYOUT.ciphertext + j] = c));
  return x;
}

export type Ethers = Awaited<ReturnType<typeof network.connect>>["ethers"];

export interface Bench {
  ethers: Ethers;
  owner: Signer;
  users: Signer[]; // alice, bob, carol
  keeper: Signer;
  lp: Signer;
  tokens: Contract[]; // WETH, WBTC, USDC
  option: Contract;
  oracle: Contract;
  factory: Contract;
  pairs: Map<string, Contract>;
  lenders: (Contract | undefined)[]; // WETH and USDC vaults, none for WBTC
  verifier: Contract;
  gate: Contract;
  context: bigint;
  addresses: { gate: string; tokens: string[]; option: string; lenders: (string | undefined)[]; pairs: string[] };
  gateErrors: Interface;
  lenderErrors: Interface;
  /** The gate's current keeper key (tests that rotate it update this), and the secrets of every generation so far. */
  keeperKey: [bigint, bigint];
  keeperSecrets: bigint[];
}

/** The bench's asset tokens' contracts: TestToken each, or a hostile one in its place (packages/contracts/contracts/test: ReentrantToken, BlocklistToken, both TestTokens). */
export type TokenContract = "TestToken" | "ReentrantToken" | "BlocklistToken";

/**
 * Deploys the bench: tokens, the oracle at epoch 42, three v2 pairs with liquidity, two lender
 * vaults, the gate. `tokenContracts` names the contract of WETH, WBTC and USDC (default TestToken).
 */
export async function deployBench(options: { tokenContracts?: readonly [TokenContract, TokenContract, TokenContract] } = {}): Promise<Bench> {
  const connection = await network.connect();
  const ethers = connection.ethers;
  const signers = (await ethers.getSigners()) as unknown as Signer[];
  const [owner, alice, bob, carol, keeper, lp, publisher] = signers as [Signer, Signer, Signer, Signer, Signer, Signer, Signer];
  const addr = (s: Signer) => s.getAddress();
  const kinds = options.tokenContracts ?? ["TestToken", "TestToken", "TestToken"];
  const tokens = [
    await ethers.deployContract(kinds[WETH], ["Wrapped Ether", "WETH", 18]),
    await ethers.deployContract(kinds[WBTC], ["Wrapped BTC", "WBTC", 8]),
    await ethers.deployContract(kinds[USDC], ["USD Coin", "USDC", 6]),
  ] as unknown as Contract[];
  const option = (await ethers.deployContract("TestToken", ["ETH-3000-C", "OPT", 18])) as unknown as Contract;
  const tokenAddresses = await Promise.all(tokens.map((t) => t.getAddress()));
  const oracle = (await ethers.deployContract("MarketOracle", [await addr(owner), await addr(publisher), FRESHNESS])) as unknown as Contract;

  // Liquidity: 2,000 WETH / 6,000,000 USDC; 100 WBTC / 6,000,000 USDC; 2,000 WETH / 100 WBTC.
  const mint = (t: Contract, to: string, amount: bigint) =>
    t
      .getFunction("mint")(to, amount)
      .then((tx: { wait(): Promise<unknown> }) => tx.wait());
  const lpAddress = await addr(lp);
  await mint(tokens[WETH]!, lpAddress, 10_000n * E18);
  await mint(tokens[WBTC]!, lpAddress, 1_000n * E8);
  await mint(tokens[USDC]!, lpAddress, 100_000_000n * E6);
  const factory = await deployUniswapV2Factory(owner);
  const pairs = new Map<string, Contract>();
  const liquidity: [number, bigint, number, bigint][] = [
    [WETH, 2_000n * E18, USDC, 6_000_000n * E6],
    [WBTC, 100n * E8, USDC, 6_000_000n * E6],
    [WETH, 2_000n * E18, WBTC, 100n * E8],
  ];
  for (const [a, amountA, b, amountB] of liquidity) {
    const pair = await createPair(factory, tokenAddresses[a]!, tokenAddresses[b]!);
    await addLiquidity(pair, lp, tokenAddresses[a]!, amountA, tokenAddresses[b]!, amountB);
    pairs.set(`${a}-${b}`, pair);
    pairs.set(`${b}-${a}`, pair);
  }

  // Lenders: WETH and USDC; the LP lends 1,000 WETH and 2,000,000 USDC.
  const lenders: (Contract | undefined)[] = [];
  for (const i of [WETH, WBTC, USDC]) {
    if (i === WBTC) {
      lenders.push(undefined);
      continue;
    }
    const vault = (await ethers.deployContract("LenderVault", [tokenAddresses[i]!, `Lent ${i}`, `l${i}`, RATE_PER_SECOND, await addr(owner)])) as unknown as Contract;
    const amount = i === WETH ? 1_000n * E18 : 2_000_000n * E6;
    await (await (tokens[i]!.connect(lp) as Contract).getFunction("approve")(await vault.getAddress(), amount)).wait();
    await (await (vault.connect(lp) as Contract).getFunction("deposit")(amount, lpAddress)).wait();
    lenders.push(vault);
  }
  const lenderAddresses = await Promise.all(lenders.map(async (l) => l?.getAddress()));

  const verifier = (await ethers.deployContract("ClearTransitionVerifier", [N_ASSETS, N_INSTRUMENTS, N_SWAPS])) as unknown as Contract;
  const ZERO = "0x0000000000000000000000000000000000000000";
  const gate = (await ethers.deployContract("RebalanceGate", [
    await oracle.getAddress(),
    tokenAddresses,
    [await option.getAddress(), ZERO],
    lenderAddresses.map((a) => a ?? ZERO),
    await factory.getAddress(),
    N_SWAPS,
    POLICY,
    gateEnforcement(keeperKeyOf(KEEPER_SECRETS[0]!), BONUS_BPS, WINDOW),
    await verifier.getAddress(),
    await addr(owner),
  ])) as unknown as Contract;
  const gateAddress = await gate.getAddress();
  for (const vault of lenders) if (vault) await (await vault.getFunction("setBorrower")(gateAddress)).wait();

  // Users: balances and allowances.
  const users = [alice, bob, carol];
  for (const user of users) {
    const who = await addr(user);
    await mint(tokens[WETH]!, who, 1_000n * E18);
    await mint(tokens[WBTC]!, who, 50n * E8);
    await mint(tokens[USDC]!, who, 3_000_000n * E6);
    await mint(option, who, 1_000n * E18);
    for (const t of [...tokens, option]) await (await (t.connect(user) as Contract).getFunction("approve")(gateAddress, 1n << 255n)).wait();
  }

  const block = await ethers.provider.getBlock("latest");
  await (await (oracle.connect(publisher) as Contract).getFunction("publish")(EPOCH, MARKET_ROOT, BigInt(block!.timestamp))).wait();
  const context = BigInt(await gate.getFunction("context")());
  const pairAddresses = await Promise.all([...new Set(pairs.values())].map((p) => p.getAddress()));
  return {
    ethers,
    owner,
    users,
    keeper,
    lp,
    tokens,
    option,
    oracle: oracle.connect(publisher) as Contract,
    factory,
    pairs,
    lenders,
    verifier,
    gate,
    context,
    addresses: { gate: gateAddress, tokens: tokenAddresses, option: await option.getAddress(), lenders: lenderAddresses, pairs: pairAddresses },
    gateErrors: new Interface([...REBALANCE_GATE_ABI, ...LENDER_VAULT_ABI.filter((f) => f.startsWith("error"))]),
    lenderErrors: new Interface(LENDER_VAULT_ABI),
    keeperKey: keeperKeyOf(KEEPER_SECRETS[0]!),
    keeperSecrets: [KEEPER_SECRETS[0]!],
  };
}

/** Debt indexes for a proof: each lender's index projected `ahead` seconds past the latest block; 1e18 without a lender. */
export async function proofDebtIndex(bench: Bench, ahead = 60n): Promise<bigint[]> {
  const block = await bench.ethers.provider.getBlock("latest");
  const at = BigInt(block!.timestamp) + ahead;
  return Promise.all(bench.lenders.map(async (l) => (l ? BigInt(await l.getFunction("indexAt")(at)) : INDEX_ONE)));
}

/** The lenders' current indexes (1e18 without a lender): what a borrow delivers at least (the index only grows). */
export async function currentDebtIndex(bench: Bench): Promise<bigint[]> {
  return Promise.all(bench.lenders.map(async (l) => (l ? BigInt(await l.getFunction("debtIndex")()) : INDEX_ONE)));
}

/** A borrow of `units` of asset `i`: debtAssets = what the lender delivers at the current index (floor). */
export function borrowMove(m: Movement, i: number, units: bigint, index: bigint): Movement {
  m.debtDelta[i] = units;
  m.debtAssets[i] = borrowAssets(units, index);
  return m;
}

/** A repayment of `units` of asset `i`: debtAssets = the most the lender takes, at the (projected) proof index (ceil). */
export function repayMove(m: Movement, i: number, units: bigint, proofIndex: bigint): Movement {
  m.debtDelta[i] = -units;
  m.debtAssets[i] = repayAssets(units, proofIndex);
  return m;
}

/** What selling `amountIn` of asset `sell` for `buy` on the bench's pair delivers now. */
export async function quote(bench: Bench, sell: number, buy: number, amountIn: bigint): Promise<bigint> {
  const pair = bench.pairs.get(`${sell}-${buy}`)!;
  const [reserve0, reserve1] = (await pair.getFunction("getReserves")()) as [bigint, bigint];
  // token0 is the lower address (UniswapV2Factory.createPair).
  const sellIsToken0 = BigInt(bench.addresses.tokens[sell]!) < BigInt(bench.addresses.tokens[buy]!);
  return sellIsToken0 ? getAmountOut(amountIn, reserve0, reserve1) : getAmountOut(amountIn, reserve1, reserve0);
}

export interface Submitted {
  next: Opening;
  signals: bigint[];
  receipt: TransactionReceipt;
}

const toTuple = (o: Opening) => [o.account, o.nonce, o.salt, o.collateral, o.debt, o.quantity];

/** Stages the openings on the ClearTransitionVerifier (a separate transaction). */
export async function stage(bench: Bench, old: Opening, next: Opening): Promise<void> {
  await (await bench.verifier.getFunction("stage")(toTuple(old), toTuple(next))).wait();
}

/** The gate's four transition entry points. */
export type GateEntry = "register" | "rebalance" | "flagBelowTrigger" | "liquidate";

/**
 * Stages old -> next and sends `register` (fromEmpty), `liquidate` (a liquidation) or `rebalance`
 * from `sender` (default: the account), or `options.fn`. The proof names the bench's current keeper
 * key unless `options.keeperKey`. Resolves with the receipt; rejects with the revert.
 */
export async function submit(
  bench: Bench,
  sender: Signer,
  old: Opening,
  m: Movement,
  options: {
    fromEmpty?: boolean;
    salt?: bigint;
    next?: Opening;
    edit?: (signals: bigint[]) => void;
    epoch?: bigint;
    debtIndex?: bigint[];
    stage?: boolean;
    fn?: GateEntry;
    keeperKey?: Point;
  } = {},
): Promise<Submitted> {
  const fromEmpty = options.fromEmpty ?? old.nonce === 0n;
  // A keeper's transition (forced or a liquidation) keeps the owner's salt (the circuit's rule); others draw a new one.
  const salt = options.salt ?? (m.forced || m.liquidation ? old.salt : BigInt(Math.floor(Math.random() * 2 ** 48)) + 1n);
  const next = options.next ?? applyMovement(old, m, salt);
  const signals = signalsOf(old, next, m, {
    context: bench.context,
    debtIndex: options.debtIndex ?? (await proofDebtIndex(bench)),
    fromEmpty,
    keeperKey: options.keeperKey ?? bench.keeperKey,
  });
  options.edit?.(signals);
  if (options.stage !== false) await stage(bench, old, next);
  const gate = bench.gate.connect(sender) as Contract;
  const fn = options.fn ?? (fromEmpty ? "register" : m.liquidation ? "liquidate" : "rebalance");
  const tx = await gate.getFunction(fn)(options.epoch ?? EPOCH, ZERO_PROOF, signals);
  const receipt = (await tx.wait()) as TransactionReceipt;
  return { next, signals, receipt };
}

/** Sends signals as they are (for replays), without staging. */
export async function resend(bench: Bench, sender: Signer, fn: GateEntry, signals: bigint[], epoch = EPOCH): Promise<TransactionReceipt> {
  const tx = await (bench.gate.connect(sender) as Contract).getFunction(fn)(epoch, ZERO_PROOF, signals);
  return (await tx.wait()) as TransactionReceipt;
}
