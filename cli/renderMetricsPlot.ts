/**
 * Renders training curves from a metrics JSONL (SFT or GRPO) as one standalone SVG — no dependencies.
 *
 * Panels, one per series that the file has (x = step): reward (rewardMean), execution accuracy
 * (`execution_accuracy` of SFT eval lines, `<split>_execution_accuracy` of GRPO's — one panel per split),
 * KL (klMean), loss (loss), dev loss (devLoss). Each panel is
 * 640×160 px with its own y range [min, max] (padded 5 %), a polyline, and min/max/last labels.
 */
import { parseJsonlLines } from "../data/jsonlLines.js";
import { InputError } from "../errors.js";

interface Series {
  title: string;
  points: [number, number][];
}

/**
 * A panel per key of the records that `key` matches (a name, or a pattern for keys that carry a split
 * name), titled by `title(key)`; `eval` panels read the `eval: true` lines.
 */
const PANELS: { key: string | RegExp; title: (key: string) => string; eval: boolean }[] = [
  { key: "rewardMean", title: () => "reward (mean)", eval: false },
  // SFT logs `execution_accuracy`; GRPO `<split>_execution_accuracy` (dev_…, or a JSONL split's name).
  {
    key: /(^|_)execution_accuracy$/,
    title: (k) => `${k === "execution_accuracy" ? "dev" : k.replace(/_execution_accuracy$/, "")} execution accuracy`,
    eval: true,
  },
  { key: "klMean", title: () => "KL (k3, token mean)", eval: false },
  { key: "loss", title: () => "loss", eval: false },
  { key: "devLoss", title: () => "dev loss", eval: true },
];

/** Parses metrics JSONL text into the series it holds. Bad lines → InputError with the line number. */
export function metricsSeries(text: string, file = "metrics.jsonl"): Series[] {
  const records = parseJsonlLines(text).map((parsed) => {
    if (parsed.error !== undefined) {
      throw new InputError(`${file} line ${parsed.line} ${parsed.error}`, {
        hint: "pass the metrics.jsonl a gl-rl trainer wrote",
        context: { file, line: parsed.line },
      });
    }
    return parsed.value;
  });
  const keysOf = (p: (typeof PANELS)[number]): string[] => {
    if (typeof p.key === "string") return [p.key];
    const pattern = p.key;
    return [
      ...new Set(
        records
          .filter((r) => (r.eval === true) === p.eval)
          .flatMap((r) => Object.keys(r).filter((k) => pattern.test(k))),
      ),
    ].sort();
  };
  return PANELS.flatMap((p) =>
    keysOf(p).map((key) => ({
      title: p.title(key),
      points: records
        .filter(
          (r) =>
            (r.eval === true) === p.eval &&
            typeof r.step === "number" &&
            typeof r[key] === "number" &&
            Number.isFinite(r[key]),
        )
        .map((r) => [r.step as number, r[key] as number] as [number, number]),
    })),
  ).filter((s) => s.points.length > 0);
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

export function renderMetricsPlot(text: string, options: { title?: string; file?: string } = {}): string {
  const series = metricsSeries(text, options.file);
  if (series.length === 0) {
    throw new InputError(`${options.file ?? "metrics"} has no plottable series`, {
      hint: "expected lines with step and rewardMean / loss / klMean / execution_accuracy",
    });
  }
  const W = 640,
    H = 160,
    pad = 40,
    gap = 30,
    top = 40;
  const height = top + series.length * (H + gap);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 2 * pad}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad}" y="24" font-size="16">${escapeXml(options.title ?? "gl-rl training")}</text>`,
  ];
  series.forEach((s, k) => {
    const y0 = top + k * (H + gap);
    const xs = s.points.map((p) => p[0]);
    const ys = s.points.map((p) => p[1]);
    const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
    let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
    const padY = (yMax - yMin || Math.abs(yMax) || 1) * 0.05;
    yMin -= padY;
    yMax += padY;
    const px = (x: number) => pad + (xMax === xMin ? W / 2 : ((x - xMin) / (xMax - xMin)) * W);
    const py = (y: number) => y0 + 20 + (1 - (y - yMin) / (yMax - yMin)) * (H - 20);
    parts.push(
      `<g class="panel"><text x="${pad}" y="${y0 + 12}">${escapeXml(s.title)} — last ${fmt(ys.at(-1)!)}, min ${fmt(Math.min(...ys))}, max ${fmt(Math.max(...ys))}</text>`,
      `<rect x="${pad}" y="${y0 + 20}" width="${W}" height="${H - 20}" fill="none" stroke="#ccc"/>`,
      `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")}"/>`,
      `<text x="${pad}" y="${y0 + H + 14}" fill="#666">step ${xMin}</text><text x="${pad + W}" y="${y0 + H + 14}" fill="#666" text-anchor="end">step ${xMax}</text></g>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
