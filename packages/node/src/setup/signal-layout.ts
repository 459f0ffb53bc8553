/**
 * The public-signal layouts of the circuit templates, from the one declaration of each in
 * packages/circuits/instances.json (`templates`): its outputs, then its public inputs, in the template's
 * declaration order (snarkjs puts a circuit's outputs first, then its public inputs). Every
 * instance's `publicSignals` and `publicInputs` are expanded from it (loadInstances), and
 * scripts/generate-constants.ts writes the Solidity and TypeScript positions from it, so the
 * circuit, the contracts and the SDK read one list; compile.ts checks each compiled instance's
 * signal names against the expansion.
 *
 * An array's length is an integer, a template parameter or a named size, so every offset is linear
 * in the parameters and sizes (`9 + 2 * nAssets`) and reads the same in both languages. A named
 * size is an expression over the parameters with integers, `+`, `*`, `/` (rounding down) and
 * `ceil(a / b)`: nothing a reader of the generated code has to trust a runtime for.
 */

/** The declaration of one template, as instances.json writes it. */
export interface TemplateDeclaration {
  /** The circom template's parameters, in order. */
  params: string[];
  /** Named array lengths computed from the parameters. */
  sizes?: Record<string, string>;
  /** `signal output` declarations, in order: `name` or `name[length]`. */
  outputs: string[];
  /** The public `signal input` declarations, in order: `name` or `name[length]`. */
  publicInputs: string[];
  /** Generate the Solidity positions too (the templates whose proofs contracts check). */
  solidity?: boolean;
  /** One line per parameter, size or signal name: what it is (copied into the generated code). */
  docs?: Record<string, string>;
}

/** A size expression's syntax tree. */
export type SizeExpression =
  { kind: "int"; value: number } | { kind: "param"; name: string } | { kind: "add" | "mul" | "div" | "ceil"; left: SizeExpression; right: SizeExpression };

/** constant + sum of coefficient * symbol, the symbols being parameters or named sizes. */
export interface Linear {
  constant: number;
  terms: { symbol: string; coefficient: number }[];
}

export interface Segment {
  name: string;
  /** null for a scalar signal. */
  length: { kind: "int"; value: number } | { kind: "symbol"; name: string } | null;
  offset: Linear;
  output: boolean;
  doc?: string;
}

export interface NamedSize {
  name: string;
  expression: SizeExpression;
  /** The parameters it reads, in template order. */
  params: string[];
  source: string;
  doc?: string;
}

export interface TemplateLayout {
  template: string;
  params: string[];
  /** What each parameter is, where the declaration says. */
  paramDocs: Record<string, string>;
  /** The parameters any offset or length depends on, in template order. */
  layoutParams: string[];
  sizes: NamedSize[];
  segments: Segment[];
  count: Linear;
  solidity: boolean;
}

/** A declaration that cannot be laid out: `field` is its path under the declaration (`templates.Rebalance.sizes.x`). */
export class DeclarationError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

const IDENTIFIER = /^[A-Za-z_]\w*$/;
const DECLARATION = /^([A-Za-z_]\w*)(?:\[([^\]]*)\])?$/;

