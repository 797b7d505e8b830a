import {
  Anthropic,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  type ClientOptions,
} from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageParam, Tool, ToolChoice } from '@anthropic-ai/sdk/resources/messages';
import {
  ProviderError,
  estimateMessagesTokens,
  estimateTokens,
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ProviderErrorKind,
  type ToolSpec,
} from './chatProvider';
import type { OpenAIChatOptions } from './openaiChatProvider';
import { commonFailure, droppedMidAnswer, kindForStatus, redirectMessage, stoppedByUs, unreadable, withoutSecret, type FailureContext } from './providerErrors';
import { parseRetryAfter } from './retryPolicy';
import { ToolCallAssembler } from './toolCallAssembly';
import { callFetch, guardCall, viaCall, type CallTimeouts } from './transport';

/** Every HTTP provider takes the same options: its settings entry, its key and the call's timeouts. */
export type AnthropicChatOptions = OpenAIChatOptions;

/** The `error.type` of an Anthropic error body (or `error` stream event), as the router's error class. */
const KIND_FOR_ERROR_TYPE: Readonly<Record<string, ProviderErrorKind>> = {
  invalid_request_error: 'bad-request',
  authentication_error: 'auth',
  permission_error: 'forbidden',
  billing_error: 'forbidden',
  not_found_error: 'not-found',
  request_too_large: 'too-large',
  rate_limit_error: 'rate-limit',
  // Busy or failing for a moment: worth another try while nothing has reached the user.
  overloaded_error: 'server',
  api_error: 'server',
  timeout_error: 'server',
};

/**
 * The SDK client with every source of settings but ours shut off. Left to itself the SDK reads
 * ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL, ANTHROPIC_CUSTOM_HEADERS, profiles
 * and workload-identity tokens from the environment and the disk; any of them would send a
 * credential or extra headers that the user never configured for this provider.
 */
class SettingsOnlyAnthropic extends Anthropic {
  constructor(options: ClientOptions) {
    super(options);
    // The base constructor merges ANTHROPIC_CUSTOM_HEADERS into its copy of the options; put back ours.
    (this as unknown as { _options: ClientOptions })._options.defaultHeaders = options.defaultHeaders;
  }

  // The key from settings is the only credential: never a profile or token found on this machine.
  protected override _shouldResolveDefaultCredentials(): boolean {
    return false;
  }
}

/** A message's content as blocks: a user turn's tool results first, then its text, then an assistant turn's tool calls. */
function contentBlocks(message: ChatMessage): ContentBlockParam[] {
  const results = (message.toolResults ?? []).map(
    (result): ContentBlockParam => ({ type: 'tool_result', tool_use_id: result.callId, content: result.content, ...(result.isError ? { is_error: true } : {}) }),
  );
  const calls = (message.toolCalls ?? []).map((call): ContentBlockParam => ({ type: 'tool_use', id: call.id, name: call.name, input: call.input }));
  // The service refuses empty text blocks; a turn of only tool calls or results has none.
  const text: ContentBlockParam[] = message.content ? [{ type: 'text', text: message.content }] : [];
  return [...results, ...text, ...calls];
}

/**
 * The Messages API has no system role: system text goes in `system`, and the conversation must
 * alternate, so consecutive messages of one role are joined. Turns of plain text stay one string,
 * as before tools; a turn with tool blocks keeps its tool results first, because the service
 * wants them at the start of the user message that follows the calls.
 */
function toAnthropicMessages(messages: readonly ChatMessage[]): { system: string | undefined; messages: MessageParam[] } {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const turns: { role: 'user' | 'assistant'; texts: string[]; blocks: ContentBlockParam[] }[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    let last = turns[turns.length - 1];
    if (last?.role !== message.role) turns.push((last = { role: message.role, texts: [], blocks: [] }));
    last.texts.push(message.content);
    last.blocks.push(...contentBlocks(message));
  }
  const toMessage = ({ role, texts, blocks }: (typeof turns)[number]): MessageParam => {
    if (blocks.every((block) => block.type === 'text')) return { role, content: texts.join('\n\n') };
    const isResult = (block: ContentBlockParam) => block.type === 'tool_result';
    return { role, content: [...blocks.filter(isResult), ...blocks.filter((block) => !isResult(block))] };
  };
  return { system: system.length > 0 ? system.join('\n\n') : undefined, messages: turns.map(toMessage) };
}

/** The request's tools in Messages form, and `any` when the model must call one of them. */
function toAnthropicTools(tools: readonly ToolSpec[] | undefined, mode: ChatRequest['toolMode']): { tools?: Tool[]; tool_choice?: ToolChoice } {
  if (!tools?.length) return {};
  const specs = tools.map(
    (tool): Tool => ({
      name: tool.name,
      description: tool.description,
      input_schema: (tool.inputSchema ?? { type: 'object', properties: {} }) as Tool.InputSchema,
    }),
  );
  return mode === 'required' ? { tools: specs, tool_choice: { type: 'any' } } : { tools: specs };
}

