/**
 * Exact decimal strings <-> fixed-point bigints. Value-carrying numbers are decimal strings
 * in every input file (formats.md), so nothing is lost to binary floating point.
 */

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Why a decimal string was refused; the parser turns it into a message naming the field. */
export class DecimalError extends Error {}

/**
 * Parses `text` to an integer scaled by 10^decimals. More fractional digits than `decimals`
 * is an error (formats.md: "an error, not a silent rounding"), except trailing zeros.
 */
export function parseDecimal(text: string, decimals: number): bigint {
  const match = DECIMAL.exec(text.trim() === text ? text : "");
  if (!match) throw new DecimalError(`"${text}" is not a decimal number`);
  const [, sign, whole, fraction = ""] = match;
  const significant = fraction.replace(/0+$/, "");
  if (significant.length > decimals) {
    throw new DecimalError(`"${text}" has ${significant.length} decimal places; at most ${decimals} are allowed`);
  }
  const scaled = BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(significant.padEnd(decimals, "0") || "0");
  return sign ? -scaled : scaled;
}

/** Formats a fixed-point integer back to a decimal string, without trailing zeros. */
export function formatDecimal(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = (magnitude / scale).toString();
  const fraction = decimals > 0 ? (magnitude % scale).toString().padStart(decimals, "0").replace(/0+$/, "") : "";
  return `${negative && magnitude !== 0n ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Like formatDecimal with thousands separators and a fixed number of places, for people. */
export function formatHuman(value: bigint, decimals: number, places = 2): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  // Round half away from zero to `places` for display only; figures in JSON stay exact.
  const drop = 10n ** BigInt(Math.max(decimals - places, 0));
  const rounded = decimals > places ? (magnitude + drop / 2n) / drop : magnitude * 10n ** BigInt(places - decimals);
  const scale = 10n ** BigInt(places);
  const whole = (rounded / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = places > 0 ? `.${(rounded % scale).toString().padStart(places, "0")}` : "";
  return `${negative && rounded !== 0n ? "-" : ""}${whole}${fraction}`;
}
