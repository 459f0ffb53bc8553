/**
 * Writes the input files' JSON Schemas to schemas/*.schema.json, for users and editors.
 * Run after changing packages/sdk/src/inputs/schemas.ts: npx tsx scripts/export-json-schemas.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { jsonSchemas } from "../packages/sdk/src/inputs/json-schema.ts";

const directory = new URL("../schemas", import.meta.url);
mkdirSync(directory, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  const file = new URL(`${name}.schema.json`, directory);
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}
