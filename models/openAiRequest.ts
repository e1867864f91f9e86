/**
 * One JSON request to an OpenAI-compatible server (llama-server, vLLM, SGLang, Ollama, OpenAI), with the
 * failure modes turned into one clear error each. docs/remote-models.md, "Errors and retries".
 *
 * 1. Time: the caller's AbortSignal and a per-request limit (`timeoutMs`) together; the caller's abort is an
 *    AbortError, the limit a TimeoutError.
 * 2. Retries: only an answer that says "try again" — 429 (rate limit) and 5xx — with exponential backoff
 *    (backoffMs · 2^attempt, or the server's Retry-After when it is sooner than 30 s). A 4xx other than 429 is the
 *    request's fault and is final; a refused connection is final too (nothing listens: retrying only delays
 *    the error line).
 * 3. Errors (ModelError codes): model.unreachable (connection refused, unknown host), model.auth (401/403),
 *    model.notOpenAi (404, or an answer that is not JSON: an HTML page), model.request (other 4xx, the server's
 *    message), model.server (429/5xx after the retries).
 * The API key is sent as `Authorization: Bearer`, from `GL_RL_OPENAI_API_KEY`, else `OPENAI_API_KEY`.
 */
import { AbortError, ModelError, TimeoutError } from "../errors.js";

export interface OpenAiRequestOptions {
  /** The bearer token; default `GL_RL_OPENAI_API_KEY`, else `OPENAI_API_KEY`, else none. */
  apiKey?: string;
  /** Limit per attempt, ms; default 120000. */
  timeoutMs?: number;
  /** Retries after a 429/5xx answer; default 3. */
  retries?: number;
  /** First backoff, ms (doubled per retry); default 500. */
  backoffMs?: number;
}

/** The API key from the environment: `GL_RL_OPENAI_API_KEY`, else `OPENAI_API_KEY`. */
export function openAiApiKey(): string | undefined {
  return process.env.GL_RL_OPENAI_API_KEY?.trim() || process.env.OPENAI_API_KEY?.trim() || undefined;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

function excerpt(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The server's own error message from an OpenAI-style error body, else an excerpt of the body. */
function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === "string") return message;
  } catch {}
  return excerpt(body);
}

const BASE_HINT = "the base URL is the server's OpenAI API root, e.g. --model openai:http://127.0.0.1:8080/v1";

/**
 * Sends one request (GET without body, POST with one) and returns the parsed JSON answer.
 * @example
 * const models = await openAiRequest("http://127.0.0.1:8080/v1/models");
 */
export async function openAiRequest(
  url: string,
  body?: unknown,
  options: OpenAiRequestOptions = {},
  signal?: AbortSignal,
): Promise<unknown> {
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const apiKey = options.apiKey ?? openAiApiKey();
  const what = `${body === undefined ? "GET" : "POST"} ${url}`;
  for (let attempt = 0; ; attempt += 1) {
    if (signal?.aborted) throw new AbortError();
    const limit = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, limit]) : limit,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw new AbortError("the request to the model server was aborted", { cause: error });
      if (limit.aborted)
        throw new TimeoutError(`the model server did not answer ${what} within ${timeoutMs} ms`, {
          hint: "raise --timeout, or check the server's load (a long queue of requests)",
          context: { url },
          cause: error,
        });
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new ModelError("model.unreachable", `cannot reach the model server: ${what} failed (${reason})`, {
        hint: "start the server (e.g. llama-server -m model.gguf --port 8080) or fix the URL in --model openai:<url>",
        context: { url },
        cause: error,
      });
    }
    const status = response.status;
    if (status === 429 || status >= 500) {
      if (attempt < retries) {
        const retryAfter = Number(response.headers.get("retry-after")) * 1000;
        const wait = backoffMs * 2 ** attempt;
        await sleep(retryAfter > 0 && retryAfter < 30_000 ? Math.min(retryAfter, wait * 4) : wait, signal);
        continue;
      }
      throw new ModelError(
        "model.server",
        `the model server answered ${what} with ${status} after ${retries + 1} attempts: ${serverMessage(text)}`,
        { hint: "the server is overloaded or failing; check its log, or retry later", context: { url, status } },
      );
    }
    if (status === 401 || status === 403)
      throw new ModelError("model.auth", `the model server refused ${what} (${status}): ${serverMessage(text)}`, {
        hint: "set the API key in GL_RL_OPENAI_API_KEY (or OPENAI_API_KEY)",
        context: { url, status },
      });
    if (status === 404)
      throw new ModelError("model.notOpenAi", `${url} is not an OpenAI-compatible endpoint: ${what} answered 404`, {
        hint: BASE_HINT,
        context: { url, status },
      });
    const type = response.headers.get("content-type") ?? "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (status >= 400)
        throw new ModelError("model.request", `the model server refused ${what} (${status}): ${excerpt(text)}`, {
          hint: "check the model name and the generation parameters",
          context: { url, status },
        });
      throw new ModelError(
        "model.notOpenAi",
        `${url} is not an OpenAI-compatible server: ${what} answered ${type || "no content type"}, not JSON (${excerpt(text)})`,
        { hint: BASE_HINT, context: { url, status } },
      );
    }
    if (status >= 400)
      throw new ModelError("model.request", `the model server refused ${what} (${status}): ${serverMessage(text)}`, {
        hint: "check the model name and the generation parameters",
        context: { url, status },
      });
    return parsed;
  }
}
