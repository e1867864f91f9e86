/**
 * The public API is the four entry points named in package.json "exports" (gl-rl, gl-rl/sql, gl-rl/train,
 * gl-rl/models → index.ts, sql.ts, train.ts, models.ts): each a short list of named exports, each export
 * documented in docs/architecture.md, and the examples import nothing else — an example that imports a name
 * an entry point does not export fails here (and dependency-cruiser forbids deep imports from examples/).
 */
import { describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

interface EntryExports {
  values: Set<string>;
  types: Set<string>;
  /** `export *`: forbidden, an entry point names every export. */
  star: boolean;
}

const hasExportModifier = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** The names a module exports, split into values and type-only names (parsed, not loaded). */
function exportsOf(source: string, fileName: string): EntryExports {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const out: EntryExports = { values: new Set(), types: new Set(), star: false };
  for (const statement of file.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (!statement.exportClause) out.star = true;
      else if (ts.isNamedExports(statement.exportClause))
        for (const element of statement.exportClause.elements)
          (statement.isTypeOnly || element.isTypeOnly ? out.types : out.values).add(element.name.text);
    } else if (hasExportModifier(statement)) {
      if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement))
        out.types.add(statement.name.text);
      else if (ts.isVariableStatement(statement))
        for (const d of statement.declarationList.declarations) out.values.add(d.name.getText(file));
      else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name)
        out.values.add(statement.name.text);
    }
  }
  return out;
}

/** What an example imports from a relative module: [specifier, name, type-only] triples. */
function importsOf(source: string, fileName: string): { from: string; name: string | null; typeOnly: boolean }[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const out: { from: string; name: string | null; typeOnly: boolean }[] = [];
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    const clause = statement.importClause;
    if (!clause) out.push({ from, name: null, typeOnly: false });
    if (clause?.name) out.push({ from, name: "default", typeOnly: clause.isTypeOnly });
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings))
      for (const element of bindings.elements)
        out.push({
          from,
          name: (element.propertyName ?? element.name).text,
          typeOnly: clause.isTypeOnly || element.isTypeOnly,
        });
    if (bindings && ts.isNamespaceImport(bindings)) out.push({ from, name: null, typeOnly: clause.isTypeOnly });
  }
  return out;
}

/** package.json "exports" → { "../index.js": "gl-rl", … } (the examples' relative spelling of each entry point). */
function entryPoints(): Map<string, { subpath: string; file: string }> {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
    name: string;
    exports: Record<string, string | { types?: string; import?: string }>;
    dependencies: Record<string, string>;
  };
  const entries = new Map<string, { subpath: string; file: string }>();
  for (const [key, target] of Object.entries(pkg.exports)) {
    const js = typeof target === "string" ? target : target.import;
    const m = js?.match(/^\.\/dist\/([a-z]+)\.js$/);
    if (!m) continue; // ./package.json
    entries.set(`../${m[1]}.js`, {
      subpath: key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`,
      file: `${m[1]}.ts`,
    });
  }
  return entries;
}

/** Problems with one example's imports, [] when it uses only the public API. */
function checkExample(
  source: string,
  fileName: string,
  entries: Map<string, { subpath: string; file: string }>,
  exportsByEntry: Map<string, EntryExports>,
  dependencies: Set<string>,
): string[] {
  const problems: string[] = [];
  for (const { from, name, typeOnly } of importsOf(source, fileName)) {
    if (!from.startsWith(".")) {
      const pkg = from.startsWith("@") ? from.split("/").slice(0, 2).join("/") : from.split("/")[0]!;
      if (!from.startsWith("node:") && !dependencies.has(pkg))
        problems.push(`${fileName} imports ${from}, which is not a dependency of the package`);
      continue;
    }
    const entry = entries.get(from);
    if (!entry) {
      problems.push(
        `${fileName} imports ${from}: examples import only the entry points (${[...entries.keys()].join(", ")})`,
      );
      continue;
    }
    const exported = exportsByEntry.get(from)!;
    if (name === null) continue;
    const ok = typeOnly ? exported.values.has(name) || exported.types.has(name) : exported.values.has(name);
    if (!ok)
      problems.push(
        exported.types.has(name)
          ? `${fileName} imports ${name} from ${entry.subpath} as a value; it is exported as a type only`
          : `${fileName} imports ${name}, which ${entry.subpath} (${entry.file}) does not export`,
      );
  }
  return problems;
}

const entries = entryPoints();
const exportsByEntry = new Map(
  [...entries].map(([spec, { file }]) => [spec, exportsOf(readFileSync(file, "utf8"), file)] as const),
);
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
const dependencies = new Set(Object.keys(pkg.dependencies));

describe("the public API", () => {
  test("package.json exports gl-rl, gl-rl/sql, gl-rl/train and gl-rl/models from dist/, with types", () => {
    expect([...entries.values()].map((e) => e.subpath).sort()).toEqual([
      "gl-rl",
      "gl-rl/models",
      "gl-rl/sql",
      "gl-rl/train",
    ]);
    const exportsField = JSON.parse(readFileSync("package.json", "utf8")).exports as Record<string, { types: string }>;
    for (const [key, target] of Object.entries(exportsField))
      if (key !== "./package.json") expect(target.types).toMatch(/^\.\/dist\/[a-z]+\.d\.ts$/);
  });

  test("each entry point is a short list of named exports (no export *), each documented in docs/architecture.md", () => {
    const architecture = readFileSync("docs/architecture.md", "utf8");
    for (const [spec, exported] of exportsByEntry) {
      const { subpath } = entries.get(spec)!;
      expect({ subpath, star: exported.star }).toEqual({ subpath, star: false });
      const names = [...exported.values, ...exported.types];
      expect(names.length).toBeGreaterThan(3);
      expect(names.length).toBeLessThanOrEqual(40);
      // Named in code spans: `createText2SqlAgent` or `sftExamples(tokenizer, items)`.
      const undocumented = names.filter((n) => !new RegExp(`\`[^\`\n]*\\b${n}\\b[^\`\n]*\``).test(architecture));
      expect({ subpath, undocumented }).toEqual({ subpath, undocumented: [] });
    }
  });

  test("no name is exported by two entry points", () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [spec, exported] of exportsByEntry)
      for (const name of [...exported.values, ...exported.types]) {
        if (seen.has(name)) twice.push(`${name} (${seen.get(name)} and ${spec})`);
        seen.set(name, spec);
      }
    expect(twice).toEqual([]);
  });

  test("the examples import only what the entry points export", () => {
    const examples = readdirSync("examples").filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const problems = examples.flatMap((f) =>
      checkExample(readFileSync(join("examples", f), "utf8"), f, entries, exportsByEntry, dependencies),
    );
    expect(problems).toEqual([]);
  });

  test("the check catches an unexported name, a type imported as a value, a deep import and a stray package", () => {
    const bad = [
      'import { createText2SqlAgent, writeTinyModel } from "../index.js";',
      'import { SchemaModel } from "../sql.js";',
      'import { loadModel } from "../models/loadModel.js";',
      'import leftPad from "left-pad";',
    ].join("\n");
    const problems = checkExample(bad, "bad.ts", entries, exportsByEntry, dependencies);
    expect(problems).toEqual([
      "bad.ts imports writeTinyModel, which gl-rl (index.ts) does not export",
      "bad.ts imports SchemaModel from gl-rl/sql as a value; it is exported as a type only",
      expect.stringMatching(/^bad\.ts imports \.\.\/models\/loadModel\.js: examples import only the entry points/),
      "bad.ts imports left-pad, which is not a dependency of the package",
    ]);
  });
});
