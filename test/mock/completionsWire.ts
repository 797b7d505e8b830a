import type * as http from 'node:http';
import { countTokens, streamReply, type Behaviour, type Wire } from './mockLlmServer';

/**
 * The OpenAI legacy completions wire format (`POST /v1/completions`), as fill-in-the-middle
 * servers (Ollama, vLLM, DeepSeek, Mistral-style) speak it: a `text_completion` object, or
 * server-sent `text_completion` chunks with `choices[0].text`, a usage chunk, and `[DONE]`.
 */

export interface CompletionBody {
  model?: string;
  prompt?: string | string[];
  suffix?: string | null;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  stop?: string | string[] | null;
}

type Reply = Extract<Behaviour, { kind: 'reply' }>;

export function isCompletionsPath(url: string | undefined): boolean {
  return /\/v1\/completions$/.test((url ?? '').split('?')[0]);
}

/** What the mock fills in when the test gave no text: it names the suffix's first line, to show it saw it. */
export function defaultCompletion(body: CompletionBody): string {
  const before = (body.suffix ?? '').split('\n').find((line) => line.trim() !== '');
  return `/* mock fill from ${body.model ?? 'unknown-model'}${before === undefined ? '' : ` before ${JSON.stringify(before.trim())}`} */`;
}

function usage(body: CompletionBody, text: string) {
  const prompt = [body.prompt ?? ''].flat().join('\n') + (body.suffix ?? '');
  const prompt_tokens = countTokens(prompt);
  const completion_tokens = countTokens(text);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function completion(body: CompletionBody, text: string, finishReason: string | null) {
  return {
    id: 'cmpl-mock',
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
  };
}

/** Answers a `reply` behaviour in the completions format, streamed when the request asked for it. */
async function writeCompletion(behaviour: Reply, body: CompletionBody, res: http.ServerResponse): Promise<void> {
  const text = behaviour.text ?? defaultCompletion(body);
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...completion(body, text, 'stop'), usage: behaviour.omitUsage ? undefined : usage(body, text) }));
    return;
  }
  const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
  const withUsage = body.stream_options?.include_usage && !behaviour.omitUsage;
  await streamReply(behaviour, text, res, {
    opening: () => [],
    piece: (piece) => data(completion(body, piece, null)),
    closing: () => [
      data(completion(body, '', 'stop')),
      // As OpenAI sends it: a last chunk with no choices.
      ...(withUsage ? [data({ ...completion(body, '', null), choices: [], usage: usage(body, text) })] : []),
      'data: [DONE]\n\n',
    ],
    error: (type, message) => data({ error: { type, message } }),
  });
}

export const completionsWire: Wire = { reply: writeCompletion };
