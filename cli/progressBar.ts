/**
 * A one-line progress bar with ETA on stderr (rewritten in place on a TTY, one line per 10 % otherwise).
 * ETA = elapsed / done · (total − done), from the steps done in this process (resumed steps excluded).
 */
export interface ProgressBar {
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
      : `${s}s`;
}

export function createProgressBar(
  label: string,
  total: number,
  options: { stream?: NodeJS.WritableStream & { isTTY?: boolean }; startAt?: number } = {},
): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const start = performance.now();
  const startAt = options.startAt ?? 0;
  let lastDecile = -1;
  const line = (done: number, note?: string) => {
    const fraction = total === 0 ? 1 : done / total;
    const filled = Math.round(fraction * 20);
    const elapsed = (performance.now() - start) / 1000;
    const rate = (done - startAt) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    return `${label} [${"#".repeat(filled)}${".".repeat(20 - filled)}] ${done}/${total} ${Math.round(fraction * 100)}% ETA ${formatDuration(eta)}${note ? ` ${note}` : ""}`;
  };
  return {
    update(done, note) {
      if (stream.isTTY) stream.write(`\r${line(done, note)}\x1b[K`);
      else {
        const decile = Math.floor((done / Math.max(1, total)) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          stream.write(`${line(done, note)}\n`);
        }
      }
    },
    finish(note) {
      stream.write(`${stream.isTTY ? "\r" : ""}${line(total, note)}${stream.isTTY ? "\x1b[K" : ""}\n`);
    },
  };
}
