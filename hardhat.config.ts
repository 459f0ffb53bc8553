import { createRequire } from "node:module";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import { defineConfig } from "hardhat/config";

// solc comes from the `solc` npm package, so contracts compile offline and every machine
// uses exactly the compiler pinned in package.json.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatEthers],
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: { optimizer: { enabled: true, runs: 1000 }, evmVersion: "cancun" },
  },
  paths: { sources: "packages/contracts/contracts" },
});
