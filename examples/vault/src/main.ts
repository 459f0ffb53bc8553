/**
 * The vault page: a position checked, planned and proven in the browser, the proof verified here
 * and sent to the gate contracts through ethers. The position lives in this page only (the
 * textarea and the variables below): the server gives the market, the policy, the chain's
 * addresses and the circuit artifacts, and never receives anything but JSON-RPC calls carrying
 * proofs and public signals.
 *
 * Custody (docs/custody.md): the gate holds the tokens behind every committed balance. Registering
 * is a Rebalance proof from the empty position whose movements bring the position in (deposits
 * from the wallet, the debt borrowed from the lender vault); a rebalance moves tokens the same
 * way (approve each deposit first), swapping on the Uniswap v2 pools.
 */
import { BrowserProvider, Contract, Interface, isError, JsonRpcProvider, type Eip1193Provider, type JsonRpcSigner, type TransactionReceipt } from "ethers";
// The SDK through its domain entry points: each is a small ES module graph, so the page's bundle
// holds only what it uses (the package is marked side-effect free).
import { AuditTreeError, auditGeometry, checkDeclaredGeometry, checkInclusion, parseAuditReport, parseInclusionFile } from "@zk-solvency/sdk/audit";
import { BrowserProver, instanceLayout, type InstanceInfo } from "@zk-solvency/sdk/browser";
import {
  borrowAssets,
  encodeRebalance,
  encodeRegister,
  ERC20_ABI,
  gateContext,
  getAmountOut,
  LENDER_VAULT_ABI,
  MARKET_ORACLE_ABI,
  parseGateError,
  REBALANCE_GATE_ABI,
  revertData,
  UNISWAP_V2_FACTORY_ABI,
  UNISWAP_V2_PAIR_ABI,
} from "@zk-solvency/sdk/chain";
import { commitPosition, marketRoot, policyHash, randomSalt, type CircuitLayout } from "@zk-solvency/sdk/commitment";
import { formatHuman, QUANTITY_DECIMALS, ZksError } from "@zk-solvency/sdk/core";
import { validateKeeperPublicKey } from "@zk-solvency/sdk/encryption";
import { parseMarket, parsePolicy, parsePosition, positionToJson, type Market, type Policy, type Position } from "@zk-solvency/sdk/inputs";
import { checkPosition, explainChecks, type RiskReport } from "@zk-solvency/sdk/model";
import { checkRebalanceProof, proveRebalance, type CircuitArtifacts, type RebalanceProof } from "@zk-solvency/sdk";
import { UnprovableError } from "@zk-solvency/sdk/prover";
import { applyMovements, emptyAllowance, emptyPosition, plan, type Movements, type Plan, type Strategy, type SwapQuote, type Transition } from "@zk-solvency/sdk/rebalance";
import { verifyProof } from "@zk-solvency/sdk/verifier";
import { riskPictures } from "./charts.ts";

// ---- what the server tells the page (public) --------------------------------------------------

interface PageConfig {
  chainId: string;
  rpc: string;
  account: string;
  size: string;
  instances: { solvency: string; rebalance: string };
  contracts: { MarketOracle: string; RebalanceGate: string; AuditRegistry: string };
  tokens: { slot: number; symbol: string | null; address: string }[];
  instrumentTokens: { slot: number; id: string | null; address: string }[];
  lenders: { slot: number; symbol: string | null; address: string }[];
  uniswapV2Factory: string;
  nSwaps: number;
  devOracle: boolean;
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

interface ServedInstance extends InstanceInfo {
  files: { wasm: string; zkey: string; vkey: string };
}

type VerificationKey = Parameters<typeof verifyProof>[0];
type InclusionResult = Awaited<ReturnType<typeof checkInclusion>>;
type SumNode = ReturnType<typeof parseAuditReport>["root"];

// ---- page state (the position stays here) -----------------------------------------------------

/** Both statements are Rebalance proofs of a transition (docs/custody.md); `next` is what the gate will commit to. */
type Statement =
  | { kind: "register"; instance: ServedInstance; epoch: number; position: Position; next: Position; transition: Transition; dropped: string[] }
  | { kind: "rebalance"; instance: ServedInstance; epoch: number; position: Position; next: Position; transition: Transition; plan: Plan };

interface MadeProof {
  statement: Statement;
  proof: RebalanceProof;
  verified: boolean | null;
}

/** The user's wallet, connected through its injected EIP-1193 provider: it signs, the page never holds a key. */
interface ConnectedWallet {
  provider: BrowserProvider;
  signer: JsonRpcSigner;
  address: string;
  chainId: bigint;
}

const state: {
  config?: PageConfig;
  instances: ServedInstance[];
  /** Reads (contracts, blocks): the site's own JSON-RPC endpoint, so the page works before a wallet is connected. */
  provider?: JsonRpcProvider;
  wallet?: ConnectedWallet;
  market?: Market;
  policy?: Policy;
  position?: Position;
  report?: RiskReport;
  registered?: { registered: boolean; commitment: bigint; matches: boolean };
  /** Each asset's lender's current debt index (10^18), read from the chain; undefined without a lender. */
  lenderIndex?: (bigint | undefined)[];
  plan?: Plan;
  statement?: Statement;
  made?: MadeProof;
  /** The published audit's root (audit.json), when the user opened it: inclusion proofs must lead to it. */
  published?: { epoch: number; root: SumNode };
  vkeys: Map<string, Promise<VerificationKey>>;
} = { instances: [], vkeys: new Map() };

let prover: BrowserProver | undefined;
const gateInterface = new Interface(REBALANCE_GATE_ABI);

// ---- DOM helpers ------------------------------------------------------------------------------

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

function status(id: string, state: string, text: string): void {
  const element = $(id);
  element.dataset.state = state;
  element.textContent = text;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  return e;
}

/** Errors as a person can read them: a gate's custom error by name, an SDK error's message, ethers' short message. */
function describe(error: unknown): string {
  // EIP-1193 code 4001, which ethers reports as ACTION_REJECTED: the user said no in the wallet.
  if (isError(error, "ACTION_REJECTED") || (error as { code?: unknown })?.code === 4001) return "the request was rejected in the wallet";
  const data = revertData(error);
  const parsed = data ? parseGateError(data) : null;
  if (parsed) return `reverted with ${parsed.name}(${parsed.args.map(String).join(", ")})`;
  if (error instanceof UnprovableError) return `no proof exists for this input: ${error.detail}`;
  if (error instanceof ZksError) return error.message;
  const e = error as { shortMessage?: string; message?: string };
  return e.shortMessage ?? e.message ?? String(error);
}

/** Buttons whose work is running: they stay disabled until it ends, whatever updateButtons decides. */
const running = new Set<string>();

/** Runs a button's work with the button disabled, reporting a failure in `statusId`. */
function action(buttonId: string, statusId: string, work: () => Promise<void>): void {
  const button = $<HTMLButtonElement>(buttonId);
  button.addEventListener("click", () => {
    if (button.disabled) return;
    button.disabled = true;
    running.add(buttonId);
    work()
      .catch((error: unknown) => {
        console.error(error);
        status(statusId, "error", describe(error));
      })
      .finally(() => {
        running.delete(buttonId);
        button.disabled = false;
        updateButtons();
      });
  });
}

/** Reads an opened file in the browser (it is not uploaded anywhere) and hands it to `use`. */
function onFile(inputId: string, statusId: string, use: (text: string, name: string) => void | Promise<void>): void {
  const input = $<HTMLInputElement>(inputId);
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    input.value = ""; // so that opening the same file again reads it again
    if (!file) return;
    file
      .text()
      .then((text) => use(text, file.name))
      .catch((error: unknown) => {
        console.error(error);
        status(statusId, "error", describe(error));
      });
  });
}

