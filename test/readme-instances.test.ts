/**
 * README's "Circuits and instances" table against the build: every instance of instances.json in
 * the test or standard tier has a row, and each row's constraint count is the one the built
 * instance's manifest records. A circuit change that forgets the README fails here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadInstances } from "../packages/node/src/setup/instances.ts";
import { readManifest } from "../packages/node/src/setup/manifest.ts";
import { defaultBuildPaths, instanceDir, PACKAGE_ROOT } from "../packages/node/src/setup/paths.ts";

/** The rows of the first table after "## Circuits and instances": instance name -> constraints column. */
function readmeRows(): Map<string, number> {
  const readme = readFileSync(path.join(PACKAGE_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Circuits and instances"));
  const rows = new Map<string, number>();
  for (const line of section.split("\n")) {
    const match = /^\| `([a-z0-9-]+)` \| `[A-Za-z]+\([0-9, ]+\)` \|.*\| ([0-9,]+) \|$/.exec(line);
    if (match) rows.set(match[1]!, Number(match[2]!.replaceAll(",", "")));
    else if (rows.size > 0 && !line.startsWith("|")) break;
  }
  return rows;
}

describe("README's instance table", function () {
  const rows = readmeRows();
  const instances = loadInstances().filter((i) => i.tier !== "large" && !i.name.startsWith("audit-"));

  it("has a row for every test and standard instance but the audit's (docs/audit.md lists those)", function () {
    assert.ok(rows.size > 5, "the table was found");
    const missing = instances.filter((i) => !rows.has(i.name)).map((i) => i.name);
    assert.deepEqual(missing, [], "instances without a README row");
  });

  it("gives each built instance's constraint count as its manifest records it", function () {
    const paths = defaultBuildPaths();
    const wrong: string[] = [];
    for (const [name, constraints] of rows) {
      const manifest = readManifest(instanceDir(paths, name));
      if (manifest && manifest.nConstraints !== constraints) wrong.push(`${name}: README ${constraints}, built ${manifest.nConstraints}`);
    }
    assert.deepEqual(wrong, []);
  });
});
