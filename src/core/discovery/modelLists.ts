import * as z from 'zod';

/**
 * Asking a server which models it has: a local Ollama's `/api/tags` (Ollama's own wire format), an
 * OpenAI-compatible `/models`, Anthropic's `/v1/models`. One GET with a short timeout, never
 * following a redirect (it could carry a key elsewhere); every way it can go wrong (an HTTP error,
 * a page of HTML, a redirect, no answer, JSON of another shape) becomes one sentence.
 */

export type FetchLike = (url: string, init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal }) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

/** Ollama on this machine: loopback only, never a name that could resolve elsewhere. */
export const OLLAMA_HOST = '127.0.0.1';
export const OLLAMA_DEFAULT_PORT = 11434;

export function ollamaRoot(port: number = OLLAMA_DEFAULT_PORT): string {
  return `http://${OLLAMA_HOST}:${port}`;
}

export interface ListedModel {
  name: string;
  family?: string;
  parameterSize?: string;
}

export type ModelListResult = { ok: true; models: ListedModel[] } | { ok: false; problem: string };

const ollamaTags = z.object({
  models: z.array(
    z.object({
      name: z.string().min(1),
      model: z.string().optional(),
      details: z.object({ family: z.string().optional(), parameter_size: z.string().optional() }).partial().optional(),
    }),
  ),
});

const openaiList = z.object({ data: z.array(z.object({ id: z.string().min(1) })) });

/** One GET of a JSON model list, its failures in words. */
async function getJson(fetchFn: FetchLike, url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ ok: true; json: unknown } | { ok: false; problem: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const where = new URL(url).host;
  try {
    const response = await fetchFn(url, { method: 'GET', headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal: controller.signal });
    const body = await response.text();
    if (response.status >= 300 && response.status < 400) {
      return { ok: false, problem: `${where} answered with a redirect (HTTP ${response.status}), which CodeRoute never follows: check the base URL.` };
    }
    if (response.status === 401 || response.status === 403) return { ok: false, problem: `${where} refused the key (HTTP ${response.status}).` };
    if (response.status >= 400) return { ok: false, problem: `${where} answered the model list with HTTP ${response.status}${errorText(body)}.` };
    if (body.trim() === '') return { ok: false, problem: `${where} answered the model list with nothing.` };
    const type = response.headers.get('content-type') ?? '';
    if (/html/i.test(type) || /^\s*</.test(body)) return { ok: false, problem: `${where} answered with a web page, not a model list: check the base URL.` };
    try {
      return { ok: true, json: JSON.parse(body) };
    } catch {
      return { ok: false, problem: `${where} answered with something that is not JSON: check the base URL.` };
    }
  } catch (error) {
    if (controller.signal.aborted) return { ok: false, problem: `${where} did not answer within ${Math.round(timeoutMs / 100) / 10} s.` };
    const detail = error instanceof Error ? ((error.cause as { code?: string } | undefined)?.code ?? error.message) : String(error);
    return { ok: false, problem: `${where} could not be reached (${detail}).` };
  } finally {
    clearTimeout(timer);
  }
}

function errorText(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } | string }).error;
    const text = typeof message === 'string' ? message : message?.message;
    return typeof text === 'string' && text ? `: ${text.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** The models of the Ollama on this machine (`GET /api/tags`). */
export async function listOllamaModels(fetchFn: FetchLike, port = OLLAMA_DEFAULT_PORT, timeoutMs = 1500): Promise<ModelListResult> {
  const answer = await getJson(fetchFn, `${ollamaRoot(port)}/api/tags`, {}, timeoutMs);
  if (!answer.ok) return answer;
  const parsed = ollamaTags.safeParse(answer.json);
  if (!parsed.success) return { ok: false, problem: `${ollamaRoot(port)} answered /api/tags with something other than Ollama's model list.` };
  return { ok: true, models: parsed.data.models.map((m) => ({ name: m.name, family: m.details?.family, parameterSize: m.details?.parameter_size })) };
}

/** A provider's own model list: the test call of Add Provider. */
export async function listProviderModels(
  fetchFn: FetchLike,
  provider: { kind: 'openai' | 'anthropic'; baseUrl: string },
  apiKey: string | undefined,
  timeoutMs = 10_000,
): Promise<ModelListResult> {
  const base = provider.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> =
    provider.kind === 'anthropic'
      ? { 'anthropic-version': '2023-06-01', ...(apiKey ? { 'x-api-key': apiKey } : {}) }
      : apiKey
        ? { authorization: `Bearer ${apiKey}` }
        : {};
  const url = provider.kind === 'anthropic' ? `${base}/v1/models` : `${base}/models`;
  const answer = await getJson(fetchFn, url, headers, timeoutMs);
  if (!answer.ok) return answer;
  const parsed = openaiList.safeParse(answer.json);
  if (!parsed.success) return { ok: false, problem: `${new URL(url).host} answered with JSON that is not a model list: check the base URL.` };
  return { ok: true, models: parsed.data.data.map((m) => ({ name: m.id })) };
}