const money = (value: bigint): string => `${formatHuman(value, state.market!.quote.decimals)} ${state.market!.quote.symbol}`;
const ratio = (value: bigint | null): string => (value === null ? "none (no debt)" : formatHuman(value, 4, 4));
const hex = (value: bigint): string => `0x${value.toString(16).padStart(64, "0")}`;
const short = (value: string): string => `${value.slice(0, 10)}…${value.slice(-6)}`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what}: not JSON (${(error as Error).message})`, { cause: error });
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

// ---- chain ------------------------------------------------------------------------------------

function contracts() {
  const { config, provider } = state;
  if (!config || !provider) throw new Error("not connected to the chain yet");
  return {
    oracle: new Contract(config.contracts.MarketOracle, MARKET_ORACLE_ABI, provider),
    gate: new Contract(config.contracts.RebalanceGate, REBALANCE_GATE_ABI, provider),
    token: (slot: number) => {
      const t = config.tokens.find((x) => x.slot === slot);
      if (!t) throw new Error(`the gate has no token for asset slot ${slot}`);
      return new Contract(t.address, ERC20_ABI, provider);
    },
    /** The option token of instrument slot `slot`, or null for none. */
    instrumentToken: (slot: number) => {
      const t = config.instrumentTokens.find((x) => x.slot === slot);
      return t && t.address !== ZERO_ADDRESS ? new Contract(t.address, ERC20_ABI, provider) : null;
    },
    /** The LenderVault of asset slot `slot`, or null for none. */
    lender: (slot: number) => {
      const l = config.lenders.find((x) => x.slot === slot);
      return l && l.address !== ZERO_ADDRESS ? new Contract(l.address, LENDER_VAULT_ABI, provider) : null;
    },
    factory: new Contract(config.uniswapV2Factory, UNISWAP_V2_FACTORY_ABI, provider),
  };
}

/** The lenders' current debt indices (10^18), per asset slot of the market. */
async function readLenderIndices(market: Market): Promise<(bigint | undefined)[]> {
  const { lender } = contracts();
  return Promise.all(market.assets.map(async (_, i) => (await lender(i)?.getFunction("debtIndex")()) as bigint | undefined));
}

/**
 * What a swap on the gate's Uniswap v2 pools delivers now (v2's getAmountOut from each pair's
 * reserves, read once): the planner sets minOut under these quotes, and the gate reverts below it.
 */
async function poolQuote(market: Market): Promise<SwapQuote> {
  const { factory, token } = contracts();
  const reserves = new Map<string, bigint>();
  const addresses = await Promise.all(market.assets.map((_, i) => token(i).getAddress()));
  for (let a = 0; a < addresses.length; a++) {
    for (let b = a + 1; b < addresses.length; b++) {
      const pairAddress = (await factory.getFunction("getPair")(addresses[a], addresses[b])) as string;
      if (pairAddress === ZERO_ADDRESS) continue;
      const pair = new Contract(pairAddress, UNISWAP_V2_PAIR_ABI, state.provider);
      const [[r0, r1], token0] = (await Promise.all([pair.getFunction("getReserves")(), pair.getFunction("token0")()])) as [[bigint, bigint], string];
      const aFirst = token0.toLowerCase() === addresses[a]!.toLowerCase();
      reserves.set(`${a}:${b}`, aFirst ? r0 : r1);
      reserves.set(`${b}:${a}`, aFirst ? r1 : r0);
    }
  }
  return (sell, buy, amountIn) => getAmountOut(amountIn, reserves.get(`${sell}:${buy}`) ?? 0n, reserves.get(`${buy}:${sell}`) ?? 0n);
}

// ---- wallet -----------------------------------------------------------------------------------

/** What EIP-1193 adds to `request` for events; optional, since a minimal provider may lack it. */
interface InjectedProvider extends Eip1193Provider {
  on?(event: string, listener: (...args: unknown[]) => void): void;
}

/** The wallet the browser injected (an extension, or a test's provider): window.ethereum, per EIP-1193. */
function injectedProvider(): InjectedProvider | undefined {
  return (window as { ethereum?: InjectedProvider }).ethereum;
}

let listening = false;

/**
 * Connects the injected wallet through ethers' BrowserProvider: asks for its accounts (the wallet
 * shows its own prompt), checks it is on the gate's chain (asking it to switch when it is not)
 * and keeps its signer. Transactions are signed by the wallet; no key ever enters the page.
 */
async function connectWallet(): Promise<void> {
  const config = state.config;
  if (!config) throw new Error("not connected to the chain yet");
  const ethereum = injectedProvider();
  if (!ethereum) throw new Error("no wallet found: this page signs with an injected EIP-1193 wallet (window.ethereum), such as a browser extension wallet");
  state.wallet = undefined;
  showWallet();
  const provider = new BrowserProvider(ethereum);
  const accounts = (await provider.send("eth_requestAccounts", [])) as string[];
  if (accounts.length === 0) throw new Error("the wallet shared no account");
  const want = BigInt(config.chainId);
  let chainId = BigInt((await provider.send("eth_chainId", [])) as string);
  if (chainId !== want) {
    try {
      // Straight to the wallet (EIP-3326): its own error message says why it would not switch.
      await ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: `0x${want.toString(16)}` }] });
    } catch (error) {
      const why = (error as { message?: unknown }).message;
      throw new Error(`the wallet is on chain ${chainId}, not the gate's chain ${want}: switch it to chain ${want}${typeof why === "string" && why ? ` (${why})` : ""}`, {
        cause: error,
      });
    }
    chainId = BigInt((await provider.send("eth_chainId", [])) as string);
    if (chainId !== want) throw new Error(`the wallet is on chain ${chainId}, not the gate's chain ${want}: switch it to chain ${want}`);
  }
  // A fresh BrowserProvider after a switch: ethers pins the network it first detects.
  const connected = new BrowserProvider(ethereum, want);
  const signer = await connected.getSigner(accounts[0]);
  state.wallet = { provider: connected, signer, address: await signer.getAddress(), chainId };
  if (!listening && ethereum.on) {
    listening = true;
    // Another account or chain in the wallet: forget the signer; the next submit asks again.
    const forget = (why: string) => () => {
      if (!state.wallet) return;
      state.wallet = undefined;
      showWallet(why);
    };
    ethereum.on("accountsChanged", forget("the wallet switched accounts: connect again"));
    ethereum.on("chainChanged", forget("the wallet switched chains: connect again"));
  }
  showWallet();
}

