import type OpenAI from 'openai';
import type { HttpProviderConfig } from '../config/settingsSchema';
import { estimateMessagesTokens, type ChatProvider, type ChatRequest, type ChatResult } from './chatProvider';
import { OpenAIStreamingClient } from './openaiShared';

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

/** OpenAI-compatible chat completions (`/chat/completions`). */
export class OpenAIChatProvider implements ChatProvider {
  private readonly client: OpenAIStreamingClient;

  constructor(options: OpenAIChatOptions) {
    this.client = new OpenAIStreamingClient(options);
  }

  streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    return this.client.stream<OpenAI.ChatCompletionChunk>(
      {
        path: '/chat/completions',
        body: {
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxOutputTokens,
          temperature: request.temperature,
        },
        read: (chunk) => ({ usage: chunk.usage, finishReason: chunk.choices?.[0]?.finish_reason, text: chunk.choices?.[0]?.delta?.content }),
        estimateInputTokens: () => estimateMessagesTokens(request.messages),
      },
      onText,
      signal,
    );
  }
}
