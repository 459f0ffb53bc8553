/**
 * Uniswap v2 from the published package (`@uniswap/v2-core`'s build artifacts, the bytecode that
 * is on mainnet): deploy the factory, create pairs, add liquidity, quote `getAmountOut` from
 * reserves exactly as the pair (and the RebalanceGate) compute it. Never a mock.
 *
 * The factory artifact (and its embedded pair bytecode) is loaded on first deployment only, so
 * importing this module costs nothing in the browser.
 */
import { Contract, type ContractRunner, type Signer } from "ethers";

export const UNISWAP_V2_FACTORY_ABI = [
  "function getPair(address tokenA, address tokenB) view returns (address pair)",
  "function createPair(address tokenA, address tokenB) returns (address pair)",
  "function allPairsLength() view returns (uint256)",
  "function feeTo() view returns (address)",
  "event PairCreated(address indexed token0, address indexed token1, address pair, uint256)",
] as const;

export const UNISWAP_V2_PAIR_ABI = [
  "function token0() view returns (address)",
  "function token1() view returns (address)",
  "function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)",
  "function mint(address to) returns (uint256 liquidity)",
  "function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)",
  "function sync()",
  "function balanceOf(address owner) view returns (uint256)",
  "event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)",
] as const;

const TRANSFER_ABI = ["function transfer(address to, uint256 amount) returns (bool)"] as const;

/** The v2 fee: the input counts for 997/1000. */
export const V2_FEE_NUMERATOR = 997n;
export const V2_FEE_DENOMINATOR = 1000n;

/**
 * UniswapV2Library.getAmountOut: `amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997)`,
 * rounded down (0 for an empty input or reserve).
 */
export function getAmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountIn <= 0n || reserveIn <= 0n || reserveOut <= 0n) return 0n;
  const inWithFee = amountIn * V2_FEE_NUMERATOR;
  return (inWithFee * reserveOut) / (reserveIn * V2_FEE_DENOMINATOR + inWithFee);
}

/** The factory's pair of two tokens, as a contract (the zero address if there is none). */
export async function getPair(factory: Contract, tokenA: string, tokenB: string, runner?: ContractRunner): Promise<Contract> {
  const address: string = await factory.getFunction("getPair")(tokenA, tokenB);
  return new Contract(address, UNISWAP_V2_PAIR_ABI, runner ?? factory.runner);
}

/** Creates the pair of two tokens (once) and returns it. */
export async function createPair(factory: Contract, tokenA: string, tokenB: string): Promise<Contract> {
  await (await factory.getFunction("createPair")(tokenA, tokenB)).wait();
  return getPair(factory, tokenA, tokenB);
}

/**
 * Adds liquidity as the v2 router does, without it: transfers both amounts from `provider` to the
 * pair, then `mint`s the LP tokens to `to` (default: the provider).
 */
export async function addLiquidity(pair: Contract, provider: Signer, tokenA: string, amountA: bigint, tokenB: string, amountB: bigint, to?: string): Promise<void> {
  const pairAddress = await pair.getAddress();
  await (await new Contract(tokenA, TRANSFER_ABI, provider).getFunction("transfer")(pairAddress, amountA)).wait();
  await (await new Contract(tokenB, TRANSFER_ABI, provider).getFunction("transfer")(pairAddress, amountB)).wait();
  await (await (pair.connect(provider) as Contract).getFunction("mint")(to ?? (await provider.getAddress()))).wait();
}

/** The pair's reserves of `tokenIn` and of the other token. */
export async function reservesOf(pair: Contract, tokenIn: string): Promise<{ reserveIn: bigint; reserveOut: bigint }> {
  const [[reserve0, reserve1], token0] = await Promise.all([pair.getFunction("getReserves")(), pair.getFunction("token0")()]);
  return tokenIn.toLowerCase() === String(token0).toLowerCase()
    ? { reserveIn: BigInt(reserve0), reserveOut: BigInt(reserve1) }
    : { reserveIn: BigInt(reserve1), reserveOut: BigInt(reserve0) };
}

/** What selling `amountIn` of `tokenIn` on the pair delivers now (`getAmountOut` from its reserves). */
export async function quoteAmountOut(pair: Contract, tokenIn: string, amountIn: bigint): Promise<bigint> {
  const { reserveIn, reserveOut } = await reservesOf(pair, tokenIn);
  return getAmountOut(amountIn, reserveIn, reserveOut);
}

/** floor(sqrt(n)) for bigints (Newton's method). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}

/**
 * The one swap an arbitrageur makes to bring a v2 pool holding `reserveA` of A and `reserveB` of B
 * to the price ratio of `valueA : valueB` (any common value per base unit, e.g. the oracle's),
 * ignoring the fee: keeping x * y = k, A's reserve goes to sqrt(k * valueB / valueA). The whole
 * input stays in the pool (the fee only lowers the output), so the input is the reserve change.
 * `amountIn` is 0 when the pool is already there.
 */
export function arbitrageSwap(reserveA: bigint, reserveB: bigint, valueA: bigint, valueB: bigint): { sellA: boolean; amountIn: bigint; amountOut: bigint } {
  const k = reserveA * reserveB;
  const targetA = isqrt((k * valueB) / valueA);
  const sellA = targetA > reserveA;
  const [reserveIn, reserveOut, targetIn] = sellA ? [reserveA, reserveB, targetA] : [reserveB, reserveA, isqrt((k * valueA) / valueB)];
  const amountIn = targetIn > reserveIn ? targetIn - reserveIn : 0n;
  return { sellA, amountIn, amountOut: getAmountOut(amountIn, reserveIn, reserveOut) };
}