/** The wallet line in the header: connected account and chain, and whether it is the position's account. */
function showWallet(note?: string): void {
  const wallet = state.wallet;
  const el = $("wallet-status");
  $("connect-wallet").textContent = wallet ? "Reconnect wallet" : "Connect wallet";
  if (!wallet) {
    status("wallet-status", note ? "error" : "", note ?? (injectedProvider() ? "no wallet connected" : "no wallet found in this browser (window.ethereum)"));
    delete el.dataset.account;
    return;
  }
  const position = state.position;
  const mismatch = position && position.account.toLowerCase() !== wallet.address.toLowerCase();
  status(
    "wallet-status",
    mismatch ? "error" : "ok",
    `wallet ${wallet.address} on chain ${wallet.chainId}${mismatch ? `: not the position's account ${position.account} (switch accounts in the wallet to submit)` : ""}`,
  );
  el.dataset.account = wallet.address;
}

/** The wallet's signer for the position's account: connects first when needed, refuses another account. */
async function signerFor(account: string): Promise<JsonRpcSigner> {
  if (!state.wallet) await connectWallet();
  const wallet = state.wallet!;
  if (wallet.address.toLowerCase() !== account.toLowerCase()) {
    throw new Error(
      `the wallet's account ${wallet.address} is not the position's account ${account}: switch to it in the wallet (the gate binds the proof to the account that sends it)`,
    );
  }
  return wallet.signer;
}

function instanceNamed(name: string): ServedInstance {
  const found = state.instances.find((i) => i.instance === name);
  if (!found) throw new Error(`the server has no built instance ${name} (run \`zks setup --instance ${name}\`)`);
  return found;
}

/** The slots the gate's verifiers prove over: commitments and market roots are computed with them. */
function gateLayout(): CircuitLayout {
  return instanceLayout(instanceNamed(state.config!.instances.rebalance));
}

/**
 * Registration as a proven deposit from the empty position (docs/custody.md): the new position
 * holds exactly what arrives in the same transaction. Collateral is deposited from the wallet,
 * debt is borrowed from the asset's lender (its proceeds, at the lender's current index, are paid
 * out to the wallet so that the collateral stays what the position says), long options are
 * option tokens pulled from the wallet. Written (short) options cannot be registered under token
 * custody: they are left out (`dropped`).
 */
function registration(position: Position, market: Market, lenderIndex: readonly (bigint | undefined)[]): { transition: Transition; next: Position; dropped: string[] } {
  const dropped = market.instruments.flatMap((k, i) => (position.quantities[i]! < 0n ? [`${k.id} ${formatHuman(position.quantities[i]!, 8)}`] : []));
  const debtAssets = position.debt.map((units, i) => {
    if (units === 0n) return 0n;
    const index = lenderIndex[i];
    if (index === undefined) throw new Error(`${market.assets[i]!.symbol}: the gate has no lender for this asset, so its debt cannot be registered`);
    return borrowAssets(units, index);
  });
  const movements: Movements = {
    flows: position.collateral.map((c, i) => c - debtAssets[i]!),
    debtDelta: [...position.debt],
    debtAssets,
    swaps: [],
    instrumentFlows: position.quantities.map((q) => (q > 0n ? q : 0n)),
  };
  const old = emptyPosition(position.account, market);
  const next: Position = { ...applyMovements(old, movements), salt: position.salt ?? randomSalt() };
  return { transition: { old, next, forced: false, fromEmpty: true, ...movements }, next, dropped };
}

// ---- 0. start ---------------------------------------------------------------------------------

