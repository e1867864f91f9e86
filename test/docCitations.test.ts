/**
 * Every document the code cites is in the repository. A citation is `docs/<name>.md`, `CONTRIBUTING.md` or
 * `data/DATASET.md`, optionally followed by a quoted section name (`docs/grpo.md "Rewards"`, also after a
 * comma) and an item number (`CONTRIBUTING.md "How the code reads" #6`). The file must exist, the section
 * must be a heading of that file (the heading starts with the quoted name, case aside), and the item must be
 * a numbered line of that section. In Markdown files, every relative link must point at a file that exists.
 * Scanned: the files git tracks or would track (not node_modules/, dist/, build outputs).
 */
import { describe, expect, test } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const SOURCE = /\.(ts|mts|mjs|cjs|js|cpp|h|gyp|sh)$/;
const CITATION =
  /\b(docs\/[A-Za-z0-9_-]+\.md|CONTRIBUTING\.md|data\/DATASET\.md)(?:(?:,\s*|\s+)(?:"([^"\n]{1,80})"|“([^”\n]{1,80})”))?(?:\s*#(\d+))?/g;
const LINK = /\]\(([^)\s]+)\)/g;

interface Citation {
  file: string;
  line: number;
  target: string;
  section?: string;
  item?: number;
}

/** Comment continuation lines joined, so a quoted section name may wrap: "a\n * b" → "a b". */
function joinCommentLines(text: string): { text: string; lineAt: (index: number) => number } {
  const starts: number[] = [];
  let out = "";
  for (const [i, line] of text.split("\n").entries()) {
    starts[i] = out.length;
    const body = i === 0 ? line : line.replace(/^\s*(?:\*(?!\/)|\/\/|#)?\s?/, "");
    out += (i === 0 ? "" : " ") + body;
  }
  return {
    text: out,
    lineAt: (index) => {
      let lo = 0;
      while (lo + 1 < starts.length && starts[lo + 1]! <= index) lo++;
      return lo + 1;
    },
  };
}

/** The citations in one source file's text. */
function citationsIn(file: string, text: string): Citation[] {
  const joined = joinCommentLines(text);
  return [...joined.text.matchAll(CITATION)].map((m) => ({
    file,
    line: joined.lineAt(m.index ?? 0),
    target: m[1]!,
    ...(m[2] || m[3] ? { section: (m[2] ?? m[3])!.trim() } : {}),
    ...(m[4] ? { item: Number(m[4]) } : {}),
  }));
}

interface Heading {
  level: number;
  text: string;
  line: number;
}

function headingsOf(markdown: string): Heading[] {
  const out: Heading[] = [];
  let fenced = false;
  markdown.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && line.match(/^(#{1,6})\s+(.*?)\s*#*$/);
    if (m) out.push({ level: m[1]!.length, text: m[2]!.replace(/`/g, ""), line: i });
  });
  return out;
}

/** What is wrong with a citation, or null; `read` returns a repository file's text (undefined when absent). */
function checkCitation(citation: Citation, read: (path: string) => string | undefined): string | null {
  const where = `${citation.file}:${citation.line} cites ${citation.target}`;
  const markdown = read(citation.target);
  if (markdown === undefined) return `${where}, which does not exist`;
  if (citation.section === undefined) return null;
  const headings = headingsOf(markdown);
  const wanted = citation.section.toLowerCase();
  const heading = headings.find((h) => h.text.toLowerCase().startsWith(wanted));
  if (!heading) return `${where} "${citation.section}", which has no such heading`;
  if (citation.item === undefined) return null;
  const lines = markdown.split("\n");
  const next = headings.find((h) => h.line > heading.line && h.level <= heading.level);
  const body = lines.slice(heading.line + 1, next ? next.line : lines.length);
  if (!body.some((l) => new RegExp(`^\\s*(?:\\*\\*)?${citation.item}\\.\\s`).test(l)))
    return `${where} "${citation.section}" #${citation.item}, which that section does not number`;
  return null;
}

/** Relative links of a Markdown file that point at nothing. */
function brokenLinks(file: string, markdown: string, exists: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(LINK)) {
    const href = m[1]!.split("#")[0]!;
    if (href === "" || /^[a-z]+:/i.test(href)) continue;
    const path = normalize(join(dirname(file), href));
    if (!exists(path)) out.push(`${file} links ${m[1]}, which does not exist`);
  }
  return out;
}

const repoFiles = (): string[] =>
  execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && existsSync(f));

const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

describe("documents cited by the code", () => {
  const files = repoFiles();

  test("every cited document, section and item exists", () => {
    const sources = files.filter((f) => SOURCE.test(f) && f !== "test/docCitations.test.ts"); // its fixtures cite docs/a.md
    const citations = sources.flatMap((f) => citationsIn(f, readFileSync(f, "utf8")));
    expect(citations.length).toBeGreaterThan(20);
    expect(citations.map((c) => checkCitation(c, read)).filter((p) => p !== null)).toEqual([]);
  });

  test("every relative link in the Markdown files points at a file", () => {
    const markdown = files.filter((f) => f.endsWith(".md") && !f.startsWith("data/bird-minidev/"));
    expect(markdown).toEqual(expect.arrayContaining(["README.md", "CONTRIBUTING.md", "docs/architecture.md"]));
    expect(markdown.flatMap((f) => brokenLinks(f, readFileSync(f, "utf8"), existsSync))).toEqual([]);
  });

  test("the checks catch a missing file, section, item and link", () => {
    const docs: Record<string, string> = {
      "docs/a.md": "# A\n\n## Rewards and more\n\n1. one\n2. two\n\n## Other\n\n3. three\n",
    };
    const source = [
      '// see docs/a.md "Rewards" #2 and docs/a.md, "rewards and"',
      '/* docs/a.md "Other" #2, docs/b.md, docs/a.md "Missing",',
      ' * CONTRIBUTING.md "How the code',
      ' * reads" #6 */',
    ].join("\n");
    const citations = citationsIn("x.ts", source);
    expect(citations.map((c) => [c.target, c.section, c.item, c.line])).toEqual([
      ["docs/a.md", "Rewards", 2, 1],
      ["docs/a.md", "rewards and", undefined, 1],
      ["docs/a.md", "Other", 2, 2],
      ["docs/b.md", undefined, undefined, 2],
      ["docs/a.md", "Missing", undefined, 2],
      ["CONTRIBUTING.md", "How the code reads", 6, 3],
    ]);
    expect(citations.map((c) => checkCitation(c, (p) => docs[p]))).toEqual([
      null,
      null,
      'x.ts:2 cites docs/a.md "Other" #2, which that section does not number',
      "x.ts:2 cites docs/b.md, which does not exist",
      'x.ts:2 cites docs/a.md "Missing", which has no such heading',
      "x.ts:3 cites CONTRIBUTING.md, which does not exist",
    ]);
    expect(
      brokenLinks("docs/a.md", "[ok](../README.md) [web](https://x.org) [gone](b.md#top) [here](#a)", (p) =>
        ["README.md"].includes(p),
      ),
    ).toEqual(["docs/a.md links b.md#top, which does not exist"]);
  });
});
