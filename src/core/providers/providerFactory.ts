import type { HttpProviderConfig, Settings } from '../config/settingsSchema';
import { AnthropicChatProvider } from './anthropicChatProvider';
import type { ChatProvider, CompletionProvider } from './chatProvider';
import { OpenAIChatProvider } from './openaiChatProvider';
import { OpenAICompletionProvider } from './openaiCompletionProvider';

/** The three timeouts of a call, from the `coderoute.request.*` settings. */
export function callTimeouts(request: Settings['request']): { timeoutMs: number; connectTimeoutMs: number; idleTimeoutMs: number } {
  return {
    timeoutMs: request.timeoutSeconds * 1000,
    connectTimeoutMs: request.connectTimeoutSeconds * 1000,
    idleTimeoutMs: request.idleTimeoutSeconds * 1000,
  };
}

/** The client for a provider reached over HTTP; `vscode-lm` providers are made by the VS Code host. */
export function httpChatProvider(provider: HttpProviderConfig, apiKey: string | undefined, request: Settings['request']): ChatProvider {
  switch (provider.kind) {
    case 'openai':
      return new OpenAIChatProvider({ provider, apiKey, ...callTimeouts(request) });
    case 'anthropic':
      return new AnthropicChatProvider({ provider, apiKey, ...callTimeouts(request) });
  }
}

/**
 * Provider clients kept between requests: building an SDK client costs more than the rest of a
 * call's own work, so each (provider, key, timeouts) gets one, reused until any of them changes.
 * Holds at most `limit` clients, dropping the least recently used.
 */
export class HttpProviderClients {
  private readonly clients = new Map<string, ChatProvider | CompletionProvider>();

  constructor(private readonly limit = 32) {}

  get(provider: HttpProviderConfig, apiKey: string | undefined, request: Settings['request']): ChatProvider {
    return this.cached('chat', provider, apiKey, request, () => httpChatProvider(provider, apiKey, request)) as ChatProvider;
  }

  /** The fill-in-the-middle client (`/completions`); only OpenAI-compatible providers have one. */
  completions(provider: HttpProviderConfig, apiKey: string | undefined, request: Settings['request']): CompletionProvider {
    return this.cached('fim', provider, apiKey, request, () => new OpenAICompletionProvider({ provider, apiKey, ...callTimeouts(request) })) as CompletionProvider;
  }

  clear(): void {
    this.clients.clear();
  }

  private cached(api: string, provider: HttpProviderConfig, apiKey: string | undefined, request: Settings['request'], make: () => ChatProvider | CompletionProvider) {
    // The key is part of the identity: a changed key must never reuse a client holding the old one.
    const id = JSON.stringify([api, provider, apiKey ?? null, callTimeouts(request)]);
    let client = this.clients.get(id);
    if (client) {
      this.clients.delete(id);
    } else {
      client = make();
      if (this.clients.size >= this.limit) this.clients.delete(this.clients.keys().next().value as string);
    }
    this.clients.set(id, client);
    return client;
  }
}