async function connect(): Promise<void> {
  const config = await getJson<PageConfig>("/zks/config.json");
  state.config = config;
  state.instances = await getJson<ServedInstance[]>("/zks/instances.json");
  state.provider = new JsonRpcProvider(new URL(config.rpc, location.href).href, BigInt(config.chainId), { staticNetwork: true, pollingInterval: 250 });
  const block = await state.provider.getBlockNumber();
  status("chain-status", "ok", `chain ${config.chainId} at block ${block}; gate ${short(config.contracts.RebalanceGate)} (${config.size} verifiers)`);
  $("dev-shock").hidden = !config.devOracle;
  showWallet();
  prover = BrowserProver.start();
}

// ---- 1. position ------------------------------------------------------------------------------

async function loadExample(): Promise<void> {
  const json = await getJson<unknown>("/zks/examples/position.json");
  $<HTMLTextAreaElement>("position-json").value = JSON.stringify(json, null, 2);
  status("position-status", "ok", "example position loaded (it is a copy in this page; edit it freely)");
  await check();
}

function readPosition(): Position {
  if (!state.market) throw new Error("fetch the market first");
  return parsePosition(parseJson($<HTMLTextAreaElement>("position-json").value, "position"), "position", state.market);
}

function showPosition(position: Position): void {
  $<HTMLTextAreaElement>("position-json").value = JSON.stringify(positionToJson(position, state.market!), null, 2);
}

