/** The input files, read and validated by @zk-solvency/node's workflows (errors name the file and field, exit 2). */
export { loadMarketFile, loadPolicyFile, loadPositionFile } from "@zk-solvency/node";
