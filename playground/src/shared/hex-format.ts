/**
 * `hexdump -C` style formatting for the hex inspector and the buffer page, as pure functions (no DOM, no engine) so
 * they are cheap to test and to run on every refresh:
 *
 *     00000000  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|
 *     00000010
 *
 * Offset (8 hex digits, more once past 4 GiB), 16 bytes in two groups of 8, the printable ASCII
 * (0x20–0x7e; everything else as "."), and a last line with the offset just past the end.
 * Unlike hexdump, repeated rows are not squeezed into "*": a live inspector shows every row.
 */

export const BYTES_PER_ROW = 16;
/** How many bytes the inspector shows at most (256 rows): enough to read, cheap to redraw. */
export const DEFAULT_MAX_BYTES = 4096;

/** One row of the dump, in parts, for callers that lay rows out themselves. */
export interface HexRow {
  /** Offset of the row's first byte. */
  readonly offset: number;
  /** "00000010" */
  readonly offsetText: string;
  /** "48 65 6c 6c 6f 00 00 00  00 00 …", padded to full width on a short last row. */
  readonly hex: string;
  /** "Hello..........." */
  readonly ascii: string;
}

export interface HexDump {
  /** The rows shown, then the end offset line, joined with "\n" ("" for no bytes). */
  readonly text: string;
  readonly rows: readonly HexRow[];
  /** How many bytes the rows cover (≤ maxBytes). */
  readonly shownBytes: number;
  /** How many bytes there were in all. */
  readonly totalBytes: number;
  /** Whether bytes were left out (totalBytes > shownBytes). */
  readonly truncated: boolean;
}

export interface HexDumpOptions {
  /** Show at most this many bytes (default {@link DEFAULT_MAX_BYTES}); rounded down to whole rows unless fewer bytes are left. */
  readonly maxBytes?: number;
  /** Offset printed for bytes[0] (default 0). */
  readonly baseOffset?: number;
  /** Total size the bytes come from, when `bytes` is already only its start (default bytes.length). */
  readonly totalBytes?: number;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const ASCII = Array.from({ length: 256 }, (_, byte) => (byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : "."));
/** Width of a full row's hex column: 16 × "xx", 14 single spaces and one double space (48). */
const HEX_WIDTH = BYTES_PER_ROW * 3;

/** "0000001a": hexdump's offset column (at least 8 digits). */
export function formatOffset(offset: number): string {
  return offset.toString(16).padStart(8, "0");
}

/** The hex column of one row: bytes as two-digit hex, a second space after the eighth, padded to full width. */
export function formatHexColumn(bytes: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += i === 8 ? "  " : " ";
    out += HEX[bytes[i]! & 0xff];
  }
  return out.padEnd(HEX_WIDTH, " ");
}

/** The ASCII column of one row: printable characters as they are, everything else as ".". */
export function formatAsciiColumn(bytes: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += ASCII[bytes[i]! & 0xff];
  return out;
}

/** One full text line of a row: offset, two spaces, hex, two spaces, |ascii|. */
export function formatRow(row: HexRow): string {
  return `${row.offsetText}  ${row.hex}  |${row.ascii}|`;
}

/** Formats `bytes` (at most `maxBytes` of them) as `hexdump -C` would. */
export function hexDump(bytes: Uint8Array, options: HexDumpOptions = {}): HexDump {
  const base = options.baseOffset ?? 0;
  const totalBytes = Math.max(options.totalBytes ?? bytes.length, bytes.length);
  const max = Math.max(0, Math.floor(options.maxBytes ?? DEFAULT_MAX_BYTES));
  // Whole rows only (when the cap allows one), so the last row shown is not cut short by the cap.
  const shownBytes = max >= bytes.length ? bytes.length : max >= BYTES_PER_ROW ? max - (max % BYTES_PER_ROW) : max;
  const rows: HexRow[] = [];
  const lines: string[] = [];
  for (let start = 0; start < shownBytes; start += BYTES_PER_ROW) {
    const chunk = bytes.subarray(start, Math.min(start + BYTES_PER_ROW, shownBytes));
    const row: HexRow = { offset: base + start, offsetText: formatOffset(base + start), hex: formatHexColumn(chunk), ascii: formatAsciiColumn(chunk) };
    rows.push(row);
    lines.push(formatRow(row));
  }
  if (shownBytes > 0) lines.push(formatOffset(base + shownBytes));
  return { text: lines.join("\n"), rows, shownBytes, totalBytes, truncated: totalBytes > shownBytes };
}

/** Decodes standard base64 (what buffer_base64_encode returns) into bytes. */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