function savePosition(): void {
  const text = $<HTMLTextAreaElement>("position-json").value;
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = element("a", undefined, { href: url, download: "position.json" });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- 2. market and policy ---------------------------------------------------------------------

async function fetchMarket(): Promise<void> {
  const [rawMarket, rawPolicy] = await Promise.all([getJson<unknown>("/zks/market.json"), getJson<unknown>("/zks/policy.json")]);
  const market = parseMarket(rawMarket, "market.json");
  const policy = parsePolicy(rawPolicy, "policy.json", market);
  const { oracle, gate } = contracts();
  const layout = gateLayout();
  const [published, fresh, gatePolicy] = await Promise.all([
    oracle.getFunction("rootOf")(market.epoch) as Promise<bigint>,
    oracle.getFunction("isFresh")(market.epoch) as Promise<boolean>,
    gate.getFunction("policyHash")() as Promise<bigint>,
  ]);
  const root = marketRoot(market, layout);
  if (published !== root) {
    throw new Error(`epoch ${market.epoch}: the market file's root ${short(hex(root))} is not the one the oracle published (${short(hex(published))}); refusing it`);
  }
  state.market = market;
  state.policy = policy;
  state.plan = undefined;
  state.statement = undefined;
  state.made = undefined;
  status(
    "market-status",
    fresh ? "ok" : "error",
    `epoch ${market.epoch}, published ${new Date(market.timestamp * 1000).toISOString()}: root ${short(hex(root))} matches the oracle${fresh ? "" : " but is no longer fresh"}`,
  );
  $("market-status").dataset.epoch = String(market.epoch);
  const table = $<HTMLTableElement>("market-table");
  table.replaceChildren(element("tr"));
  table.rows[0]!.append(element("th", "asset"), element("th", `price (${market.quote.symbol})`), element("th", "liquidation threshold"));
  for (const a of market.assets) {
    const row = element("tr");
    row.append(
      element("td", a.symbol),
      element("td", formatHuman(a.price, market.quote.decimals, a.price < 100n * 10n ** BigInt(market.quote.decimals) ? 4 : 2)),
      element("td", formatHuman(a.liquidationThreshold, 4, 3)),
    );
    table.append(row);
  }
  const hash = policyHash(policy);
  status(
    "policy-status",
    hash === gatePolicy ? "ok" : "error",
    `policy: minimum health factor ${ratio(policy.minHealthFactor)}, trigger ${ratio(policy.trigger.healthFactor)}, VaR ${policy.var.method}; hash ${hash === gatePolicy ? "matches" : "DOES NOT match"} the gate's`,
  );
  renderSellable();
  if ($<HTMLTextAreaElement>("position-json").value.trim()) await check();
}

async function devShock(): Promise<void> {
  const response = await fetch("/zks/dev/shock", { method: "POST" });
  if (!response.ok) throw new Error(`dev oracle: HTTP ${response.status} ${await response.text()}`);
  await fetchMarket();
}

// ---- 3. risk ----------------------------------------------------------------------------------

async function check(): Promise<void> {
  if (!state.market || !state.policy) await fetchMarket();
  const market = state.market!;
  const position = readPosition();
  const report = checkPosition(position, market, state.policy!);
  state.position = position;
  state.report = report;
  status("position-status", "ok", `account ${position.account}, nonce ${position.nonce}${position.salt === undefined ? ", no salt yet (one is drawn when you register)" : ""}`);

  const figures = $("figures");
  figures.replaceChildren();
  const figure = (name: string, value: string, id: string) => figures.append(element("dt", name), element("dd", value, { id }));
  figure("health factor", ratio(report.healthFactor.value), "hf");
  figure("equity", money(report.equity.value), "equity");
  figure("stress: worst loss", `${money(report.stress.worstLoss)} ('${report.stress.scenario}')`, "stress");
  if (report.var.historical) figure("historical VaR", money(report.var.historical.value), "hvar");
  if (report.var.parametric) figure("parametric VaR", money(report.var.parametric.value), "pvar");
  $("hf").dataset.value = report.healthFactor.value === null ? "" : formatHuman(report.healthFactor.value, 4, 4);

  const list = $("checks");
  list.replaceChildren(...explainChecks(report).map((e) => element("li", e.line, { "data-check": e.check, "data-pass": String(e.pass) })));
  list.dataset.pass = String(report.pass);
  list.dataset.failures = report.failures.join(",");
  renderPictures();
  showWallet();

  await readOnChain();
}

/** The gate's record for the account, and whether it commits to the loaded position. */
async function readOnChain(): Promise<void> {
  const position = state.position!;
  const { gate } = contracts();
  const [commitment, registered] = (await gate.getFunction("positionOf")(position.account)) as [bigint, boolean];
  const mine = position.salt === undefined ? null : commitPosition(position, position.salt, gateLayout());
  // The gate stores no nonce: a commitment that matches binds the loaded position's nonce.
  const matches = registered && mine === commitment;
  state.registered = { registered, commitment, matches };
  const text = !registered
    ? "not registered with the gate yet: register it with a proven deposit"
    : matches
      ? `registered at nonce ${position.nonce}; the gate's commitment ${short(hex(commitment))} is this position's`
      : `registered with commitment ${short(hex(commitment))}, which is not this position's (load the position you last registered or rebalanced to)`;
  status("onchain-status", registered && !matches ? "error" : "ok", text);
  $("onchain-status").dataset.registered = String(registered);
  $("onchain-status").dataset.nonce = matches ? String(position.nonce) : "";
  state.lenderIndex = await readLenderIndices(state.market!);
  chooseStatement();
}

/** What the next proof proves: registration for an unregistered account, else the planned rebalance. */
function chooseStatement(): void {
  const { position, market, registered, config } = state;
  state.statement = undefined;
  if (position && market && registered && config) {
    if (!registered.registered && state.lenderIndex) {
      const { transition, next, dropped } = registration(position, market, state.lenderIndex);
      state.statement = { kind: "register", instance: instanceNamed(config.instances.rebalance), epoch: market.epoch, position, next, transition, dropped };
    } else if (registered.matches && state.plan?.needed) {
      const next: Position = { ...state.plan.position, nonce: position.nonce + 1n, salt: randomSalt() };
      const transition: Transition = { old: position, next, forced: false, fromEmpty: false, ...state.plan.movements };
      state.statement = { kind: "rebalance", instance: instanceNamed(config.instances.rebalance), epoch: market.epoch, position, next, transition, plan: state.plan };
    }
  }
  const s = state.statement;
  const text = !s
    ? registered?.matches
      ? "plan a rebalance to have something to prove"
      : "check a position first"
    : s.kind === "register"
      ? `register: a proven deposit from the empty position at epoch ${s.epoch}: ${movementText(s.transition, market!)} (Rebalance proof from the empty position, ${s.instance.instance}, ${s.instance.nConstraints.toLocaleString("en-US")} constraints)${
          s.dropped.length > 0 ? `. Written (short) options cannot be registered under token custody and are left out: ${s.dropped.join(", ")}` : ""
        }`
      : `rebalance: nonce ${s.position.nonce} -> ${s.next.nonce} at epoch ${s.epoch} (Rebalance proof, ${s.instance.instance}, ${s.instance.nConstraints.toLocaleString("en-US")} constraints)`;
  $("statement").textContent = text;
  $("statement").dataset.kind = s?.kind ?? "none";
  if (state.made && state.made.statement !== s) state.made = undefined;
  // A new statement: what the card shows of the last proof no longer applies (a finished
  // submission stays on show until there is something new to prove).
  if (s) clearProofCard();
  updateButtons();
}

/** The token movements of a transition, as a sentence. */
function movementText(t: Movements, market: Market): string {
  const parts: string[] = [];
  const amount = (x: bigint, i: number) => `${formatHuman(x < 0n ? -x : x, market.assets[i]!.decimals)} ${market.assets[i]!.symbol}`;
  t.flows.forEach((f, i) => f > 0n && parts.push(`deposit ${amount(f, i)}`));
  t.debtDelta.forEach((d, i) => d > 0n && parts.push(`borrow ${amount(t.debtAssets[i]!, i)} from the lender`));
  t.debtDelta.forEach((d, i) => d < 0n && parts.push(`repay at most ${amount(t.debtAssets[i]!, i)} to the lender`));
  t.swaps.forEach((s) => parts.push(`swap ${amount(s.amountIn, s.sell)} for at least ${amount(s.minOut, s.buy)} on Uniswap v2`));
  t.flows.forEach((f, i) => f < 0n && parts.push(`withdraw ${amount(f, i)} to the wallet`));
  t.instrumentFlows.forEach((g, k) => g !== 0n && parts.push(`${g > 0n ? "deposit" : "withdraw"} ${formatHuman(g < 0n ? -g : g, 8)} ${market.instruments[k]!.id} option tokens`));
  return parts.length > 0 ? parts.join(", ") : "no token movement";
}

function clearProofCard(): void {
  $("progress").dataset.stage = "idle";
  $("progress").querySelector<HTMLElement>(".fill")!.style.width = "";
  $("progress-text").textContent = "";
  $("progress-log").replaceChildren();
  for (const id of ["proof-status", "verify-status", "submit-status"]) {
    status(id, "", "");
    for (const key of Object.keys($(id).dataset)) delete $(id).dataset[key];
  }
}

// ---- 4. plan ----------------------------------------------------------------------------------

function renderSellable(): void {
  const market = state.market!;
  const box = $("sellable");
  const checked = new Set(Array.from(box.querySelectorAll<HTMLInputElement>("input:checked"), (i) => i.value));
  if (box.childElementCount === 0) checked.add("WETH"); // the demo's allowance
  box.replaceChildren(
    ...market.assets.map((a) => {
      const label = element("label", ` ${a.symbol} `);
      const input = element("input", undefined, { type: "checkbox", value: a.symbol });
      input.checked = checked.has(a.symbol);
      label.prepend(input);
      return label;
    }),
  );
}

async function makePlan(): Promise<void> {
  await check();
  const market = state.market!;
  const position = state.position!;
  // The wallet the planner may top up from: the account's token balances on the chain.
  const { token } = contracts();
  const balances = await Promise.all(market.assets.map((_, i) => token(i).getFunction("balanceOf")(position.account) as Promise<bigint>));
  const allowance = emptyAllowance(market);
  allowance.wallet = balances;
  const sellable = new Set(Array.from($("sellable").querySelectorAll<HTMLInputElement>("input:checked"), (i) => i.value));
  allowance.sellable = market.assets.map((a) => sellable.has(a.symbol));
  $("wallet").textContent = `wallet: ${market.assets.map((a, i) => `${formatHuman(balances[i]!, a.decimals)} ${a.symbol}`).join(", ")}`;

  const strategy = $<HTMLSelectElement>("strategy").value as Strategy;
  // Swaps run on the gate's Uniswap v2 pools (minOut under their quotes); borrows at the lenders' current index.
  const [quote, lenderIndex] = await Promise.all([poolQuote(market), readLenderIndices(market)]);
  const found = plan(position, market, state.policy!, allowance, { strategy, quote, lenderIndex });
  const steps = $("plan-steps");
  $("plan-explanation").replaceChildren(...found.explanation.map((line) => element("li", line)));
  if (found.kind === "none") {
    state.plan = undefined;
    steps.replaceChildren();
    status("plan-status", "fail", `no rebalance within what you allow: ${found.reason}`);
  } else if (!found.needed) {
    state.plan = found;
    steps.replaceChildren();
    status("plan-status", "ok", `nothing to do: the position meets the ${found.strategy} strategy's target`);
  } else {
    state.plan = found;
    steps.replaceChildren(...found.steps.map((s) => element("li", `${s.text}: ${s.effect}`, { "data-kind": s.action.kind })));
    const after = found.after.healthFactor.value;
    status(
      "plan-status",
      "ok",
      `${found.steps.length} action${found.steps.length === 1 ? "" : "s"}; health factor ${ratio(found.before.healthFactor.value)} -> ${ratio(after)}, ${found.after.pass ? "every check passes" : "still failing"}`,
    );
  }
  $("plan-status").dataset.actions = String(state.plan?.needed ? state.plan.steps.length : 0);
  renderPictures();
  chooseStatement();
}

/**
 * The pictures of the risk card: the position now, or before and after the planned rebalance
 * (the planner's own reports of both, so they are the figures the plan's steps quote).
 */
function renderPictures(): void {
  const box = $("pictures");
  const { market, policy, report } = state;
  if (!market || !policy || !report) {
    box.hidden = true;
    return;
  }
  const planned = state.plan?.needed ? state.plan : undefined;
  const pictures = riskPictures({
    quote: market.quote,
    scenarios: market.scenarios.map((s) => s.name),
    policy,
    before: planned ? planned.before : report,
    ...(planned && { after: planned.after }),
  });
  box.hidden = false;
  box.dataset.state = planned ? "before-after" : "now";
  $("pictures-note").textContent = planned
    ? "Lighter bars and dashed lines: the position now; solid: after the planned rebalance. Red: fails the check."
    : "The position now. Red: fails the check. Plan a rebalance to see it before and after.";
  for (const [id, picture] of [
    ["hf-gauge", pictures.gauge],
    ["loss-bars", pictures.losses],
    ["var-bars", pictures.var],
  ] as const) {
    // Markup built by charts.ts from numbers and escaped text only (no user HTML reaches it).
    $(id).innerHTML = picture.svg;
  }
}

// ---- 5. prove, verify, submit -----------------------------------------------------------------

function updateButtons(): void {
  const s = state.statement;
  $<HTMLButtonElement>("prove").disabled = !s || running.has("prove");
  $<HTMLButtonElement>("verify").disabled = !state.made || running.has("verify");
  $<HTMLButtonElement>("submit").disabled = !state.made || state.made.verified !== true || running.has("submit");
}

function progressLog(stage: string, text: string): void {
  $("progress-log").append(element("li", text, { "data-stage": stage }));
}

/** The instance's artifacts as the high-level API takes them: URLs on this server, and its verification key. */
async function circuitArtifacts(instance: ServedInstance): Promise<CircuitArtifacts> {
  return {
    instance: instance.instance,
    wasm: instance.files.wasm,
    zkey: instance.files.zkey,
    verificationKey: await verificationKey(instance),
    template: instance.template,
    params: instance.params,
  };
}

async function prove(): Promise<void> {
  const s = state.statement;
  if (!s || !prover) throw new Error("nothing to prove");
  const { config, market, policy } = state;
  const context = gateContext(BigInt(config!.chainId), config!.contracts.RebalanceGate);
  // The new opening is encrypted to the gate's current keeper key (docs/enforcement.md), read
  // from the gate itself: the gate refuses any other, and a rotated key is picked up here.
  const [keeperX, keeperY] = (await contracts().gate.getFunction("keeperKey")()) as [bigint, bigint];
  const keeperKey = validateKeeperPublicKey([keeperX, keeperY], "the gate's keeperKey()", "keeperKey");
  const artifacts = await circuitArtifacts(s.instance);

  const box = $("progress");
  const text = $("progress-text");
  const fill = box.querySelector<HTMLElement>(".fill")!;
  $("progress-log").replaceChildren();
  status("proof-status", "pending", "");
  status("verify-status", "", "");
  status("submit-status", "", "");
  state.made = undefined;
  updateButtons();

  // The page's own thread keeps ticking while the worker proves: the longest gap between ticks
  // is how long the page was unresponsive (kept on the element for tests and the curious).
  let last = performance.now();
  let maxStall = 0;
  let stage = "loading";
  let stageStarted = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last);
    last = now;
    if (stage === "witness" || stage === "proof") text.textContent = `${stage === "witness" ? "computing the witness" : "computing the proof"}... ${seconds(now - stageStarted)}`;
  }, 50);
  const setStage = (next: string) => {
    stage = next;
    stageStarted = performance.now();
    box.dataset.stage = next;
  };

  try {
    setStage("loading");
    const bytes: Record<string, { loaded: number; total: number | null }> = {};
    // Loaded here for the download progress; proveRebalance then finds the instance loaded.
    const loaded = await prover.load(artifacts, {
      onProgress: (p) => {
        bytes[p.artifact] = p;
        const got = Object.values(bytes).reduce((sum, b) => sum + b.loaded, 0);
        const all = Object.values(bytes).reduce((sum, b) => sum + (b.total ?? b.loaded), 0);
        fill.style.width = all > 0 ? `${Math.round((100 * got) / all)}%` : "0";
        text.textContent = `downloading the circuit: ${(got / 2 ** 20).toFixed(1)} of ${(all / 2 ** 20).toFixed(1)} MiB`;
      },
    });
    fill.style.width = "";
    progressLog("loaded", `${s.instance.instance} ready: ${((loaded.bytes.wasm + loaded.bytes.zkey) / 2 ** 20).toFixed(1)} MiB in ${seconds(loaded.timings.totalMs)}`);
    last = performance.now();
    maxStall = 0;
    const timings = { witnessMs: 0, proofMs: 0 };
    // The high-level API: it checks the transition as the circuit will (a clear error instead of an
    // unprovable witness), builds the witness input and proves in the page's Web Worker.
    const proof = await proveRebalance({ transition: s.transition, market: market!, policy: policy!, keeperKey, context }, artifacts, {
      prover,
      onProgress: (next, elapsedMs) => {
        setStage(next);
        progressLog(next, `${next} at ${seconds(elapsedMs)}`);
        if (next === "proof") timings.witnessMs = elapsedMs;
        if (next === "done") {
          timings.proofMs = elapsedMs - timings.witnessMs;
          text.textContent = `proof done in ${seconds(elapsedMs)}`;
        }
      },
    });
    state.made = { statement: s, proof, verified: null };
    const total = timings.witnessMs + timings.proofMs;
    status(
      "proof-status",
      "proved",
      `proved in the browser in ${seconds(total)} (witness ${seconds(timings.witnessMs)}, proof ${seconds(timings.proofMs)}); the page never stalled more than ${Math.round(maxStall)} ms`,
    );
    const el = $("proof-status");
    el.dataset.instance = s.instance.instance;
    el.dataset.witnessMs = timings.witnessMs.toFixed(0);
    el.dataset.proofMs = timings.proofMs.toFixed(0);
    el.dataset.loadMs = loaded.timings.totalMs.toFixed(0);
    el.dataset.maxStallMs = maxStall.toFixed(0);
  } catch (error) {
    setStage("error");
    text.textContent = "";
    throw error;
  } finally {
    clearInterval(ticker);
  }
}

