import type { Settings } from '../../core/config/settingsSchema';
import type { ChatProvider } from '../../core/providers/chatProvider';
import { httpChatProvider } from '../../core/providers/providerFactory';
import type { RoutedModel } from '../../core/route/routeDecision';
import { LanguageModelChatProvider } from './languageModelChatProvider';

/** The client for one model of a route: HTTP providers from core, `vscode-lm` through VS Code. */
export function chatProviderFor(routed: RoutedModel, apiKey: string | undefined, settings: Settings): ChatProvider {
  const { provider } = routed;
  if (provider.kind === 'vscode-lm') {
    return new LanguageModelChatProvider({ model: routed.model });
  }
  return httpChatProvider(provider, apiKey, settings.request);
}
