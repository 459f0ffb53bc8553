/**
 * The audit proofs' public signals by name, in snarkjs order (outputs, then public inputs), as
 * circuits/instances.json declares them for AuditBatch and AuditMerge (a test checks they agree).
 */
export interface SubtreeSignals {
  hash: bigint;
  digest: bigint;
  firstAccount: bigint;
  lastAccount: bigint;
  positions: bigint;
  failing: bigint;
}

export interface BatchSignals extends SubtreeSignals {
  marketRoot: bigint;
  policyHash: bigint;
  /** Per slot, Poseidon(commitment, account) (Poseidon(0, 0) for padding): compared with the gate's state. */
  members: bigint[];
}

export interface MergeSignals extends SubtreeSignals {
  children: { hash: bigint; digest: bigint; firstAccount: bigint; lastAccount: bigint }[];
}

export function batchSignalNames(batchSize: number): string[] {
  return ["hash", "digest", "firstAccount", "lastAccount", "marketRoot", "policyHash", "positions", "failing", ...Array.from({ length: batchSize }, (_, s) => `members[${s}]`)];
}

export function mergeSignalNames(fanIn: number): string[] {
  const names = ["hash", "digest", "firstAccount", "lastAccount", "positions", "failing"];
  for (const group of ["childHash", "childDigest", "childFirst", "childLast"]) for (let c = 0; c < fanIn; c++) names.push(`${group}[${c}]`);
  return names;
}

export function batchSignals(publicSignals: readonly string[]): BatchSignals {
  const [hash, digest, firstAccount, lastAccount, marketRoot, policyHash, positions, failing, ...members] = publicSignals.map(BigInt);
  return { hash: hash!, digest: digest!, firstAccount: firstAccount!, lastAccount: lastAccount!, marketRoot: marketRoot!, policyHash: policyHash!, positions: positions!, failing: failing!, members };
}

export function mergeSignals(publicSignals: readonly string[], fanIn: number): MergeSignals {
  const s = publicSignals.map(BigInt);
  const at = (group: number, c: number) => s[6 + group * fanIn + c]!;
  return {
    hash: s[0]!,
    digest: s[1]!,
    firstAccount: s[2]!,
    lastAccount: s[3]!,
    positions: s[4]!,
    failing: s[5]!,
    children: Array.from({ length: fanIn }, (_, c) => ({ hash: at(0, c), digest: at(1, c), firstAccount: at(2, c), lastAccount: at(3, c) })),
  };
}