function verificationKey(instance: ServedInstance): Promise<VerificationKey> {
  let key = state.vkeys.get(instance.instance);
  if (!key) {
    key = getJson<VerificationKey>(instance.files.vkey);
    state.vkeys.set(instance.instance, key);
    key.catch(() => state.vkeys.delete(instance.instance));
  }
  return key;
}

/** Verifies the proof in the page: the Groth16 proof, and that its named fields are what its public signals say. */
async function verify(): Promise<void> {
  const made = state.made;
  if (!made) throw new Error("no proof to verify");
  const started = performance.now();
  const verdict = await checkRebalanceProof(made.proof, await circuitArtifacts(made.statement.instance));
  made.verified = verdict.valid;
  status(
    "verify-status",
    verdict.valid ? "valid" : "invalid",
    verdict.valid
      ? `valid: verified in this page in ${seconds(performance.now() - started)}; it moves the gate from commitment ${short(hex(made.proof.oldCommitment))} to ${short(hex(made.proof.newCommitment))} at nonce ${made.proof.nonce}`
      : `INVALID: ${verdict.problem}`,
  );
}

async function send(signer: JsonRpcSigner, to: string, data: string, what: string): Promise<TransactionReceipt> {
  const tx = await signer.sendTransaction({ to, data });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`${what}: the transaction failed`);
  return receipt;
}

