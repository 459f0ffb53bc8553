/**
 * An injected EIP-1193 wallet for pages under test: `window.ethereum` with `request`, `on` and
 * `removeListener`, as a wallet extension provides. Its requests cross to Node through
 * playwright's exposeFunction and go to a JSON-RPC node (`hardhat node`), which signs
 * eth_sendTransaction with its unlocked account: the wallet's one account. No key enters the
 * page, as with a real wallet.
 *
 * The test plays the user: `reject(method)` makes the next such request fail with EIP-1193's
 * 4001 (user rejected), `setChainId` puts the wallet on another chain (and `allowSwitch` decides
 * whether wallet_switchEthereumChain works), `emit` fires accountsChanged / chainChanged, and
 * `requests` lists every method the page asked for.
 */
import type { Page } from "playwright-core";

export interface InjectedWalletOptions {
  /** The node that signs and answers. */
  rpcUrl: string;
  /** The wallet's account (one of the node's unlocked accounts). */
  account: string;
  /** The chain the wallet says it is on (default: the node's). */
  chainId?: bigint;
  /** Whether wallet_switchEthereumChain to the node's chain succeeds (default true). */
  allowSwitch?: boolean;
}

export interface InjectedWallet {
  /** Every request the page made, in order. */
  readonly requests: { method: string; params: unknown[]; at: number }[];
  /** The next request of `method` fails as if the user clicked Reject. */
  reject(method: string): void;
  setChainId(chainId: bigint | undefined): void;
  setAccount(account: string): void;
  /** Fires an EIP-1193 event in the page (accountsChanged, chainChanged). */
  emit(event: string, payload: unknown): Promise<void>;
}

interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

/** window.ethereum, defined before the page's scripts run; requests go to Node through __zksWalletRequest. */
const INIT_SCRIPT = `(() => {
  const listeners = new Map();
  const ethereum = {
    isZksTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__zksWalletRequest(method, params ?? []);
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code, data: answer.error.data });
      return answer.result;
    },
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(listener);
      return ethereum;
    },
    removeListener(event, listener) {
      listeners.get(event)?.delete(listener);
      return ethereum;
    },
  };
  Object.defineProperty(window, "ethereum", { value: ethereum, configurable: false, writable: false });
  Object.defineProperty(window, "__zksWalletEmit", { value: (event, payload) => { for (const listener of listeners.get(event) ?? []) listener(payload); } });
})();`;

let nextId = 1;

async function rpc(url: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: WireError }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }) });
  return (await response.json()) as { result?: unknown; error?: WireError };
}

/** Installs the wallet in `page` (before its scripts run: call it before page.goto). */
export async function injectWallet(page: Page, options: InjectedWalletOptions): Promise<InjectedWallet> {
  let account = options.account;
  let chainOverride = options.chainId;
  const allowSwitch = options.allowSwitch ?? true;
  const rejections = new Set<string>();
  const requests: { method: string; params: unknown[]; at: number }[] = [];
  const nodeChainId = async () => BigInt((await rpc(options.rpcUrl, "eth_chainId", [])).result as string);

  const handle = async (method: string, params: unknown[]): Promise<{ result?: unknown; error?: WireError }> => {
    requests.push({ method, params, at: Date.now() });
    if (rejections.delete(method)) return { error: { code: 4001, message: "User rejected the request." } };
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return { result: [account] };
      case "eth_chainId":
        return { result: `0x${(chainOverride ?? (await nodeChainId())).toString(16)}` };
      case "net_version":
        return { result: (chainOverride ?? (await nodeChainId())).toString() };
      case "wallet_switchEthereumChain": {
        const wanted = BigInt((params[0] as { chainId: string }).chainId);
        if (!allowSwitch || wanted !== (await nodeChainId())) return { error: { code: 4902, message: `Unrecognized chain ID ${wanted}.` } };
        chainOverride = undefined;
        return { result: null };
      }
      case "eth_sendTransaction": {
        // A wallet signs only as its own account.
        const tx = params[0] as { from?: string };
        if (tx.from && tx.from.toLowerCase() !== account.toLowerCase()) return { error: { code: 4100, message: `the wallet does not hold ${tx.from}` } };
        if (chainOverride !== undefined) return { error: { code: 4901, message: "the wallet is not connected to this chain" } };
        return rpc(options.rpcUrl, method, [{ ...tx, from: account }]);
      }
      case "eth_sign":
      case "personal_sign":
      case "eth_signTypedData_v4":
        return { error: { code: 4200, message: `${method} is not supported by the test wallet` } };
      default:
        return rpc(options.rpcUrl, method, params);
    }
  };

  await page.exposeFunction("__zksWalletRequest", (method: string, params: unknown[]) => handle(method, params ?? []));
  // A string, not a function: tsx compiles this file with esbuild's keepNames, whose __name()
  // helper a serialized function would take into the page, where it does not exist.
  await page.addInitScript({ content: INIT_SCRIPT });

  return {
    requests,
    reject: (method) => void rejections.add(method),
    setChainId: (chainId) => void (chainOverride = chainId),
    setAccount: (next) => void (account = next),
    emit: (event, payload) => page.evaluate(`window.__zksWalletEmit(${JSON.stringify(event)}, ${JSON.stringify(payload)})`),
  };
}
