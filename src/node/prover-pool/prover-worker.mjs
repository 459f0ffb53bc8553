// Entry of a prover pool thread. The toolkit is TypeScript run through tsx (as bin/zks.js
// does for the CLI), and a worker thread starts without the parent's loader hooks.
import { register } from "tsx/esm/api";
register();
await import("./prover-worker.ts");
