// Entry of a prover pool thread when the package runs from its TypeScript sources (a checkout of
// the repository): a worker thread starts without the parent's loader hooks, so it registers
// them again (tools/source-mode.mjs). The built package starts dist/prover-pool/prover-worker.js.
await import(new URL("../../../../tools/source-mode.mjs", import.meta.url).href);
await import("./prover-worker.ts");
