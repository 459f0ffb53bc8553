/** Where a proving key came from; recorded in build manifests and audit reports. */

/** Where a ptau came from: a public ceremony file, a user's file, or the development one. */
export type PtauOrigin = "user" | "ceremony" | "development";

/**
 * A development key has one phase-2 contribution made by this machine's `zks setup`: whoever ran
 * it can forge proofs, so it is for tests and local chains only. A ceremony key is the finalized
 * zkey of a multi-party phase 2 (`zks ceremony`), accepted by `zks setup --zkey`.
 */
export type KeySource =
  | { kind: "development"; contributions: 1 }
  | {
      kind: "ceremony";
      contributions: number;
      beacon: string;
      transcriptSha256: string;
      /**
       * Phase 1 of the key. Whoever made the ptau knows tau and can forge proofs whatever phase 2
       * does, so only a public ceremony file (origin "ceremony": its blake2b is in
       * CEREMONY_BLAKE2B) makes a deployable key; "user" is any other file, installed only with
       * --untrusted-ptau (a rehearsal). Absent in keys installed before it was recorded: untrusted.
       */
      ptau?: { power: number; blake2b: string; origin: PtauOrigin };
    };
