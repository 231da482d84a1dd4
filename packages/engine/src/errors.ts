/**
 * Every error the engine throws is a GmnetError with a stable `code`.
 * Codes are part of the public API: they are listed in docs/ERRORS.md and never renamed.
 * Faults that come from outside (a missing file, a full disk, a dropped socket) are not thrown:
 * they are reported through return values or async events, as GameMaker does.
 */
export const ErrorCode = {
  /** The id is not a live buffer: never created, or already deleted. */
  INVALID_BUFFER: "E_INVALID_BUFFER",
  /** A buffer type (buffer_fixed…) or data type (buffer_u8…) constant is not one gmnet knows. */
  INVALID_TYPE: "E_INVALID_TYPE",
  /** A value cannot be written as the requested data type (e.g. a string as buffer_u8). */
  INVALID_VALUE: "E_INVALID_VALUE",
  /** An argument is missing, of the wrong JavaScript type, or out of its documented range. */
  INVALID_ARGUMENT: "E_INVALID_ARGUMENT",
  /** A file name is empty, absolute, or climbs out of the storage folder. */
  INVALID_FILENAME: "E_INVALID_FILENAME",
  /** The JavaScript engine could not allocate the memory a buffer needs. */
  OUT_OF_MEMORY: "E_OUT_OF_MEMORY",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GmnetError extends Error {
  override readonly name = "GmnetError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
