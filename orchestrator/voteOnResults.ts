/**
 * Selecting the answer: a vote over execution results.
 *
 * 1. Candidates whose query executed are grouped by their result (`resultKey`: the rows as a multiset of
 *    canonical cells — numbers by value, so `100000` and `'100000.00'` agree — with column names ignored).
 * 2. The largest group wins; a tie goes to the group with the higher summed candidate confidence, then
 *    to the earlier candidate.
 * 3. confidence = votes of the winning group / all candidates (those without SQL, invalid or failed
 *    included), so disagreement and failures lower it.
 * The winning SQL is the group's most confident candidate's.
 *
 * @example
 * voteOnResults([{ sql: "SELECT 1", confidence: 0.6, resultKey: "k1" }, { sql: "SELECT 1.0", confidence: 0.4, resultKey: "k1" }, { sql: null, confidence: 0, resultKey: null }]);
 * // { winner: 0, votes: 2, share: 0.666… }
 */

export interface Ballot {
  sql: string | null;
  confidence: number;
  /** null: not executed or failed. */
  resultKey: string | null;
}

export interface VoteOutcome {
  /** Index of the winning candidate, null when none executed. */
  winner: number | null;
  votes: number;
  /** votes / candidates, 0..1. */
  share: number;
}

function canonicalCell(value: unknown): string {
  if (value === null || value === undefined) return "∅";
  if (typeof value === "number" || typeof value === "bigint") return `n:${Number(value)}`;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return `n:${Number(value)}`;
  if (value instanceof Date) return `s:${value.toISOString()}`;
  return `s:${typeof value === "object" ? JSON.stringify(value) : String(value)}`;
}

/** A result's identity for voting: the multiset of its rows (column names and order ignored). */
export function resultKey(rows: readonly (readonly unknown[])[]): string {
  return JSON.stringify(rows.map((r) => r.map(canonicalCell).sort().join("\u0001")).sort());
}

/** The vote (see the file comment). */
export function voteOnResults(ballots: readonly Ballot[]): VoteOutcome {
  const groups = new Map<string, { members: number[]; weight: number }>();
  ballots.forEach((b, i) => {
    if (b.resultKey === null || b.sql === null) return;
    const g = groups.get(b.resultKey) ?? { members: [], weight: 0 };
    g.members.push(i);
    g.weight += b.confidence;
    groups.set(b.resultKey, g);
  });
  let best: { members: number[]; weight: number } | undefined;
  for (const g of groups.values()) {
    if (
      !best ||
      g.members.length > best.members.length ||
      (g.members.length === best.members.length && g.weight > best.weight)
    )
      best = g;
  }
  if (!best || ballots.length === 0) return { winner: null, votes: 0, share: 0 };
  const winner = best.members.reduce((a, b) => (ballots[b]!.confidence > ballots[a]!.confidence ? b : a));
  return { winner, votes: best.members.length, share: best.members.length / ballots.length };
}