/** Parses a size expression over `params` (integers, + * / and ceil(a / b), parentheses). */
export function parseSizeExpression(source: string, params: readonly string[], field: string): SizeExpression {
  const tokens = source.match(/\d+|[A-Za-z_]\w*|[-+*/()]|\S/g) ?? [];
  let at = 0;
  const fail = (problem: string): never => {
    throw new DeclarationError(field, `${problem} in "${source}"`);
  };
  const peek = () => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at];
    if (token === undefined) return fail(expected ? `expected "${expected}" at the end` : "unexpected end");
    if (expected !== undefined && token !== expected) fail(`expected "${expected}", got "${token}"`);
    at++;
    return token;
  };
  const sum = (): SizeExpression => {
    let left = product();
    while (peek() === "+") {
      take();
      left = { kind: "add", left, right: product() };
    }
    return left;
  };
  const product = (): SizeExpression => {
    let left = factor();
    while (peek() === "*" || peek() === "/") {
      const op = take();
      left = { kind: op === "*" ? "mul" : "div", left, right: factor() };
    }
    return left;
  };
  const factor = (): SizeExpression => {
    const token = take();
    if (/^\d+$/.test(token)) {
      const value = Number(token);
      if (!Number.isSafeInteger(value)) fail(`${token} is too large`);
      return { kind: "int", value };
    }
    if (token === "(") {
      const inner = sum();
      take(")");
      return inner;
    }
    if (token === "ceil") {
      take("(");
      const inner = sum();
      take(")");
      // ceil of anything but a quotient is the value itself: refusing it keeps the grammar to one meaning.
      if (inner.kind !== "div") fail("ceil takes a quotient, ceil(a / b)");
      return { kind: "ceil", left: (inner as { left: SizeExpression }).left, right: (inner as { right: SizeExpression }).right };
    }
    if (IDENTIFIER.test(token)) {
      if (!params.includes(token)) fail(`"${token}" is not a parameter of the template (${params.join(", ")})`);
      return { kind: "param", name: token };
    }
    return fail(`unexpected "${token}"`);
  };
  const expression = sum();
  if (at !== tokens.length) fail(`unexpected "${tokens[at]}"`);
  return expression;
}

/** The value of a size expression; a division by zero is the declaration's error. */
export function evaluateSize(expression: SizeExpression, values: Readonly<Record<string, number>>, field: string): number {
  switch (expression.kind) {
    case "int":
      return expression.value;
    case "param": {
      const value = values[expression.name];
      if (value === undefined) throw new DeclarationError(field, `no value for "${expression.name}"`);
      return value;
    }
    default: {
      const left = evaluateSize(expression.left, values, field);
      const right = evaluateSize(expression.right, values, field);
      if (expression.kind === "add") return left + right;
      if (expression.kind === "mul") return left * right;
      if (right === 0) throw new DeclarationError(field, "division by zero");
      return expression.kind === "div" ? Math.floor(left / right) : Math.ceil(left / right);
    }
  }
}

function paramsOf(expression: SizeExpression, into: Set<string>): Set<string> {
  if (expression.kind === "param") into.add(expression.name);
  if (expression.kind !== "int" && expression.kind !== "param") {
    paramsOf(expression.left, into);
    paramsOf(expression.right, into);
  }
  return into;
}

const addLinear = (a: Linear, b: Linear): Linear => {
  const terms = a.terms.map((t) => ({ ...t }));
  for (const term of b.terms) {
    const found = terms.find((t) => t.symbol === term.symbol);
    if (found) found.coefficient += term.coefficient;
    else terms.push({ ...term });
  }
  return { constant: a.constant + b.constant, terms };
};

/** The linear form's value. */
export function evaluateLinear(linear: Linear, values: Readonly<Record<string, number>>): number {
  return linear.terms.reduce((sum, { symbol, coefficient }) => {
    const value = values[symbol];
    if (value === undefined) throw new Error(`no value for "${symbol}"`);
    return sum + coefficient * value;
  }, linear.constant);
}

