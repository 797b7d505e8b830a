import type { HttpProviderConfig, Settings } from '../config/settingsSchema';
import { AnthropicChatProvider } from './anthropicChatProvider';
import type { ChatProvider } from './chatProvider';
import { OpenAIChatProvider } from './openaiChatProvider';

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
