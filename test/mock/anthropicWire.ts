import type * as http from 'node:http';
import { countTokens, defaultAnswer, streamReply, type Behaviour, type StreamFrames, type Wire } from './mockLlmServer';

/**
 * The Anthropic Messages API wire format for the mock server: error bodies, whole answers and the
 * server-sent-event stream (`message_start` … `message_stop`, with `event:` lines).
 */

/** The parts of a Messages API request the mock reads. */
export interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: string | { text?: string }[];
  messages?: { role: string; content: string | { text?: string }[] }[];
  max_tokens?: number;
}

const textOf = (content: string | { text?: string }[] | undefined): string =>
  typeof content === 'string' ? content : (content ?? []).map((block) => block.text ?? '').join('');

function usage(body: MessagesBody, text: string): { input_tokens: number; output_tokens: number } {
  const prompt = [textOf(body.system), ...(body.messages ?? []).map((m) => textOf(m.content))].join('\n');
  return { input_tokens: countTokens(prompt), output_tokens: countTokens(text) };
}

/** The `error.type` Anthropic sends with an HTTP status. */
export function anthropicErrorType(status: number): string {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    529: 'overloaded_error',
  };
  return types[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** The body of an Anthropic error, in an HTTP answer or in an `error` event. */
export function anthropicError(type: string, message: string): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type, message } };
}

/** A whole (not streamed) answer. */
function anthropicMessage(body: MessagesBody, text: string, omitUsage: boolean): object {
  return {
    id: 'msg_mock',
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: omitUsage ? undefined : usage(body, text),
  };
}

const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * The event stream of one answer. Input tokens come with `message_start`; the running output
 * total with `message_delta`, as the real service sends them.
 */
function anthropicFrames(body: MessagesBody, text: string, omitUsage: boolean): StreamFrames {
  const counted = usage(body, text);
  return {
    opening: () => [
      event('message_start', {
        message: {
          id: 'msg_mock',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          ...(omitUsage ? {} : { usage: { input_tokens: counted.input_tokens, output_tokens: 1 } }),
        },
      }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
    ],
    piece: (piece) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }),
    closing: () => [
      event('content_block_stop', { index: 0 }),
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        ...(omitUsage ? {} : { usage: { output_tokens: counted.output_tokens } }),
      }),
      event('message_stop', {}),
    ],
    error: (type, message) => `event: error\ndata: ${JSON.stringify(anthropicError(type, message))}\n\n`,
  };
}

/** `POST /v1/messages`, under the host root (the SDK's base URL has no `/v1`). */
export function isMessagesPath(url: string | undefined): boolean {
  return /\/v1\/messages$/.test((url ?? '').split('?')[0]);
}

/** How the mock speaks the Messages API: replies, error bodies, and an unreadable event. */
export const anthropicWire: Wire = {
  reply(behaviour: Extract<Behaviour, { kind: 'reply' }>, body: MessagesBody, res: http.ServerResponse): Promise<void> {
    const text = behaviour.text ?? defaultAnswer(body);
    const omitUsage = behaviour.omitUsage ?? false;
    if (body.stream) return streamReply(behaviour, text, res, anthropicFrames(body, text, omitUsage));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(anthropicMessage(body, text, omitUsage)));
    return Promise.resolve();
  },
  errorBody: (status, message) => anthropicError(anthropicErrorType(status), message),
  malformed: 'event: content_block_delta\ndata: {"type": "content_block_delta", this is not json\n\n',
};