/** Validates a template's declaration and lays out its signals (`field` names it in errors: `templates.Rebalance`). */
export function templateLayout(template: string, declaration: TemplateDeclaration, field = `templates.${template}`): TemplateLayout {
  const { params } = declaration;
  params.forEach((param, i) => {
    if (!IDENTIFIER.test(param)) throw new DeclarationError(`${field}.params[${i}]`, `"${param}" is not an identifier`);
    if (params.indexOf(param) !== i) throw new DeclarationError(`${field}.params[${i}]`, `"${param}" is declared twice`);
  });
  const sizes: NamedSize[] = Object.entries(declaration.sizes ?? {}).map(([name, source]) => {
    const at = `${field}.sizes.${name}`;
    if (!IDENTIFIER.test(name)) throw new DeclarationError(at, `"${name}" is not an identifier`);
    if (params.includes(name)) throw new DeclarationError(at, `"${name}" is a parameter's name`);
    const expression = parseSizeExpression(source, params, at);
    const used = paramsOf(expression, new Set());
    return { name, expression, params: params.filter((p) => used.has(p)), source, doc: declaration.docs?.[name] };
  });
  const symbols = new Set([...params, ...sizes.map((s) => s.name)]);
  const seen = new Set<string>(["count"]);
  const segments: Segment[] = [];
  let offset: Linear = { constant: 0, terms: [] };
  const groups = [
    ["outputs", declaration.outputs],
    ["publicInputs", declaration.publicInputs],
  ] as const;
  for (const [group, list] of groups) {
    list.forEach((text, i) => {
      const at = `${field}.${group}[${i}]`;
      const match = DECLARATION.exec(text);
      if (!match) throw new DeclarationError(at, `"${text}" is not "name" or "name[length]"`);
      const [, name, lengthText] = match as unknown as [string, string, string | undefined];
      if (seen.has(name)) throw new DeclarationError(at, name === "count" ? `"count" is the layout's own field` : `"${name}" is declared twice`);
      if (symbols.has(name)) throw new DeclarationError(at, `"${name}" is also a parameter or size`);
      seen.add(name);
      let length: Segment["length"] = null;
      if (lengthText !== undefined) {
        if (/^\d+$/.test(lengthText) && Number(lengthText) >= 1) length = { kind: "int", value: Number(lengthText) };
        else if (symbols.has(lengthText)) length = { kind: "symbol", name: lengthText };
        else
          throw new DeclarationError(
            at,
            `the length "${lengthText}" is not a positive integer, a parameter or a named size (sizes: ${sizes.map((s) => s.name).join(", ") || "none"})`,
          );
      }
      segments.push({ name, length, offset, output: group === "outputs", doc: declaration.docs?.[name] });
      offset = addLinear(offset, lengthOf(length));
    });
  }
  for (const name of Object.keys(declaration.docs ?? {})) {
    if (!seen.has(name) && !sizes.some((s) => s.name === name) && !params.includes(name))
      throw new DeclarationError(`${field}.docs.${name}`, `no parameter, size or signal is named "${name}"`);
  }
  const used = new Set<string>();
  for (const segment of segments) if (segment.length?.kind === "symbol") used.add(segment.length.name);
  for (const size of sizes) {
    if (!used.has(size.name)) throw new DeclarationError(`${field}.sizes.${size.name}`, "no signal has this length");
    for (const param of size.params) used.add(param);
  }
  const paramDocs = Object.fromEntries(params.flatMap((p) => (declaration.docs?.[p] ? [[p, declaration.docs[p]]] : [])));
  return { template, params, paramDocs, layoutParams: params.filter((p) => used.has(p)), sizes, segments, count: offset, solidity: declaration.solidity === true };
}

function lengthOf(length: Segment["length"]): Linear {
  if (length === null) return { constant: 1, terms: [] };
  if (length.kind === "int") return { constant: length.value, terms: [] };
  return { constant: 0, terms: [{ symbol: length.name, coefficient: 1 }] };
}

/** The template's parameters by name, with every named size evaluated. */
export function layoutValues(layout: TemplateLayout, params: readonly number[]): Record<string, number> {
  const values: Record<string, number> = {};
  layout.params.forEach((name, i) => (values[name] = params[i]!));
  for (const size of layout.sizes) values[size.name] = evaluateSize(size.expression, values, `templates.${layout.template}.sizes.${size.name}`);
  return values;
}

/** An instance's public signal names (`debtIndex[0]`, ...) in order, as circom's .sym file names them. */
export function expandSignalNames(layout: TemplateLayout, params: readonly number[]): string[] {
  const values = layoutValues(layout, params);
  return layout.segments.flatMap((segment) => {
    if (segment.length === null) return [segment.name];
    const n = segment.length.kind === "int" ? segment.length.value : values[segment.length.name]!;
    return Array.from({ length: n }, (_, i) => `${segment.name}[${i}]`);
  });
}

/** The names circom's `{public [...]}` list takes: the public inputs without their lengths. */
export function publicInputNames(layout: TemplateLayout): string[] {
  return layout.segments.filter((s) => !s.output).map((s) => s.name);
}
