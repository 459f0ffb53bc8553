/**
 * JSON Schemas (draft 2020-12) of the three input files, generated from the zod schemas so
 * the published documents cannot drift from what the parser accepts. They describe shape
 * only: decimal places, value ranges and cross-references to the market are enforced by the
 * parsers and stated in each field's description.
 */
import { z } from "zod";
import { marketSchema, policySchema, positionSchema } from "./schemas.ts";

export interface JsonSchemas {
  position: Record<string, unknown>;
  market: Record<string, unknown>;
  policy: Record<string, unknown>;
}

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  // "input": these schemas document what a user writes, not what the parser returns.
  return z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
}

export function jsonSchemas(): JsonSchemas {
  return {
    position: toJsonSchema(positionSchema),
    market: toJsonSchema(marketSchema),
    policy: toJsonSchema(policySchema),
  };
}
