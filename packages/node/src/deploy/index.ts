/** Deploying the gate contracts from compiled artifacts with ethers (no hardhat): `@zk-solvency/node/deploy`. */
export { deployStack, describeDeployment, planStack, type Deployment, type DeployStackOptions, type StackPlan } from "./deploy-stack.ts";
export { readContractArtifact, readVerifierContract, type ContractArtifact, type StackContract } from "./contract-artifacts.ts";
export {
  DEFAULT_LIQUIDATION_BONUS,
  DEFAULT_LIQUIDATION_WINDOW,
  DEMO_KEEPER_SEED,
  demoKeeperKey,
  enforcementRefusal,
  MAX_LIQUIDATION_BONUS,
  MAX_LIQUIDATION_WINDOW,
  readKeeperKey,
  readKeeperPublicKey,
  type KeeperKeyInput,
} from "./keeper-key.ts";
export { deployUniswapV2Factory } from "./uniswap-v2-factory.ts";
export { LOCAL_CHAIN_IDS, type VerifierKey } from "../setup/deploy-keys.ts";
