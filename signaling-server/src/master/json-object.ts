/**
 * A JSON object in a request body, bounded in depth and size: character attributes (§16.9) and
 * world document values (§16.10).
 */
import { z } from "zod";

const utf8 = new TextEncoder();

/** The depth of a parsed JSON value: 0 for a scalar, 1 for an object or array of scalars. */
export function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item));
  return deepest + 1;
}

/** A JSON object (bodies are parsed JSON, so every value in it is JSON), at most `maxDepth` deep and `maxBytes` as JSON text. */
export function jsonObjectSchema(maxBytes: number, maxDepth: number) {
  // z.custom, not z.record: the object passes through as parsed, every own key kept as it is.
  const object = z.custom<Record<string, unknown>>((value) => typeof value === "object" && value !== null && !Array.isArray(value), "must be a JSON object");
  return object.superRefine((value, context) => {
    if (depthOf(value) > maxDepth) {
      context.addIssue({ code: "custom", message: `at most ${maxDepth} levels of nested objects and arrays` });
      return;
    }
    const bytes = utf8.encode(JSON.stringify(value)).length;
    if (bytes > maxBytes) context.addIssue({ code: "custom", message: `${bytes} bytes of JSON; at most ${maxBytes}` });
  });
}
