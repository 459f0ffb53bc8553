/** The BN254 scalar field, in which every circuit signal lives. */
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** The field element a signed integer is encoded as in circuit inputs (negative -> p - |x|). */
export function toField(value: bigint): bigint {
  const r = value % SNARK_FIELD;
  return r < 0n ? r + SNARK_FIELD : r;
}

/** Inverse of {@link toField} for values known to lie in (-p/2, p/2). */
export function fromField(element: bigint): bigint {
  return element > SNARK_FIELD / 2n ? element - SNARK_FIELD : element;
}
