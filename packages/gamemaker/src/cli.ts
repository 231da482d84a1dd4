/**
 * The `gmnet` command.
 *
 *   gmnet gamemaker-install <project.yyp>
 *
 * Exit codes: 0 done, 2 usage, 3 missing project file, 4 invalid project file, 5 extension not built.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EXTENSION_SCRIPT, InstallError, type InstallErrorCode, installExtension } from "./install.js";

export const EXIT_CODES: Record<InstallErrorCode, number> = {
  E_USAGE: 2,
  E_YYP_MISSING: 3,
  E_YYP_INVALID: 4,
  E_EXTENSION_NOT_BUILT: 5,
};

const USAGE = "usage: gmnet gamemaker-install <project.yyp>";

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs the command; returns the exit code. `scriptPath` is the built gmnet.js (default: next to cli.js). */
export function runCli(argv: string[], io: CliIo = { out: console.log, err: console.error }, scriptPath = defaultScriptPath()): number {
  try {
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h" } }, strict: true });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [command, yypPath, ...rest] = positionals;
    if (command !== "gamemaker-install" || yypPath === undefined || rest.length > 0) throw new InstallError("E_USAGE", USAGE);
    const result = installExtension({ yypPath, scriptPath });
    io.out(`gmnet: installed ${result.scriptPath}`);
    io.out(`gmnet: wrote ${result.extensionYyPath}${result.addedResource ? " and added it to the project" : " (already in the project)"}`);
    return 0;
  } catch (error) {
    if (error instanceof InstallError) {
      io.err(`gmnet: ${error.code}: ${error.message}`);
      return EXIT_CODES[error.code];
    }
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      io.err(`gmnet: E_USAGE: ${error.message}\n${USAGE}`);
      return EXIT_CODES.E_USAGE;
    }
    throw error;
  }
}

function defaultScriptPath(): string {
  return fileURLToPath(new URL(`./${EXTENSION_SCRIPT}`, import.meta.url));
}