async function submit(): Promise<void> {
  const made = state.made;
  if (!made || made.verified !== true) throw new Error("verify the proof first");
  const s = made.statement;
  // At once (before the first await): a click always replaces what the last attempt said.
  for (const key of Object.keys($("submit-status").dataset)) delete $("submit-status").dataset[key];
  status("submit-status", "pending", "sending: confirm each transaction in your wallet...");
  const { gate, oracle, token, instrumentToken } = contracts();
  if (!(await oracle.getFunction("isFresh")(s.epoch))) throw new Error(`epoch ${s.epoch} is no longer fresh: fetch the latest market and prove again`);
  const signer = await signerFor(s.position.account);
  const gateAddress = await gate.getAddress();
  let extraGas = 0n;
  // Deposits (positive flows, asset tokens and option tokens) are pulled from the account by the
  // gate: approve each of them first.
  const approve = async (contract: Contract, amount: bigint) => {
    const approval = await send(signer, await contract.getAddress(), contract.interface.encodeFunctionData("approve", [gateAddress, amount]), "approve");
    extraGas += approval.gasUsed;
  };
  for (const [i, flow] of s.transition.flows.entries()) if (flow > 0n) await approve(token(i), flow);
  for (const [k, flow] of s.transition.instrumentFlows.entries()) {
    if (flow <= 0n) continue;
    const option = instrumentToken(k);
    if (!option) throw new Error(`the gate has no option token for ${state.market!.instruments[k]!.id}`);
    await approve(option, flow);
  }
  const receipt =
    s.kind === "register"
      ? await send(signer, gateAddress, encodeRegister(s.epoch, made.proof), "register")
      : await send(signer, gateAddress, encodeRebalance(s.epoch, made.proof), "rebalance");
  const events = receipt.logs.flatMap((log) => {
    try {
      const parsed = gateInterface.parseLog(log);
      return parsed ? [parsed] : [];
    } catch {
      return [];
    }
  });
  const event = events.find((e) => e.name === (s.kind === "register" ? "PositionRegistered" : "Rebalanced"));
  if (!event) throw new Error(`the transaction emitted no ${s.kind === "register" ? "PositionRegistered" : "Rebalanced"} event`);
  const newPosition = s.next;
  const commitment = commitPosition(newPosition, newPosition.salt!, gateLayout());
  const onChain = (await gate.getFunction("commitmentOf")(newPosition.account)) as bigint;
  if (onChain !== commitment) throw new Error("the gate holds another commitment than this position's");

  // The position the gate now commits to: keep it (with its salt), it is the only way to prove again.
  showPosition(newPosition);
  state.plan = undefined;
  $("plan-steps").replaceChildren();
  $("plan-explanation").replaceChildren();
  $("wallet").textContent = "";
  status("plan-status", "", "");
  delete $("plan-status").dataset.actions;
  status(
    "submit-status",
    "done",
    `${event.name} in block ${receipt.blockNumber} (tx ${short(receipt.hash)}, ${receipt.gasUsed.toLocaleString("en-US")} gas${extraGas ? ` + ${extraGas.toLocaleString("en-US")} for approvals` : ""}); the gate now commits to ${short(hex(commitment))}. Save the new position: its salt is needed to prove again.`,
  );
  const el = $("submit-status");
  el.dataset.event = event.name;
  el.dataset.tx = receipt.hash;
  el.dataset.commitment = commitment.toString();
  el.dataset.gas = receipt.gasUsed.toString();
  await check();
}

