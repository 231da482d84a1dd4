/**
 * A tool's input schema, as an engine sends it (JSON text), turned into a validator for the
 * arguments MCP clients send. The schema comes from a client, so it is held to Ajv's
 * "secure schema" rules (no unbounded pattern, uniqueItems or patternProperties that could make
 * validating an LLM's arguments slow), a nesting depth and a size; remote $refs are never fetched.
 */
import { createRequire } from "node:module";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv as AjvDraft7, type ErrorObject } from "ajv";

/** Deepest nesting of objects and arrays a schema may have. */
export const MAX_SCHEMA_DEPTH = 32;

export interface CompiledSchema {
  /** The schema as tools/list shows it. */
  readonly schema: { type: "object"; [key: string]: unknown };
  /** undefined when `args` match; otherwise what is wrong, for the MCP error. */
  check(args: unknown): string | undefined;
}

// JSON Schema 2020-12 is MCP's default dialect; the draft-07 schemas most generators emit validate the same for the keywords tools use.
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const secureMetaSchema = new AjvDraft7({ strict: false, allErrors: true }).compile(createRequire(import.meta.url)("ajv/lib/refs/json-schema-secure.json") as object);

const describe = (errors: ErrorObject[] | null | undefined, root: string): string =>
  (errors ?? []).slice(0, 3).map((error) => `${root}${error.instancePath || ""} ${error.message ?? "is invalid"}`).join("; ");

function depthOf(value: unknown, depth = 0): number {
  if (typeof value !== "object" || value === null) return depth;
  if (depth > MAX_SCHEMA_DEPTH) return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}

/** The validator for `json`, or a readable reason it cannot be a tool's input schema. */
export function compileToolSchema(json: string): CompiledSchema | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return `the input schema is not JSON (${(error as Error).message})`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "the input schema must be a JSON object";
  const schema = parsed as Record<string, unknown>;
  if (schema.type !== "object") return 'the input schema must have "type": "object" (MCP passes a tool its arguments as one object)';
  if (depthOf(schema) > MAX_SCHEMA_DEPTH) return `the input schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`;
  const { $schema: _dialect, $id: _id, ...body } = schema;
  if (!secureMetaSchema(body)) return `the input schema could make validation slow: ${describe(secureMetaSchema.errors, "schema")}`;
  let validate;
  try {
    validate = ajv.compile(body);
  } catch (error) {
    return `the input schema is not a valid JSON Schema: ${(error as Error).message}`;
  } finally {
    // Compiled validators are kept by the tool, not by Ajv's cache, which would grow with every registration.
    ajv.removeSchema(body);
  }
  return {
    schema: schema as CompiledSchema["schema"],
    check: (args) => (validate(args) ? undefined : describe(validate.errors, "arguments")),
  };
}
