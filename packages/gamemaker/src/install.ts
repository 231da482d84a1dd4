/**
 * `gmnet gamemaker-install <project.yyp>`: adds the gmnet extension to a GameMaker project — the
 * built script in extensions/gmnet/, the extension's .yy (its file, functions and constants for
 * the HTML5 target) and the project's resource entry. Reads and writes the .yy and .yyp files
 * with @bscotch/yy; running it again updates the extension in place.
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Yy, type YyExtension, type YyExtensionFunction, type Yyp } from "@bscotch/yy";
import { createEngine, createMemoryStorage } from "@gmnet/engine";
import { EXTRA_FUNCTIONS, PREFIX, STRING_RESULTS, exposedFunctionNames, extensionConstants } from "./glue.js";

export const EXTENSION_NAME = "gmnet";
export const EXTENSION_SCRIPT = "gmnet.js";

/** Extension file kind and function kind of a JavaScript file (GameMaker's value). */
const KIND_JS = 5;
/** copyToTargets bit of the HTML5 target. */
const TARGET_HTML5 = 32;
const STRING = 1;
const REAL = 2;

export type InstallErrorCode = "E_USAGE" | "E_YYP_MISSING" | "E_YYP_INVALID" | "E_EXTENSION_NOT_BUILT";

export class InstallError extends Error {
  constructor(
    readonly code: InstallErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "InstallError";
  }
}

export interface InstallOptions {
  /** The project's .yyp file. */
  yypPath: string;
  /** The built extension script (dist/gmnet.js). */
  scriptPath: string;
}

export interface InstallResult {
  /** The extension's .yy file. */
  extensionYyPath: string;
  /** The script copied into the project. */
  scriptPath: string;
  /** Whether the project's .yyp gained the resource entry (false: it already had it). */
  addedResource: boolean;
}

/** The functions of the extension, as the .yy lists them. */
export function extensionFunctions(): YyExtensionFunction[] {
  const engine = createEngine({ storage: createMemoryStorage() });
  const names = exposedFunctionNames(engine).map((name) => ({ name: PREFIX + name, string: STRING_RESULTS.has(name), help: `gmnet's ${name}` }));
  const extras = Object.entries(EXTRA_FUNCTIONS).map(([name, help]) => ({ name, string: false, help }));
  return [...names, ...extras].map(({ name, string, help }) => ({
    resourceType: "GMExtensionFunction",
    resourceVersion: "1.0",
    name,
    externalName: name,
    documentation: "",
    // −1: any number of arguments, each a real or a string (optional arguments stay optional).
    argCount: -1,
    args: [],
    help,
    hidden: false,
    kind: KIND_JS,
    returnType: string ? STRING : REAL,
  }));
}

export function extensionYy(): YyExtension {
  const constants = Object.entries(extensionConstants()).map(([name, value]) => ({
    resourceType: "GMExtensionConstant" as const,
    resourceVersion: "1.0",
    name,
    hidden: false,
    value: String(value),
  }));
  const file = {
    resourceType: "GMExtensionFile" as const,
    resourceVersion: "1.0",
    name: "",
    filename: EXTENSION_SCRIPT,
    origname: "",
    init: "",
    final: "",
    kind: KIND_JS,
    uncompress: false,
    functions: extensionFunctions(),
    constants,
    ProxyFiles: [],
    copyToTargets: TARGET_HTML5,
    usesRunnerInterface: false,
    order: [],
  };
  return Yy.populate(
    {
      name: EXTENSION_NAME,
      resourceType: "GMExtension",
      resourceVersion: "1.2",
      optionsFile: "options.json",
      options: [],
      exportToGame: true,
      supportedTargets: TARGET_HTML5,
      extensionVersion: "0.1.0",
      packageId: "",
      productId: "",
      author: "",
      date: new Date(0).toISOString(),
      license: "MIT",
      description: "gmnet: network_*, buffer_* and master_* over a signaling server, for HTML5 exports (functions prefixed gmnet_).",
      helpfile: "",
      iosProps: false,
      tvosProps: false,
      androidProps: false,
      installdir: "",
      files: [file],
      classname: "",
      tvosclassname: null,
      tvosdelegatename: null,
      iosdelegatename: "",
      androidclassname: "",
      sourcedir: "",
      androidsourcedir: "",
      macsourcedir: "",
      maccompilerflags: "",
      tvosmaccompilerflags: "",
      maclinkerflags: "",
      tvosmaclinkerflags: "",
      iosplistinject: "",
      tvosplistinject: "",
      androidinject: "",
      androidmanifestinject: "",
      androidactivityinject: "",
      gradleinject: "",
      androidcodeinjection: "",
      hasConvertedCodeInjection: true,
      ioscodeinjection: "",
      tvoscodeinjection: "",
      iosSystemFrameworkEntries: [],
      tvosSystemFrameworkEntries: [],
      iosThirdPartyFrameworkEntries: [],
      tvosThirdPartyFrameworkEntries: [],
      IncludedResources: [],
      androidPermissions: [],
      copyToTargets: TARGET_HTML5,
      iosCocoaPods: "",
      tvosCocoaPods: "",
      iosCocoaPodDependencies: "",
      tvosCocoaPodDependencies: "",
      parent: { name: "Extensions", path: "folders/Extensions.yy" },
    },
    "extensions",
  );
}

/** Reads and checks the project file; throws InstallError E_YYP_MISSING / E_YYP_INVALID. */
export function readProject(yypPath: string): Yyp {
  if (!yypPath.endsWith(".yyp")) throw new InstallError("E_YYP_MISSING", `not a GameMaker project file (expected a .yyp): ${yypPath}`);
  if (!existsSync(yypPath) || !statSync(yypPath).isFile()) throw new InstallError("E_YYP_MISSING", `no such project file: ${yypPath}`);
  try {
    return Yy.readSync(yypPath, "project");
  } catch (error) {
    throw new InstallError("E_YYP_INVALID", `not a valid GameMaker project file: ${yypPath} (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
  }
}

export function installExtension(options: InstallOptions): InstallResult {
  const yypPath = resolve(options.yypPath);
  const yyp = readProject(yypPath);
  if (!existsSync(options.scriptPath)) {
    throw new InstallError("E_EXTENSION_NOT_BUILT", `the extension script is not built (${options.scriptPath}); run npm run build -w @gmnet/gamemaker`);
  }
  const folder = join(dirname(yypPath), "extensions", EXTENSION_NAME);
  mkdirSync(folder, { recursive: true });
  const scriptPath = join(folder, EXTENSION_SCRIPT);
  copyFileSync(options.scriptPath, scriptPath);
  const extensionYyPath = join(folder, `${EXTENSION_NAME}.yy`);
  Yy.writeSync(extensionYyPath, extensionYy(), "extensions", yyp);

  const resourcePath = `extensions/${EXTENSION_NAME}/${EXTENSION_NAME}.yy`;
  const addedResource = !yyp.resources.some((resource) => resource.id.path === resourcePath);
  if (addedResource) {
    yyp.resources.push({ id: { name: EXTENSION_NAME, path: resourcePath } });
    yyp.resources.sort((a, b) => a.id.name.localeCompare(b.id.name));
  }
  if (!yyp.Folders.some((folder) => folder.folderPath === "folders/Extensions.yy")) {
    yyp.Folders.push({ name: "Extensions", folderPath: "folders/Extensions.yy", resourceType: "GMFolder", resourceVersion: "1.0" });
  }
  Yy.writeSync(yypPath, yyp, "project");
  return { extensionYyPath, scriptPath, addedResource };
}
