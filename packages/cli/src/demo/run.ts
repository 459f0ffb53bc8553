/**
 * `zks demo`: the whole story on an embedded chain, with real proofs and real custody
 * (docs/custody.md). Deploy the contracts (a Uniswap v2 factory and pools from the published
 * artifacts, a lender vault, the gate), publish epoch 42, register a position as a proven deposit
 * and borrow from the empty position, shock WETH by 25% in epoch 43 (the pool follows), let the
 * planner find a rebalance, prove it and have the gate accept it (its swaps on the pool, its
 * repayments to the lender, from the position's own backing), check the gate's backing, then
 * record an audit claim for the new position at epoch 43. Every transition encrypts the new
 * position's opening to the protocol keeper's key (docs/enforcement.md); the demo's keeper key is
 * derived from a public seed (DEMO_KEEPER_SEED) so that runs are reproducible, and after each
 * transition the demo decrypts the gate's OpeningEncrypted event with it, as a keeper would.
 *
 * Each step is handed to `onStep` as soon as it is done; the CLI prints it.
 */
import { ZeroAddress, type Contract, type Signer } from "ethers";
import { deployUniswapV2Factory, selectInstance, proveBuiltInstance } from "@zk-solvency/node";
import { DEMO_KEEPER_SEED, demoKeeperKey } from "@zk-solvency/node/deploy";
import { addLiquidity, createPair, getAmountOut, reservesOf, gateEnforcement, gateArguments, gateContext } from "@zk-solvency/sdk/chain";
import { marketRoot, policyHash, commitPosition, randomSalt } from "@zk-solvency/sdk/commitment";
import { formatHuman, QUANTITY_DECIMALS, SetupError, ZksError } from "@zk-solvency/sdk/core";
import { decryptOpening } from "@zk-solvency/sdk/encryption";
import type { Position } from "@zk-solvency/sdk/inputs";
import { checkPosition, type RiskReport } from "@zk-solvency/sdk/model";
import type { ZkProof } from "@zk-solvency/sdk/prover";
import { rebalanceInput, solvencyInput } from "@zk-solvency/sdk/prover";
import { describeMovements, registrationTransition, checkName, plan } from "@zk-solvency/sdk/rebalance";
import { SWAP_SLOTS, type Movements, type Transition } from "@zk-solvency/sdk/rebalance";
import { buildCircuits, type BuildProgress } from "@zk-solvency/node/setup";
import { deploy, send, startChain } from "./chain.ts";
import { approveFlows, arbitrageToPrice, checkBacking, DEMO_DEBT_ASSET, LENDER_LIQUIDITY, LENDER_RATE_PER_SECOND, poolDepth, withDebtIndex } from "./custody-steps.ts";
import { defaultExamplesDir, loadScenario, SHOCK_PERCENT, shockedMarket } from "./scenario.ts";

export const DEMO_INSTANCES = { solvency: "solvency-3x3x16", rebalance: "rebalance-3x3x16" } as const;
/** Seconds a published market stays fresh on the demo's oracle. */
export const FRESHNESS_SECONDS = 3_600;
/** The demo gate's liquidation terms (governance sets them; docs/enforcement.md): a 5% bonus, one hour's grace. */
export const DEMO_LIQUIDATION_BONUS_BPS = 500n;
export const DEMO_LIQUIDATION_WINDOW_SECONDS = 3_600n;
/**
 * The demo's keeper key, from a public seed (the same key every run, so the output is
 * reproducible; anyone can derive its secret: never one to deploy). It lives with deploy, which
 * refuses it on a chain that is not local without loading the demo.
 */
export { DEMO_KEEPER_SEED, demoKeeperKey };

export interface DemoOptions {
  ptau?: string;
  examplesDir?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (message: string) => void;
  onBuildProgress?: (event: BuildProgress) => void;
  onStep?: (step: DemoStep) => void;
}

/** A health factor as a number (4 decimals), null with no debt. */
export type HealthFactor = number | null;

/** The opening the gate published for a transition (its OpeningEncrypted event), as the keeper read it. */
export interface EncryptedOpeningStep {
  /** Field elements of ciphertext in the event. */
  ciphertextWords: number;
  keyGeneration: number;
  /** The keeper's secret decrypted it to the committed position (decryptOpening checks the commitment). */
  decrypted: boolean;
}

