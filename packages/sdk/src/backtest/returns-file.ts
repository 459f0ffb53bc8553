/**
 * The historical return series a backtest can replay (`zks backtest --returns FILE`): a CSV of
 * simple daily returns, one row per day, one column per asset, oldest first:
 *
 *     # lines starting with # are comments (say where the data comes from)
 *     date,WETH,WBTC
 *     2025-03-01,-0.00896,0.00286
 *     2025-03-02,0.03895,0.03408
 *
 * - the first column is a label of the row (a date, a day number); it is shown, never parsed;
 * - the other header cells are asset symbols of the market, each at most once; a market asset
 *   without a column keeps its price (a stablecoin, say), and the run says so;
 * - each value is a decimal number r > -1 (the price moves by the factor 1 + r that day);
 *   "-0.05" is a 5% fall; exponents ("1e-3") are accepted; nothing may be empty.
 *
 * Errors are InputErrors naming the file, the line, the column and the problem (exit 2).
 * Browser-safe: the caller reads the file.
 */
import { InputError } from "../core/errors.ts";

export interface ReturnSeries {
  /** Column symbols, in file order. */
  symbols: string[];
  /** Row labels (first column), oldest first. */
  labels: string[];
  /** returns[row][column], simple returns. */
  returns: number[][];
  /** File line of each row (1-based), for messages. */
  lines: number[];
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Splits one CSV line; fields may be quoted ("a,b"), with "" for a quote inside. */
function splitCsvLine(line: string, source: string, lineNumber: number): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (ch === ",") {
      cells.push(cell.trim());
      cell = "";
    } else cell += ch;
  }
  if (quoted) throw new InputError(source, `line ${lineNumber}`, "unterminated quoted field");
  cells.push(cell.trim());
  return cells;
}

/**
 * Parses the CSV text of `source` against the market's asset symbols (`marketSymbols`, in market
 * order).
 */
export function parseReturnSeries(text: string, source: string, marketSymbols: readonly string[]): ReturnSeries {
  const rows = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  if (rows.length === 0) throw new InputError(source, "", 'no header line: expected e.g. "date,WETH,WBTC" followed by one row of returns per day');
  const header = splitCsvLine(rows[0]!.line, source, rows[0]!.number);
  const at = (line: number, column?: string) => `line ${line}${column ? `, column ${column}` : ""}`;
  if (header.length < 2) throw new InputError(source, at(rows[0]!.number), `the header needs a label column and at least one asset column, got "${rows[0]!.line.trim()}"`);
  const symbols = header.slice(1);
  const seen = new Map<string, number>();
  symbols.forEach((symbol, c) => {
    const column = `${c + 2}`;
    if (symbol === "") throw new InputError(source, at(rows[0]!.number, column), "empty asset symbol in the header");
    if (!marketSymbols.includes(symbol)) {
      throw new InputError(source, at(rows[0]!.number, column), `unknown asset "${symbol}" (the market has ${marketSymbols.join(", ")})`);
    }
    const first = seen.get(symbol);
    if (first !== undefined) throw new InputError(source, at(rows[0]!.number, column), `duplicate asset "${symbol}" (also column ${first})`);
    seen.set(symbol, c + 2);
  });
  const body = rows.slice(1);
  if (body.length === 0) throw new InputError(source, "", "no rows of returns after the header");

  const series: ReturnSeries = { symbols, labels: [], returns: [], lines: [] };
  for (const { line, number } of body) {
    const cells = splitCsvLine(line, source, number);
    if (cells.length !== header.length) {
      throw new InputError(source, at(number), `expected ${header.length} fields (${header.join(",")}), got ${cells.length}`);
    }
    const label = cells[0]!;
    if (label === "") throw new InputError(source, at(number, header[0] || "1"), "empty row label (a date or day number)");
    const values = cells.slice(1).map((cell, c) => {
      const column = symbols[c]!;
      if (cell === "") throw new InputError(source, at(number, column), "empty return");
      if (!NUMBER.test(cell)) throw new InputError(source, at(number, column), `expected a decimal return such as "-0.0312", got "${cell}"`);
      const r = Number(cell);
      if (!Number.isFinite(r)) throw new InputError(source, at(number, column), `return "${cell}" is not finite`);
      if (r <= -1) throw new InputError(source, at(number, column), `return ${cell} must be > -1 (a price cannot fall to zero or below)`);
      if (r > 100) throw new InputError(source, at(number, column), `return ${cell} is above 100 (10,000%): a percentage instead of a fraction?`);
      return r;
    });
    series.labels.push(label);
    series.returns.push(values);
    series.lines.push(number);
  }
  return series;
}
