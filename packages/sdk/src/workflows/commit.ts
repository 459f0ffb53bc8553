import { commitPosition } from "../commitment/position-commitment.ts";
import type { SlotLayout } from "../commitment/slot-layout.ts";
import type { Position } from "../inputs/types.ts";

export interface CommitmentSummary {
  /** The Poseidon commitment the chain stores for the account, as 0x and 64 hex digits. */
  commitment: string;
  account: string;
  nonce: string;
  /** "AxI": the asset x instrument slots the commitment was computed for (they change it). */
  slots: string;
}

/** The commitment of a position under `salt` for circuits of `layout`'s slots, as `zks commit` prints it. */
export function commitWorkflow(position: Position, salt: bigint, layout: SlotLayout): CommitmentSummary {
  const commitment = commitPosition(position, salt, layout);
  return {
    commitment: `0x${commitment.toString(16).padStart(64, "0")}`,
    account: position.account,
    nonce: position.nonce.toString(),
    slots: `${layout.nAssets}x${layout.nInstruments}`,
  };
}
