// Runs the workspace packages from their TypeScript sources (a checkout, tests, scripts): tsx
// compiles on load, and the "@zk-solvency/source" export condition makes `@zk-solvency/*`
// resolve to each package's src/ instead of its built dist/. Installed packages never load this.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

export const SOURCE_CONDITION = "@zk-solvency/source";

registerTsx();
register(
  "data:text/javascript," +
    encodeURIComponent(
      `export async function resolve(specifier, context, next) {
        const conditions = context.conditions.includes(${JSON.stringify(SOURCE_CONDITION)}) ? context.conditions : [${JSON.stringify(SOURCE_CONDITION)}, ...context.conditions];
        return next(specifier, { ...context, conditions });
      }`,
    ),
);
