import type { Command } from "commander";
export function registerCommit(_program: Command): void {}
