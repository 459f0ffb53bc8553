import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { SetupError } from "@zk-solvency/sdk/core";
import { CIRCUITS_DIR } from "./paths.ts";
import { DeclarationError, expandSignalNames, publicInputNames, templateLayout, type TemplateDeclaration, type TemplateLayout } from "./signal-layout.ts";

const identifier = z.string().regex(/^[A-Za-z_]\w*$/);

const instanceSchema = z.object({
  file: z.string().regex(/^[\w./-]+\.circom$/),
  template: identifier,
  params: z.array(z.number().int()),
  // Expanded from the template's declaration (`templates`); an instance of an undeclared template
  // states them, and a declared template's instance may too, if they agree.
  publicInputs: z.array(identifier).optional(),
  publicSignals: z.array(z.string()).optional(),
  tier: z.enum(["test", "standard", "large"]),
  description: z.string(),
});

const declarationSchema = z.strictObject({
  $comment: z.string().optional(),
  params: z.array(z.string()),
  sizes: z.record(z.string(), z.string()).optional(),
  outputs: z.array(z.string()),
  publicInputs: z.array(z.string()),
  solidity: z.boolean().optional(),
  docs: z.record(z.string(), z.string()).optional(),
});

const configSchema = z.object({
  templates: z.record(identifier, declarationSchema).optional(),
  instances: z.record(z.string().regex(/^[a-z0-9-]+$/), instanceSchema),
});

export type InstanceConfig = Omit<z.infer<typeof instanceSchema>, "publicInputs" | "publicSignals"> & { name: string; publicInputs: string[]; publicSignals: string[] };

export const INSTANCES_FILE = path.join(CIRCUITS_DIR, "instances.json");

function readConfig(file: string): z.infer<typeof configSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SetupError(`${file}: cannot read instance config (${(error as Error).message})`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SetupError(`${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** The public-signal layout of every template packages/circuits/instances.json declares (`templates`), in its order. */
export function loadTemplateLayouts(file: string = INSTANCES_FILE): TemplateLayout[] {
  return [...templateLayouts(readConfig(file).templates ?? {}, file).values()];
}

/** Reads packages/circuits/instances.json: the one place where circuit instances are declared. */
export function loadInstances(file: string = INSTANCES_FILE): InstanceConfig[] {
  const config = readConfig(file);
  const layouts = templateLayouts(config.templates ?? {}, file);
  const instances = Object.entries(config.instances).map(([name, instance]) => withSignals(name, instance, layouts, file));
  for (const instance of instances) {
    // Solvency's `checks` bit 4 (CHECKS_GATED, packages/circuits/solvency.circom) adds a private input that
    // switches every check off, for templates that constrain it (Rebalance); a Solvency instance
    // with it would let its prover prove a failing position.
    if (instance.template === "Solvency" && ((instance.params[3] ?? 0) & SOLVENCY_CHECKS_GATED) !== 0) {
      throw new SetupError(
        `${file}: instances.${instance.name}.params[3]: bit 4 (${SOLVENCY_CHECKS_GATED}) gates Solvency's checks behind a private input; it is for templates that embed Solvency, never for an instance`,
      );
    }
  }
  return instances;
}

/** Every declared template's layout; a declaration that cannot be laid out is a SetupError naming its field. */
function templateLayouts(templates: Record<string, TemplateDeclaration>, file: string): Map<string, TemplateLayout> {
  const layouts = new Map<string, TemplateLayout>();
  for (const [template, declaration] of Object.entries(templates)) {
    try {
      layouts.set(template, templateLayout(template, declaration));
    } catch (error) {
      if (error instanceof DeclarationError) throw new SetupError(`${file}: ${error.message}`);
      throw error;
    }
  }
  return layouts;
}

/**
 * The instance with its public inputs and signals expanded from its template's declaration, or as
 * it states them when the template has none. The keys keep the schema's order: the compile key
 * hashes this object's JSON (build.ts), so an expanded instance hashes as the same lists written out.
 */
function withSignals(name: string, config: z.infer<typeof instanceSchema>, layouts: Map<string, TemplateLayout>, file: string): InstanceConfig {
  const { file: source, template, params, tier, description } = config;
  const layout = layouts.get(template);
  let publicInputs = config.publicInputs;
  let publicSignals = config.publicSignals;
  if (layout) {
    if (params.length !== layout.params.length) {
      throw new SetupError(`${file}: instances.${name}.params: ${template} takes ${layout.params.length} parameters (${layout.params.join(", ")}), got ${params.length}`);
    }
    if (params.some((p) => p < 0)) throw new SetupError(`${file}: instances.${name}.params: a parameter is negative (${params.join(", ")})`);
    const expanded = { publicInputs: publicInputNames(layout), publicSignals: expandSignalNames(layout, params) };
    for (const field of ["publicInputs", "publicSignals"] as const) {
      const stated = config[field];
      if (stated !== undefined && stated.join(",") !== expanded[field].join(",")) {
        throw new SetupError(
          `${file}: instances.${name}.${field}: [${stated.join(", ")}] is not what templates.${template} declares for these parameters: [${expanded[field].join(", ")}]`,
        );
      }
    }
    ({ publicInputs, publicSignals } = expanded);
  }
  if (publicInputs === undefined || publicSignals === undefined) {
    throw new SetupError(`${file}: instances.${name}.${publicInputs === undefined ? "publicInputs" : "publicSignals"}: required, since templates declares no ${template}`);
  }
  return { name, file: source, template, params, publicInputs, publicSignals, tier, description };
}

/** packages/circuits/solvency.circom's CHECKS_GATED(). */
export const SOLVENCY_CHECKS_GATED = 16;

/** Selects instances by name (all when `names` is empty), failing on unknown names. */
export function selectInstances(all: InstanceConfig[], names: string[]): InstanceConfig[] {
  if (names.length === 0) return all;
  return names.map((name) => {
    const found = all.find((instance) => instance.name === name);
    if (!found) {
      throw new SetupError(`unknown circuit instance "${name}" (declared: ${all.map((i) => i.name).join(", ")})`);
    }
    return found;
  });
}

/** The generated entry point: sources hold templates only, instances are declared here. */
export function mainComponentSource(instance: InstanceConfig, includePath: string): string {
  const pub = instance.publicInputs.length > 0 ? ` {public [${instance.publicInputs.join(", ")}]}` : "";
  return [
    "// GENERATED by `zks setup` from circuits/instances.json; do not edit.",
    "pragma circom 2.1.9;",
    `include "${includePath}";`,
    `component main${pub} = ${instance.template}(${instance.params.join(", ")});`,
    "",
  ].join("\n");
}
