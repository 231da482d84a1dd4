/**
 * Anything thrown, as the pages show it: a short code and a sentence. GmnetError (and any error
 * with a string `code`) keeps its stable code, and its message loses the "CODE: " prefix the
 * engine puts in front, since the code is shown beside it.
 */
export interface DescribedError {
  readonly code: string;
  readonly message: string;
}

export function describeError(error: unknown): DescribedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") {
      const prefix = `${code}: `;
      return { code, message: error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message };
    }
    return { code: error.name || "Error", message: error.message || String(error) };
  }
  return { code: "Error", message: String(error) };
}
