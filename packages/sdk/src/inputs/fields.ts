/**
 * Reading raw input values into checked ones, with every failure turned into one InputError
 * that names the source, the field path and the problem (formats.md: never a stack trace,
 * never a raw zod dump).
 */
import type { z } from "zod";
import { DecimalError, formatDecimal, parseDecimal } from "../core/decimal.ts";
import { InputError } from "../core/errors.ts";
import { describeValue } from "./schemas.ts";

/** `["assets", 1, "price"]` -> `assets[1].price`, the form every message uses. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, "");
}

/** Messages for issues the schemas leave to zod's defaults (ranges, container types). */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const { input } = issue;
  if (issue.code === "invalid_type") {
    if (input === undefined) return "required field is missing";
    const what = issue.expected === "record" ? "object" : issue.expected;
    return `expected ${/^[aeio]/.test(what) ? "an" : "a"} ${what}, got ${describeValue(input)}`;
  }
  if (issue.code === "too_small" || issue.code === "too_big") {
    const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    if (issue.origin === "array") return `expected ${op === ">=" ? "at least" : "at most"} ${bound} item(s)`;
    if (issue.origin === "string") return issue.code === "too_small" ? "must not be empty" : "is too long";
    return `must be ${op} ${bound}, got ${describeValue(input)}`;
  }
  if (issue.code === "invalid_format" && issue.format === "regex") {
    return `expected a string matching ${issue.pattern}, got ${describeValue(input)}`;
  }
  return undefined;
}

/** The first issue that matters: an unsupported version explains every other mismatch. */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues.find((issue) => issue.path[0] === "version") ?? issues[0]!;
}

/** Checks `json` against a raw schema; the first problem becomes an InputError. */
export function readRaw<S extends z.ZodType>(schema: S, json: unknown, source: string): z.output<S> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(source, "", `expected a JSON object, got ${describeValue(json)}`);
  }
  const result = schema.safeParse(json, { error: describeIssue });
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  throw new InputError(source, fieldPath(issue.path), issue.message);
}

/** An interval on a fixed-point value; open ends exclude the bound. */
export interface Bounds {
  min?: bigint;
  max?: bigint;
  minOpen?: boolean;
  maxOpen?: boolean;
}

function inBounds(value: bigint, b: Bounds): boolean {
  if (b.min !== undefined && (b.minOpen ? value <= b.min : value < b.min)) return false;
  return b.max === undefined || (b.maxOpen ? value < b.max : value <= b.max);
}

function describeBounds(b: Bounds, decimals: number): string {
  const low = b.min === undefined ? undefined : formatDecimal(b.min, decimals);
  const high = b.max === undefined ? undefined : formatDecimal(b.max, decimals);
  if (low !== undefined && high !== undefined) {
    return `in ${b.minOpen ? "(" : "["}${low}, ${high}${b.maxOpen ? ")" : "]"}`;
  }
  if (low !== undefined) return `${b.minOpen ? ">" : ">="} ${low}`;
  return `${b.maxOpen ? "<" : "<="} ${high}`;
}

/** Failures and conversions for one source file. */
export class Fields {
  constructor(readonly source: string) {}

  fail(path: string, problem: string): never {
    throw new InputError(this.source, path, problem);
  }

  /** A decimal string at `decimals` places, optionally within `bounds`. */
  decimal(path: string, text: string, decimals: number, bounds?: Bounds): bigint {
    let value: bigint;
    try {
      value = parseDecimal(text, decimals);
    } catch (error) {
      if (error instanceof DecimalError) this.fail(path, error.message);
      throw error;
    }
    if (bounds && !inBounds(value, bounds)) {
      this.fail(path, `must be ${describeBounds(bounds, decimals)}, got "${text}"`);
    }
    return value;
  }

  /** Index of `key` among `names`, or an error listing what the market has. */
  lookup(path: string, key: string, names: ReadonlyMap<string, number>, kind: string): number {
    const index = names.get(key);
    if (index === undefined) {
      this.fail(path, `unknown ${kind} (market has ${[...names.keys()].join(", ") || "none"})`);
    }
    return index;
  }

  /**
   * Lays a name-keyed record out in market order. Names the market lacks are errors (a typo
   * would otherwise silently become a 0 entry); names the record lacks are 0.
   */
  byName(
    record: Readonly<Record<string, string>>,
    path: string,
    names: ReadonlyMap<string, number>,
    kind: string,
    read: (field: string, text: string, index: number) => bigint,
  ): bigint[] {
    const values = new Array<bigint>(names.size).fill(0n);
    for (const [key, text] of Object.entries(record)) {
      const field = `${path}.${key}`;
      const index = this.lookup(field, key, names, kind);
      values[index] = read(field, text, index);
    }
    return values;
  }

  /** name -> position, rejecting duplicates (`assets[2].symbol: duplicate "WETH" (also assets[0])`). */
  uniqueNames(list: string, field: string, names: readonly string[]): Map<string, number> {
    const index = new Map<string, number>();
    names.forEach((name, i) => {
      const first = index.get(name);
      if (first !== undefined) {
        this.fail(`${list}[${i}].${field}`, `duplicate ${field} "${name}" (also ${list}[${first}])`);
      }
      index.set(name, i);
    });
    return index;
  }
}

/** Ranges shared by several fields. */
export const NON_NEGATIVE: Bounds = { min: 0n };
export const POSITIVE: Bounds = { min: 0n, minOpen: true };