// ---- 6. audit inclusion -----------------------------------------------------------------------

/** Audit figures are quote units * 10^8 (QUANTITY_DECIMALS; docs/audit.md). */
const QUANTITY_SCALE = 10n ** BigInt(QUANTITY_DECIMALS);

/** An audit figure in the quote currency. */
const auditMoney = (figure: bigint): string => money(figure / QUANTITY_SCALE);

function openPublishedAudit(text: string, name: string): void {
  state.published = undefined;
  status("audit-published", "", "");
  const report = parseAuditReport(parseJson(text, name), name);
  state.published = { epoch: report.epoch, root: report.root };
  status(
    "audit-published",
    "ok",
    `published audit (${name}): epoch ${report.epoch}, ${report.root.sums.positions} positions, root ${short(hex(report.root.hash))}; the inclusion proof must lead to this root`,
  );
}

/** Checks the inclusion proof against the page's own position, market and policy: nothing leaves the page. */
async function checkAuditInclusion(): Promise<void> {
  const figures = $("inclusion-figures");
  figures.replaceChildren();
  status("inclusion-status", "pending", "checking...");
  if (!state.market || !state.policy) await fetchMarket();
  const market = state.market!;
  const text = $<HTMLTextAreaElement>("inclusion-json").value;
  if (!text.trim()) throw new Error("open or paste an inclusion proof first");
  if (!$<HTMLTextAreaElement>("position-json").value.trim()) throw new Error("load your position first (1. Your position): the proof is checked against it");
  const file = parseInclusionFile(parseJson(text, "inclusion proof"), "inclusion proof");
  const position = readPosition();
  // The keys come from this page's server, never from the file, which only names its circuits.
  const geometry = auditGeometry(file.instances, (name) => {
    const served = state.instances.find((i) => i.instance === name);
    return served && { name: served.instance, template: served.template, params: served.params };
  });
  checkDeclaredGeometry(file, geometry, "inclusion proof");
  const [batch, merge, top] = await Promise.all([file.instances.batch, file.instances.merge, file.instances.top].map((name) => verificationKey(instanceNamed(name))));
  let result: InclusionResult;
  try {
    result = await checkInclusion(file, position, market, state.policy!, { batch: batch!, merge: merge!, top: top! }, state.published?.root);
  } catch (error) {
    if (!(error instanceof AuditTreeError)) throw error;
    const epochs = file.epoch === market.epoch ? "" : ` (the audit is of epoch ${file.epoch}; this page holds epoch ${market.epoch}'s market)`;
    status("inclusion-status", "not-included", `Not included: ${error.message}${epochs}`);
    return;
  }
  const counted = result.figures;
  const totals = result.root.sums;
  status(
    "inclusion-status",
    "included",
    `Included: account ${position.account} is counted in the audit of epoch ${file.epoch} (root ${short(hex(result.root.hash))}); ${state.published ? "the root is the published audit's" : "compare the root with the published audit.json"}`,
  );
  const figure = (name: string, value: string, id: string) => figures.append(element("dt", name), element("dd", value, { id }));
  figure("counted: collateral", auditMoney(counted.collateral), "audit-collateral");
  figure("counted: debt", auditMoney(counted.debt), "audit-debt");
  figure(
    "counted: policy",
    counted.fails === 1n ? `failing${result.countedAsFailingWhilePassing ? " (although it passes: an audit may overstate failures, never understate them)" : ""}` : "passing",
    "audit-verdict",
  );
  figure("audit: positions", `${totals.positions} (${totals.fails} failing the policy)`, "audit-positions");
  figure("audit: total collateral", auditMoney(totals.collateral), "audit-total-collateral");
  figure("audit: total debt", auditMoney(totals.debt), "audit-total-debt");
}

// ---- wiring -----------------------------------------------------------------------------------

action("connect-wallet", "wallet-status", connectWallet);
action("load-example", "position-status", loadExample);
action("check", "position-status", check);
action("refresh-market", "market-status", fetchMarket);
action("dev-shock", "market-status", devShock);
action("plan", "plan-status", makePlan);
action("prove", "proof-status", prove);
action("verify", "verify-status", verify);
action("submit", "submit-status", submit);
action("check-inclusion", "inclusion-status", checkAuditInclusion);
$("save-position").addEventListener("click", savePosition);
$<HTMLInputElement>("position-file").addEventListener("change", (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  // Read here, by the browser: the file is not uploaded anywhere.
  file
    .text()
    .then(
      (text) => {
        $<HTMLTextAreaElement>("position-json").value = text;
        return check();
      },
      (error: unknown) => status("position-status", "error", describe(error)),
    )
    .catch((error: unknown) => status("position-status", "error", describe(error)));
});

onFile("inclusion-file", "inclusion-status", (text) => {
  $<HTMLTextAreaElement>("inclusion-json").value = text;
  return checkAuditInclusion();
});
onFile("audit-file", "audit-published", (text, name) => {
  openPublishedAudit(text, name);
  if (!$<HTMLTextAreaElement>("inclusion-json").value.trim()) return;
  checkAuditInclusion().catch((error: unknown) => status("inclusion-status", "error", describe(error)));
});

connect()
  .then(fetchMarket)
  .then(() => {
    document.body.dataset.ready = "true";
  })
  .catch((error: unknown) => {
    console.error(error);
    status("chain-status", "error", describe(error));
  });