interface Base {
  ok: true;
  seconds: number;
}
export type DemoStep = Base &
  (
    | { step: "setup"; instances: { instance: string; constraints: number; built: boolean }[] }
    | {
        step: "deploy";
        chainId: string;
        contracts: { name: string; address: string; gas: number }[];
        gas: number;
        funded: { account: string; amounts: Record<string, string> };
        /** The keeper key the gate was deployed with (from DEMO_KEEPER_SEED) and its liquidation terms. */
        keeper: { publicKey: [string, string]; seed: string; liquidationBonusBps: number; liquidationWindowSeconds: number };
      }
    | { step: "publish"; epoch: number; marketRoot: string; timestamp: number; gas: number }
    | {
        step: "register";
        account: string;
        epoch: number;
        healthFactor: HealthFactor;
        pass: boolean;
        commitment: string;
        instance: string;
        proofSeconds: number;
        gas: number;
        tokenGas: number;
        /** What the registration brought, e.g. "deposit 20 WETH". */
        movements: string[];
        encryptedOpening: EncryptedOpeningStep;
      }
    | {
        step: "shock";
        epoch: number;
        asset: string;
        percent: number;
        price: { before: string; after: string };
        marketRoot: string;
        gas: number;
        healthFactor: { before: HealthFactor; after: HealthFactor };
        pass: boolean;
        failures: string[];
        belowTrigger: boolean;
      }
    | { step: "plan"; strategy: string; actions: string[]; flows: Record<string, string>; explanation: string[] }
    | {
        step: "rebalance";
        epoch: number;
        instance: string;
        proofSeconds: number;
        gas: number;
        tokenGas: number;
        healthFactor: { before: HealthFactor; after: HealthFactor };
        pass: { before: boolean; after: boolean };
        nonce: number;
        commitment: string;
        /** The account's wallet per moved token, whole tokens. */
        wallet: Record<string, { before: string; after: string }>;
        encryptedOpening: EncryptedOpeningStep;
      }
    | { step: "audit"; epoch: number; proofSeconds: number; gas: number; isSolvent: boolean }
  );

/** A step before its status and time are added. */
type StepBody = DemoStep extends infer S ? (S extends DemoStep ? Omit<S, "ok" | "seconds"> : never) : never;

export interface DemoResult {
  ok: true;
  steps: DemoStep[];
  /** Wall time of the whole demo, setup included. */
  seconds: number;
  totalGas: number;
  proofSeconds: number;
}

