/**
 * How show_debug_message and show_message turn script values into text. Pure functions, also used
 * by the playground's console and event log (import "@gmnet/engine/debug"), so a value reads the
 * same wherever it is printed.
 *
 * Values print as JavaScript shows them (1/3 as 0.3333333333333333), not with GML string()'s two
 * decimals: scripts here are JavaScript, and a debug line should not hide digits.
 */

/**
 * One value as show_debug_message prints it: strings as they are, numbers, bigints (`12n`),
 * arrays and objects as compact JSON (bigints and undefined kept readable), functions by name.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  return describeValue(value);
}

/** Like formatValue, but strings are quoted: how a value looks inside a structure. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "boolean":
      return String(value);
    case "symbol":
      return value.toString();
    case "function":
      return `[function ${value.name || "anonymous"}]`;
    default:
      break;
  }
  if (value === null) return "null";
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map) return `Map(${value.size}) ${describeValue(Object.fromEntries(value))}`;
  if (value instanceof Set) return `Set(${value.size}) ${describeValue([...value])}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === "bigint") return `${inner}n`;
        if (inner === undefined) return "undefined";
        if (typeof inner === "function") return `[function ${(inner as { name?: string }).name || "anonymous"}]`;
        return inner;
      }) ?? String(value)
    );
  } catch {
    // Cycles and other things JSON cannot hold.
    return Object.prototype.toString.call(value);
  }
}

/**
 * GameMaker's show_debug_message(string, ...values): `{0}`, `{1}` … in the string are replaced by
 * the values. Without placeholders the values are joined with spaces (console.log style).
 */
export function formatDebugMessage(values: readonly unknown[]): string {
  const [first, ...rest] = values;
  if (typeof first === "string" && rest.length > 0 && /\{\d+\}/.test(first)) {
    return first.replace(/\{(\d+)\}/g, (placeholder, index: string) => {
      const i = Number(index);
      return i < rest.length ? formatValue(rest[i]) : placeholder;
    });
  }
  return values.map(formatValue).join(" ");
}