/** Every prompt token the service read: cached ones are reported apart from `input_tokens`. */
function promptTokens(usage: { input_tokens: number | null; cache_creation_input_tokens: number | null; cache_read_input_tokens: number | null }): number | undefined {
  if (typeof usage.input_tokens !== 'number') return undefined;
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

function errorType(error: APIError): string | undefined {
  if (error.type) return error.type;
  const body = error.error as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}

/**
 * Anthropic's Messages API through the official SDK. As with every provider, the SDK's retries are
 * off (the router is the only retry loop) and its transport is the per-call guarded `fetch`.
 */
export class AnthropicChatProvider implements ChatProvider {
  private readonly client: Anthropic;

  constructor(private readonly options: AnthropicChatOptions) {
    const key = options.provider.auth === 'apiKey' ? options.apiKey : undefined;
    this.client = new SettingsOnlyAnthropic({
      // The SDK adds `/v1/messages`; a base URL written with `/v1` (as for OpenAI) would double it.
      baseURL: options.provider.baseUrl.replace(/\/v1\/?$/, ''),
      // `null` keeps the SDK from looking for a credential; the key travels in `x-api-key` below,
      // and `Authorization: null` tells the SDK that sending no bearer token is intended.
      apiKey: null,
      authToken: null,
      webhookKey: null,
      defaultHeaders: key ? { 'x-api-key': key, Authorization: null } : { Authorization: null },
      maxRetries: 0,
      timeout: options.timeoutMs,
      fetch: callFetch,
      // Its debug log and its traces could carry prompts and code, whatever the environment asks.
      logLevel: 'off',
      openTelemetry: false,
    });
  }

  private timeouts(): CallTimeouts {
    const { timeoutMs: totalMs, connectTimeoutMs, idleTimeoutMs } = this.options;
    return { totalMs, connectMs: connectTimeoutMs ?? totalMs, idleMs: idleTimeoutMs ?? totalMs };
  }

  async streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    const { provider } = this.options;
    let text = '';
    let finishReason: string | undefined;
    // What the server counted, each side kept apart: a stream cut before `message_delta` has
    // reported its input but not its output.
    let inputTokens: number | undefined;
    let outputTokens: number | undefined;
    const toolCalls = new ToolCallAssembler();
    // Incomplete tool calls are never part of a partial answer; their input still counts as output.
    const result = (): ChatResult => ({
      text,
      finishReason,
      usage: {
        inputTokens: inputTokens ?? estimateMessagesTokens(request.messages),
        outputTokens: outputTokens ?? estimateTokens(text + toolCalls.argumentText),
        estimated: inputTokens === undefined || outputTokens === undefined,
      },
    });
    if (provider.auth === 'apiKey' && !this.options.apiKey) {
      // Nothing was sent, so nothing is accounted.
      throw new ProviderError('auth', `No API key is set for ${provider.id}.`);
    }
    const { system, messages } = toAnthropicMessages(request.messages);
    // Each call gets its own transport: its timers, and redirects refused.
    const call = guardCall(this.timeouts());
    const context = (): FailureContext => ({ signal, call, baseUrl: provider.baseUrl, partial: result() });
    try {
      const stream = await this.client.messages.create(
        {
          model: request.model,
          system,
          messages,
          max_tokens: request.maxOutputTokens,
          ...toAnthropicTools(request.tools, request.toolMode),
          // No `temperature`: the Messages API of this SDK takes no sampling parameters.
          stream: true,
        },
        { signal, ...viaCall(call) },
      );
      let events = 0;
      let stopped = false;
      for await (const event of stream) {
        events++;
        switch (event.type) {
          case 'message_start':
            // Optional in practice: some Anthropic-compatible servers send no usage at all.
            if (event.message.usage) inputTokens = promptTokens(event.message.usage);
            break;
          case 'content_block_start':
            // The call's input follows as `input_json_delta` pieces; the block's own `input` is `{}`.
            if (event.content_block.type === 'tool_use') toolCalls.name(event.index, event.content_block.id, event.content_block.name);
            break;
          case 'content_block_delta':
            if (event.delta.type === 'text_delta' && event.delta.text) {
              text += event.delta.text;
              onText(event.delta.text);
            } else if (event.delta.type === 'input_json_delta') {
              toolCalls.append(event.index, event.delta.partial_json);
            }
            break;
          case 'message_delta':
            if (event.delta.stop_reason) finishReason = event.delta.stop_reason;
            // Running totals, not increments.
            if (typeof event.usage?.output_tokens === 'number') outputTokens = event.usage.output_tokens;
            if (event.usage) inputTokens = promptTokens(event.usage) ?? inputTokens;
            break;
          case 'message_stop':
            stopped = true;
            break;
        }
      }
      // The SDK ends the iteration quietly when aborted (cancelled or timed out); that answer is not complete.
      const ours = stoppedByUs(context());
      if (ours) throw ours;
      // A login page or proxy error served with status 200 parses as a stream with no events.
      if (events === 0) {
        throw new ProviderError('bad-response', `${provider.baseUrl} answered without an event stream; check the base URL.`, undefined, result());
      }
      if (!stopped) {
        throw new ProviderError('connection', `The connection to ${provider.baseUrl} ended before the answer was complete.`, undefined, result());
      }
      const calls = toolCalls.finish(request.model, result);
      return calls ? { ...result(), toolCalls: calls } : result();
    } catch (error) {
      throw withoutSecret(this.classify(error, context()), this.options.apiKey);
    } finally {
      call.dispose();
    }
  }

  private classify(error: unknown, context: FailureContext): ProviderError {
    const common = commonFailure(error, context, { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError }, this.options.timeoutMs);
    if (common) return common;
    const { baseUrl, partial } = context;
    if (error instanceof APIError) {
      const type = errorType(error);
      const detail = error.apiMessage ?? error.message;
      if (error.status === undefined) {
        // An `error` event inside a 200 stream: the service failed after accepting the request.
        const kind = (type && KIND_FOR_ERROR_TYPE[type]) || 'server';
        return new ProviderError(kind, `The provider reported an error mid-stream: ${type ?? 'error'}: ${detail}`, undefined, partial);
      }
      const kind = kindForStatus(error.status);
      const message = kind === 'redirect' ? redirectMessage(baseUrl, error.status) : `HTTP ${error.status}: ${detail}`;
      return new ProviderError(kind, message, error.status, partial, parseRetryAfter(error.headers, Date.now()));
    }
    return droppedMidAnswer(error, context) ?? unreadable(error, partial);
  }
}
