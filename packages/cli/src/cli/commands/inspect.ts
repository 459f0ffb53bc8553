import type { Command } from "commander";
import { inspectInstance, inspectInstances, type InstanceSummary } from "@zk-solvency/node";
import { DEVELOPMENT_KEY_NOTE, UNTRUSTED_PTAU_NOTE } from "@zk-solvency/node/setup";
import { printJson } from "../output.ts";

interface InspectFlags {
  json?: boolean;
}

type Row = InstanceSummary;

function table(rows: Row[]): string {
  const cells = [
    ["instance", "template", "tier", "constraints", "public", "keys"],
    ...rows.map((r) => [
      r.instance,
      `${r.template}(${r.params.join(", ")})`,
      r.tier,
      r.constraints === null ? "not built" : r.constraints.toLocaleString("en-US"),
      String(r.publicSignals),
      r.keySource ? `yes, ${r.keySource}${r.keySource === "ceremony" && !r.deployable ? " (UNTRUSTED ptau)" : ""}` : "no",
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const right = new Set([3, 4]);
  return cells
    .map((row) =>
      row
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("list the declared circuit instances (constraints, public signals, tier, built keys), or show one in detail")
    .argument("[instance]", "an instance name from circuits/instances.json")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      '\nConstraint counts come from the manifests `zks setup` writes; an instance never compiled shows "not built".\nExit status: 0 printed, 3 unknown instance or unreadable circuits/instances.json.',
    )
    .action((name: string | undefined, flags: InspectFlags) => {
      if (name === undefined) {
        const { buildDir, instances: rows } = inspectInstances();
        if (flags.json) printJson({ buildDir, instances: rows });
        else process.stdout.write(`${table(rows)}\n(build directory ${buildDir}; development keys are for tests and local chains only; \`zks inspect NAME\` for details)\n`);
        return;
      }
      const { details, config, manifest } = inspectInstance(name);
      const files = details.files;
      if (flags.json) return printJson(details);
      const lines = [
        `${name}: ${config.template}(${config.params.join(", ")}) from circuits/${config.file}, tier ${config.tier}`,
        `  ${config.description}`,
        `  constraints      ${details.constraints === null ? "not built (run `zks setup --instance " + name + "`)" : details.constraints.toLocaleString("en-US")}`,
        `  public signals   ${config.publicSignals.map((s, i) => `${i}:${s}`).join(" ")}`,
        `  public inputs    ${config.publicInputs.join(", ") || "(none)"}`,
        `  keys             ${details.built ? "built" : manifest ? "compiled, no keys (run `zks setup`)" : "not built"}`,
      ];
      const source = details.keySource;
      if (source?.kind === "ceremony") {
        lines.push(`  key source       phase-2 ceremony: ${source.contributions} contributions, beacon ${source.beacon}, transcript sha256 ${source.transcriptSha256}`);
        lines.push(
          details.deployable
            ? `  phase 1          the public ceremony ptau of power ${source.ptau!.power}`
            : `  phase 1          UNTRUSTED ptau${source.ptau ? ` (power ${source.ptau.power}, blake2b ${source.ptau.blake2b.slice(0, 16)}...)` : ""}: ${UNTRUSTED_PTAU_NOTE}`,
        );
      } else if (source) lines.push(`  key source       DEVELOPMENT key (${DEVELOPMENT_KEY_NOTE})`);
      if (details.verificationKeyHash) lines.push(`  key hash         ${details.verificationKeyHash} (the verifier's VERIFICATION_KEY_HASH)`);
      if (files) for (const [kind, f] of Object.entries(files)) lines.push(`  ${kind.padEnd(16)} ${f.path}${f.exists ? "" : " (missing)"}`);
      if (manifest?.ptau)
        lines.push(
          `  ptau             power ${manifest.ptau.power}, origin ${typeof manifest.ptau.origin === "string" ? manifest.ptau.origin : JSON.stringify(manifest.ptau.origin)}, blake2b ${manifest.ptau.blake2b.slice(0, 16)}...`,
        );
      if (manifest?.zkeySha256) lines.push(`  zkey sha256      ${manifest.zkeySha256}`);
      const native = details.nativeWitness;
      if (native)
        lines.push(
          `  native witness   ${native.path}${native.exists ? "" : " (missing)"} (${native.asm ? "nasm" : "no asm"}, ${(native.binaryBytes / 2 ** 20).toFixed(1)} MiB, built in ${native.buildSeconds} s)`,
        );
      if (manifest?.verifierContract) lines.push(`  verifier         contracts/generated/ (${manifest.verifierContract})`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
