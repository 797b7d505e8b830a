import type OpenAI from 'openai';
import type { HttpProviderConfig } from '../config/settingsSchema';
import { estimateMessagesTokens, type ChatMessage, type ChatProvider, type ChatRequest, type ChatResult, type ToolSpec } from './chatProvider';
import { OpenAIStreamingClient } from './openaiShared';
import { toolResultText } from './toolCallAssembly';

export interface OpenAIChatOptions {
  provider: HttpProviderConfig;
  /** Undefined when the provider needs no key. */
  apiKey: string | undefined;
  /** Total deadline for one call, in milliseconds. */
  timeoutMs: number;
  /** Until the response starts; defaults to the total deadline. */
  connectTimeoutMs?: number;
  /** Longest silence mid-answer; defaults to the total deadline. */
  idleTimeoutMs?: number;
}

/** A tool with no schema still needs one on this wire: an object with no declared properties. */
const NO_PARAMETERS = { type: 'object', properties: {} };

function toOpenAITools(tools: readonly ToolSpec[]): OpenAI.ChatCompletionFunctionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema ?? NO_PARAMETERS },
  }));
}

/**
 * The conversation in chat-completions form. A turn's tool calls ride on its assistant message
 * (`content` null when the turn had no text, as OpenAI sends it); each tool result is a `tool`
 * message of its own, which must directly follow the assistant message that made the call, so a
 * user turn's results come before its text, and the text only when there is some.
 */
export function toOpenAIMessages(messages: readonly ChatMessage[]): OpenAI.ChatCompletionMessageParam[] {
  return messages.flatMap((message): OpenAI.ChatCompletionMessageParam[] => {
    const { role, content, toolCalls, toolResults } = message;
    if (role === 'assistant' && toolCalls?.length) {
      const calls = toolCalls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.name, arguments: JSON.stringify(call.input) },
      }));
      return [{ role, content: content || null, tool_calls: calls }];
    }
    if (role === 'user' && toolResults?.length) {
      const results = toolResults.map((result) => ({ role: 'tool' as const, tool_call_id: result.callId, content: toolResultText(result) }));
      return content ? [...results, { role, content }] : results;
    }
    return [{ role, content }];
  });
}

/** OpenAI-compatible chat completions (`/chat/completions`). */
export class OpenAIChatProvider implements ChatProvider {
  private readonly client: OpenAIStreamingClient;

  constructor(options: OpenAIChatOptions) {
    this.client = new OpenAIStreamingClient(options);
  }

  streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    const tools = request.tools?.length ? toOpenAITools(request.tools) : undefined;
    return this.client.stream<OpenAI.ChatCompletionChunk>(
      {
        path: '/chat/completions',
        body: {
          model: request.model,
          messages: toOpenAIMessages(request.messages),
          max_tokens: request.maxOutputTokens,
          temperature: request.temperature,
          // Without tools there is nothing to choose, and some servers reject a `tool_choice` alone.
          tools,
          tool_choice: tools && request.toolMode === 'required' ? 'required' : undefined,
        },
        read: (chunk) => {
          const choice = chunk.choices?.[0];
          return { usage: chunk.usage, finishReason: choice?.finish_reason, text: choice?.delta?.content, toolCalls: choice?.delta?.tool_calls };
        },
        estimateInputTokens: () => estimateMessagesTokens(request.messages),
      },
      onText,
      signal,
    );
  }
}
