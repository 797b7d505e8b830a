import type * as http from 'node:http';
import { countTokens, replyText, streamReply, type Reply, type StreamFrames, type Wire } from './mockLlmServer';
import { argumentPieces, argumentValue, callId, callsText, contentText, type MockToolCall, type ToolView } from './mockToolCalls';

/**
 * The Anthropic Messages API wire format for the mock server: error bodies, whole answers and the
 * server-sent-event stream (`message_start` … `message_stop`, with `event:` lines). Tool calls
 * follow the text as `tool_use` blocks (streamed as `input_json_delta` pieces) and end the answer
 * with `stop_reason: "tool_use"`; mockLlmServer.ts says how a test asks for them.
 */

/** A content block as clients send it: text, a tool call the model made, or a tool's result. */
interface MessagesBlock {
  type?: string;
  text?: unknown;
  /** `tool_use` blocks. */
  id?: string;
  name?: string;
  input?: unknown;
  /** `tool_result` blocks. */
  tool_use_id?: string;
  content?: string | { text?: unknown }[];
  is_error?: boolean;
}

/** The parts of a Messages API request the mock reads. */
export interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: string | { text?: string }[];
  messages?: { role: string; content: string | MessagesBlock[] }[];
  max_tokens?: number;
  tools?: { name?: unknown; description?: string; input_schema?: unknown }[];
  tool_choice?: { type?: string; name?: string };
}

/** All a content says, tool calls and results included, for counting its tokens. */
function textOf(content: string | MessagesBlock[] | undefined): string {
  if (typeof content !== 'object') return content ?? '';
  return content
    .map((block) => {
      if (block.type === 'tool_use') return (block.name ?? '') + JSON.stringify(block.input ?? {});
      if (block.type === 'tool_result') return contentText(block.content);
      return typeof block.text === 'string' ? block.text : '';
    })
    .join('');
}

function usage(body: MessagesBody, text: string, calls: readonly MockToolCall[]): { input_tokens: number; output_tokens: number } {
  const prompt = [textOf(body.system), ...(body.messages ?? []).map((m) => textOf(m.content))].join('\n');
  return { input_tokens: countTokens(prompt), output_tokens: countTokens(text + callsText(calls)) };
}

/** The tools a request offers, and the `tool_result` blocks of its last message when that is the user's. */
function messagesToolView(body: MessagesBody): ToolView {
  const offered = (body.tools ?? []).map((tool) => tool.name).filter((name): name is string => typeof name === 'string');
  const last = body.messages?.[body.messages.length - 1];
  const blocks = last?.role === 'user' && typeof last.content === 'object' ? last.content : [];
  return { offered, results: blocks.filter((block) => block.type === 'tool_result').map((block) => contentText(block.content)) };
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

const stopReason = (calls: readonly MockToolCall[]) => (calls.length > 0 ? 'tool_use' : 'end_turn');

/** A whole (not streamed) answer. */
function anthropicMessage(body: MessagesBody, text: string, calls: readonly MockToolCall[], omitUsage: boolean): object {
  const uses = calls.map((call, i) => ({ type: 'tool_use', id: callId(call, i, 'toolu'), name: call.name, input: argumentValue(call) }));
  return {
    id: 'msg_mock',
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [...(text || uses.length === 0 ? [{ type: 'text', text }] : []), ...uses],
    stop_reason: stopReason(calls),
    stop_sequence: null,
    usage: omitUsage ? undefined : usage(body, text, calls),
  };
}

const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * The event stream of one answer. Input tokens come with `message_start`; the running output
 * total with `message_delta`, as the real service sends them.
 */
function anthropicFrames(body: MessagesBody, text: string, calls: readonly MockToolCall[], omitUsage: boolean): StreamFrames {
  const counted = usage(body, text, calls);
  // Each call is a block after the text's (index 0): its id and name, then its input in pieces.
  const callFrames = calls.flatMap((call, i) => [
    event('content_block_start', { index: i + 1, content_block: { type: 'tool_use', id: callId(call, i, 'toolu'), name: call.name, input: {} } }),
    ...argumentPieces(call).map((piece) => event('content_block_delta', { index: i + 1, delta: { type: 'input_json_delta', partial_json: piece } })),
    event('content_block_stop', { index: i + 1 }),
  ]);
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
      ...callFrames,
      event('message_delta', {
        delta: { stop_reason: stopReason(calls), stop_sequence: null },
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
  reply(behaviour: Reply, body: MessagesBody, res: http.ServerResponse): Promise<void> {
    const text = replyText(behaviour, body);
    const calls = behaviour.toolCalls ?? [];
    const omitUsage = behaviour.omitUsage ?? false;
    if (body.stream) return streamReply(behaviour, text, res, anthropicFrames(body, text, calls, omitUsage));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(anthropicMessage(body, text, calls, omitUsage)));
    return Promise.resolve();
  },
  toolView: messagesToolView,
  errorBody: (status, message) => anthropicError(anthropicErrorType(status), message),
  malformed: 'event: content_block_delta\ndata: {"type": "content_block_delta", this is not json\n\n',
};