const hfOf = (r: RiskReport): HealthFactor => (r.healthFactor.value === null ? null : Number(r.healthFactor.value) / 10_000);
export const formatHealthFactor = (hf: HealthFactor): string => (hf === null ? "none (no debt)" : hf.toFixed(4));
const proofSecondsOf = (p: ZkProof & { timings: { witnessMs: number; proofMs: number } }): number => Number(((p.timings.witnessMs + p.timings.proofMs) / 1000).toFixed(2));

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const steps: DemoStep[] = [];
  let stepStarted = performance.now();
  const done = (step: StepBody): void => {
    const full = { ok: true, seconds: Number(((performance.now() - stepStarted) / 1000).toFixed(2)), ...step } as DemoStep;
    steps.push(full);
    options.onStep?.(full);
    stepStarted = performance.now();
  };

  const scenario = loadScenario(options.examplesDir ?? defaultExamplesDir());
  const { market, policy, position, allowance } = scenario;

  // 0. The circuits: built once (cached by content hash), reused afterwards.
  const build = await buildCircuits({ instances: [DEMO_INSTANCES.solvency, DEMO_INSTANCES.rebalance], ptau: options.ptau, log, onProgress: options.onBuildProgress });
  done({
    step: "setup",
    instances: build.instances.map(({ manifest, compiled, setUp }) => ({ instance: manifest.instance, constraints: manifest.nConstraints, built: compiled || setUp })),
  });
  const solvency = selectInstance("Solvency", market, DEMO_INSTANCES.solvency);
  const rebalance = selectInstance("Rebalance", market, DEMO_INSTANCES.rebalance);
  const layout = solvency.layout;
  const verifierNames = [solvency.artifacts.manifest.verifierContract, rebalance.artifacts.manifest.verifierContract];
  if (verifierNames.some((n) => !n)) throw new SetupError("the demo instances have no Solidity verifier; run `zks setup --force --instance solvency-3x3x16 rebalance-3x3x16`");

  // 1. The chain, its clock ten minutes after epoch 42's timestamp so that epoch is fresh.
  const chain = await startChain(
    new Date((market.timestamp + 600) * 1000),
    ["MarketOracle", "RebalanceGate", "AuditRegistry", "LenderVault", "TestToken", ...(verifierNames as string[])],
    log,
  );
  try {
    const { ethers } = chain;
    const [owner, account] = chain.signers as [Signer, Signer];
    const ownerAddress = await owner.getAddress();
    const accountAddress = await account.getAddress();
    if (accountAddress.toLowerCase() !== position.account.toLowerCase()) {
      throw new SetupError(`the example position's account ${position.account} is not the chain's account #1 (${accountAddress})`);
    }

    // 2. Contracts: a mintable token per market asset and per option the position holds, a real
    // Uniswap v2 factory with a pool per asset against the quote stablecoin (seeded at the
    // oracle's prices), a lender vault for the debt asset funded by a depositor, the verifiers,
    // the oracle, the gate and the registry. Nothing is ever minted to the gate.
    const contracts: { name: string; address: string; gas: number }[] = [];
    const deployed = async (label: string, name: string, args: unknown[]): Promise<Contract> => {
      const d = await deploy(ethers, name, args, owner);
      contracts.push({ name: label, address: d.address, gas: Number(d.gas) });
      return d.contract;
    };
    const tokens: Contract[] = [];
    for (const asset of market.assets) tokens.push(await deployed(`TestToken ${asset.symbol}`, "TestToken", [`Test ${asset.symbol}`, asset.symbol, asset.decimals]));
    const tokenAddresses = await Promise.all(tokens.map((t) => t.getAddress()));
    const optionTokens: (Contract | undefined)[] = [];
    for (const [k, instrument] of market.instruments.entries()) {
      optionTokens.push(position.quantities[k]! > 0n ? await deployed(`option token ${instrument.id}`, "TestToken", [instrument.id, instrument.id, QUANTITY_DECIMALS]) : undefined);
    }
    const quote = market.assets.findIndex((a) => a.symbol === DEMO_DEBT_ASSET);
    if (quote < 0) throw new SetupError(`the demo borrows ${DEMO_DEBT_ASSET}, which this market does not list`);
    const factory = await deployUniswapV2Factory(owner);
    const factoryReceipt = await ethers.provider.getTransactionReceipt((await ethers.provider.getBlock("latest"))!.transactions[0]!);
    contracts.push({ name: "UniswapV2Factory (@uniswap/v2-core)", address: await factory.getAddress(), gas: Number(factoryReceipt!.gasUsed) });
    const pools = new Map<number, Contract>();
    for (const [i, asset] of market.assets.entries()) {
      if (i === quote) continue;
      const pair = await createPair(factory, tokenAddresses[i]!, tokenAddresses[quote]!);
      const depth = poolDepth(asset.decimals);
      const quoteDepth = (depth * asset.price * 10n ** BigInt(market.assets[quote]!.decimals)) / (10n ** BigInt(asset.decimals) * market.assets[quote]!.price);
      await send(tokens[i]!, owner, "mint", ownerAddress, depth);
      await send(tokens[quote]!, owner, "mint", ownerAddress, quoteDepth);
      await addLiquidity(pair, owner, tokenAddresses[i]!, depth, tokenAddresses[quote]!, quoteDepth);
      pools.set(i, pair);
    }
    const lender = await deployed(`LenderVault ${DEMO_DEBT_ASSET}`, "LenderVault", [
      tokenAddresses[quote]!,
      `zks lender ${DEMO_DEBT_ASSET}`,
      `zl${DEMO_DEBT_ASSET}`,
      LENDER_RATE_PER_SECOND,
      ownerAddress,
    ]);
    const lenderLiquidity = LENDER_LIQUIDITY * 10n ** BigInt(market.assets[quote]!.decimals);
    await send(tokens[quote]!, owner, "mint", ownerAddress, lenderLiquidity);
    await send(tokens[quote]!, owner, "approve", await lender.getAddress(), lenderLiquidity);
    await send(lender, owner, "deposit", lenderLiquidity, ownerAddress);
    const solvencyVerifier = await deployed(verifierNames[0]!, verifierNames[0]!, []);
    const rebalanceVerifier = await deployed(verifierNames[1]!, verifierNames[1]!, []);
    const oracle = await deployed("MarketOracle", "MarketOracle", [ownerAddress, ownerAddress, FRESHNESS_SECONDS]);
    const hash = policyHash(policy);
    const keeper = demoKeeperKey();
    const gate = await deployed("RebalanceGate", "RebalanceGate", [
      await oracle.getAddress(),
      tokenAddresses,
      await Promise.all(optionTokens.map(async (t) => (t ? t.getAddress() : ZeroAddress))),
      await Promise.all(market.assets.map(async (_, i) => (i === quote ? lender.getAddress() : ZeroAddress))),
      await factory.getAddress(),
      rebalance.layout.nSwaps ?? SWAP_SLOTS,
      hash,
      gateEnforcement(keeper.publicKey, DEMO_LIQUIDATION_BONUS_BPS, DEMO_LIQUIDATION_WINDOW_SECONDS),
      await rebalanceVerifier.getAddress(),
      ownerAddress,
    ]);
    await send(lender, owner, "setBorrower", await gate.getAddress());
    const registry = await deployed("AuditRegistry", "AuditRegistry", [
      await oracle.getAddress(),
      await gate.getAddress(),
      await solvencyVerifier.getAddress(),
      hash,
      ownerAddress,
    ]);
    // The account's wallet holds what it deposits at registration and what the allowance lets a
    // rebalance use; its option tokens are the position's long options.
    const registerTransition = registrationTransition(position, market, policy);
    const registration = registerTransition as Movements;
    const funded: Record<string, string> = {};
    for (const [i, asset] of market.assets.entries()) {
      const units = allowance.wallet[i]! + (registration.flows[i]! > 0n ? registration.flows[i]! : 0n);
      if (units === 0n) continue;
      await send(tokens[i]!, owner, "mint", accountAddress, units);
      funded[asset.symbol] = formatHuman(units, asset.decimals, 0);
    }
    for (const [k, token] of optionTokens.entries()) {
      if (!token) continue;
      await send(token, owner, "mint", accountAddress, position.quantities[k]!);
      funded[market.instruments[k]!.id] = formatHuman(position.quantities[k]!, QUANTITY_DECIMALS, 0);
    }
    done({
      step: "deploy",
      chainId: chain.chainId.toString(),
      contracts,
      gas: contracts.reduce((s, c) => s + c.gas, 0),
      funded: { account: accountAddress, amounts: funded },
      keeper: {
        publicKey: [keeper.publicKey[0].toString(), keeper.publicKey[1].toString()],
        seed: DEMO_KEEPER_SEED,
        liquidationBonusBps: Number(DEMO_LIQUIDATION_BONUS_BPS),
        liquidationWindowSeconds: Number(DEMO_LIQUIDATION_WINDOW_SECONDS),
      },
    });

    /**
     * The keeper's view of a transition: the gate's latest OpeningEncrypted event for the
     * account, decrypted with the keeper's secret; decryptOpening refuses (throws) unless the
     * opening reproduces the commitment the gate now holds, and it must be `expected`.
     */
    const keeperReads = async (expected: Position, m: typeof market): Promise<EncryptedOpeningStep> => {
      const events = await gate.queryFilter(gate.filters.OpeningEncrypted!(accountAddress));
      const last = events.at(-1) as unknown as { args: [string, bigint, bigint, bigint, bigint[], bigint[]] } | undefined;
      if (!last) throw new Error("the gate published no OpeningEncrypted event for the account");
      const [, commitment, nonce, keyGeneration, ephemeralKey, ciphertext] = last.args;
      const opened = decryptOpening(
        { account: accountAddress, nonce, commitment, ephemeralKey: [ephemeralKey[0]!, ephemeralKey[1]!], ciphertext: [...ciphertext] },
        keeper.secret,
        m,
        layout,
      );
      if (commitPosition(opened, opened.salt!, layout) !== commitPosition(expected, expected.salt!, layout))
        throw new Error("the keeper decrypted another position than the one committed");
      return { ciphertextWords: ciphertext.length, keyGeneration: Number(keyGeneration), decrypted: true };
    };

    // 3. Epoch 42, with the lender's debt index projected to the end of the freshness window (the
    // gate accepts a proof whose index is at least the lender's).
    const projectedIndex = async (at: number): Promise<bigint> => (await lender.getFunction("indexAt")(at + FRESHNESS_SECONDS)) as bigint;
    const market42 = withDebtIndex(market, quote, await projectedIndex(market.timestamp));
    const root42 = marketRoot(market42, layout);
    const publish42 = await send(oracle, owner, "publish", market42.epoch, root42, market42.timestamp);
    done({ step: "publish", epoch: market42.epoch, marketRoot: `0x${root42.toString(16)}`, timestamp: market42.timestamp, gas: Number(publish42) });

    // 4. The owner registers: a Rebalance proof from the empty position whose movements (deposits,
    // a borrow from the lender, the option tokens) bring exactly the position's balances.
    const gateCtx = gateContext(chain.chainId, await gate.getAddress());
    const registryCtx = gateContext(chain.chainId, await registry.getAddress());
    const report42 = checkPosition(position, market42, policy);
    if (!report42.pass) throw new ZksError(`the demo position fails at epoch ${market.epoch}: ${report42.failures.join(", ")}`, 70);
    const registered: Position = registerTransition.next;
    log(`proving the registration at epoch ${market.epoch} with ${rebalance.artifacts.instance}...`);
    const registerProof = await proveBuiltInstance(
      rebalanceInput(registerTransition, market42, policy, rebalance.layout, "demo position", gateCtx, { keeperKey: keeper.publicKey }),
      rebalance.artifacts,
    );
    const registerTokenGas = await approveFlows(registration, tokens, optionTokens, account, await gate.getAddress());
    const registerArgs = gateArguments(registerProof);
    const registerGas = await send(gate, account, "register", market42.epoch, registerArgs.proof, registerArgs.signals);
    done({
      step: "register",
      account: accountAddress,
      epoch: market.epoch,
      healthFactor: hfOf(report42),
      pass: report42.pass,
      commitment: `0x${commitPosition(registered, registered.salt!, layout).toString(16)}`,
      instance: rebalance.artifacts.instance,
      proofSeconds: proofSecondsOf(registerProof),
      gas: Number(registerGas),
      tokenGas: Number(registerTokenGas),
      movements: describeMovements(registration, market),
      encryptedOpening: await keeperReads(registered, market42),
    });

    // 5. The shock: epoch 43, five minutes later, WETH down 25%; arbitrage moves the pool to the
    // new price, as it would on a live chain.
    await ethers.provider.send("evm_increaseTime", [300]);
    await ethers.provider.send("evm_mine", []);
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    const market43 = withDebtIndex(shockedMarket(market, scenario.shocked, now), quote, await projectedIndex(now));
    const root43 = marketRoot(market43, layout);
    const publish43 = await send(oracle, owner, "publish", market43.epoch, root43, market43.timestamp);
    await arbitrageToPrice(pools.get(scenario.shocked)!, tokens[scenario.shocked]!, tokens[quote]!, owner, market43.assets[scenario.shocked]!, market43.assets[quote]!);
    const report43 = checkPosition(registered, market43, policy);
    const belowTrigger = report43.healthFactor.value !== null && report43.healthFactor.value < policy.trigger.healthFactor;
    if (report43.pass && !belowTrigger) throw new ZksError("the shock left the demo position healthy: nothing to show", 70);
    const asset = market.assets[scenario.shocked]!;
    done({
      step: "shock",
      epoch: market43.epoch,
      asset: asset.symbol,
      percent: -Number(SHOCK_PERCENT),
      price: { before: formatHuman(asset.price, market.quote.decimals, 2), after: formatHuman(market43.assets[scenario.shocked]!.price, market.quote.decimals, 2) },
      marketRoot: `0x${root43.toString(16)}`,
      gas: Number(publish43),
      healthFactor: { before: hfOf(report42), after: hfOf(report43) },
      pass: report43.pass,
      failures: report43.failures.map(checkName),
      belowTrigger,
    });

    // 6. The planner, with the pools' quotes for swaps and the lender's index for borrows.
    const reserves = new Map<number, { reserveIn: bigint; reserveOut: bigint; back: { reserveIn: bigint; reserveOut: bigint } }>();
    for (const [i, pair] of pools) {
      reserves.set(i, { ...(await reservesOf(pair, tokenAddresses[i]!)), back: await reservesOf(pair, tokenAddresses[quote]!) });
    }
    const quoteOf = (sell: number, buy: number, amountIn: bigint): bigint => {
      const pool = sell === quote ? reserves.get(buy)?.back : buy === quote ? reserves.get(sell) : undefined;
      return pool ? getAmountOut(amountIn, pool.reserveIn, pool.reserveOut) : 0n;
    };
    const lenderIndex: (bigint | undefined)[] = market.assets.map(() => undefined);
    lenderIndex[quote] = (await lender.getFunction("debtIndex")()) as bigint;
    const found = plan(registered, market43, policy, allowance, { strategy: "threshold", quote: quoteOf, lenderIndex });
    if (found.kind === "none") throw new ZksError(`the planner found no rebalance: ${found.reason}`, 1);
    if (!found.needed) throw new ZksError("the planner says no rebalance is needed", 70);
    const flows: Record<string, string> = {};
    found.movements.flows.forEach((f, i) => {
      if (f !== 0n) flows[market.assets[i]!.symbol] = formatHuman(f, market.assets[i]!.decimals, 0);
    });
    done({ step: "plan", strategy: found.strategy, actions: found.steps.map((s) => s.text), flows, explanation: found.explanation });

    // 7. Prove the rebalance; approve what it deposits; the gate verifies it and moves the tokens:
    // its swaps on the pool, its repayments to the lender, from the position's own backing.
    const next: Position = { ...found.position, nonce: registered.nonce + 1n, salt: randomSalt() };
    const transition: Transition = { old: registered, next, ...found.movements, forced: false, fromEmpty: false };
    log(`proving the rebalance with ${rebalance.artifacts.instance}...`);
    const rebalanceProof = await proveBuiltInstance(
      rebalanceInput(transition, market43, policy, rebalance.layout, "demo position", gateCtx, { keeperKey: keeper.publicKey }),
      rebalance.artifacts,
    );
    const balances = async (): Promise<bigint[]> => Promise.all(tokens.map(async (t) => (await t.getFunction("balanceOf")(accountAddress)) as bigint));
    const walletBefore = await balances();
    const tokenGas = await approveFlows(found.movements, tokens, optionTokens, account, await gate.getAddress());
    const rebalanceArgs = gateArguments(rebalanceProof);
    const rebalanceGas = await send(gate, account, "rebalance", market43.epoch, rebalanceArgs.proof, rebalanceArgs.signals);
    const after = checkPosition(next, market43, policy);
    const walletAfter = await balances();
    const wallet: Record<string, { before: string; after: string }> = {};
    market.assets.forEach((a, i) => {
      if (walletAfter[i] !== walletBefore[i]) wallet[a.symbol] = { before: formatHuman(walletBefore[i]!, a.decimals, 0), after: formatHuman(walletAfter[i]!, a.decimals, 0) };
    });
    const onChainCommitment = (await gate.getFunction("commitmentOf")(accountAddress)) as bigint;
    if (onChainCommitment !== commitPosition(next, next.salt!, layout)) throw new Error("the gate holds another commitment than the new position's");
    await checkBacking(tokens, lender, quote, gate, [next]);
    done({
      step: "rebalance",
      epoch: market43.epoch,
      instance: rebalance.artifacts.instance,
      proofSeconds: proofSecondsOf(rebalanceProof),
      gas: Number(rebalanceGas),
      tokenGas: Number(tokenGas),
      healthFactor: { before: hfOf(report43), after: hfOf(after) },
      pass: { before: report43.pass, after: after.pass },
      nonce: Number(next.nonce),
      commitment: `0x${onChainCommitment.toString(16)}`,
      wallet,
      encryptedOpening: await keeperReads(next, market43),
    });

    // 8. An audit claim for the new position at epoch 43 (Solvency proof bound to the registry).
    log(`proving solvency at epoch ${market43.epoch} for the audit registry...`);
    const claimProof = await proveBuiltInstance(solvencyInput(next, market43, policy, layout, "demo position", registryCtx), solvency.artifacts);
    const claimArgs = gateArguments(claimProof);
    const claimGas = await send(registry, owner, "recordClaim", market43.epoch, claimArgs.proof, claimArgs.signals);
    const isSolvent = (await registry.getFunction("isSolvent")(accountAddress, market43.epoch)) as boolean;
    if (!isSolvent) throw new Error("the registry does not report the account solvent after recording its claim");
    done({ step: "audit", epoch: market43.epoch, proofSeconds: proofSecondsOf(claimProof), gas: Number(claimGas), isSolvent });

    const gasSteps = steps.map((s) => ("gas" in s && typeof s.gas === "number" ? s.gas : 0) + (s.step === "rebalance" || s.step === "register" ? s.tokenGas : 0));
    return {
      ok: true,
      steps,
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      totalGas: gasSteps.reduce((a, b) => a + b, 0),
      proofSeconds: Number(steps.reduce((s, x) => s + ("proofSeconds" in x ? x.proofSeconds : 0), 0).toFixed(2)),
    };
  } finally {
    await chain.close();
  }
}
