import type OpenAI from 'openai';
import { estimateTokens, type ChatResult, type CompletionProvider, type CompletionRequest } from './chatProvider';
import type { OpenAIChatOptions } from './openaiChatProvider';
import { OpenAIStreamingClient } from './openaiShared';

/**
 * OpenAI-compatible legacy completions (`/completions`). With a `suffix` it is fill-in-the-middle,
 * the form Ollama, vLLM, DeepSeek and Mistral-style code models serve for inline completions.
 */
export class OpenAICompletionProvider implements CompletionProvider {
  private readonly client: OpenAIStreamingClient;

  constructor(options: OpenAIChatOptions) {
    this.client = new OpenAIStreamingClient(options);
  }

  streamCompletion(request: CompletionRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    return this.client.stream<OpenAI.Completion>(
      {
        path: '/completions',
        body: {
          model: request.model,
          prompt: request.prompt,
          suffix: request.suffix,
          max_tokens: request.maxOutputTokens,
          temperature: request.temperature,
          stop: request.stop,
        },
        read: (chunk) => ({ usage: chunk.usage, finishReason: chunk.choices?.[0]?.finish_reason, text: chunk.choices?.[0]?.text }),
        estimateInputTokens: () => estimateTokens(request.prompt) + estimateTokens(request.suffix ?? ''),
      },
      onText,
      signal,
    );
  }
}
