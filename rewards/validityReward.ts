/**
 * Syntax and schema validity, graded: 0 no SQL or unparseable; 0.5 parses but names a table or column
 * that does not exist; 1 parses and every name resolves. (Refusals are the safety penalty's business,
 * not this one's: a refused but well-formed query still scores its validity.)
 *
 * Range {0, 0.5, 1}; never null (a sample without validation counts as invalid).
 *
 * @example
 * await validityReward([{ …, sql: "SELECT nme FROM projects", validation: { syntaxValid: true, schemaValid: false, refused: false, errors } }]); // [0.5]
 */
import type { RewardFunction } from "./rewardSample.js";

export const validityReward: RewardFunction = async (samples) =>
  samples.map((s) => {
    if (s.sql === null || s.validation === undefined || !s.validation.syntaxValid) return 0;
    return s.validation.schemaValid ? 1 : 0.5;
  });
