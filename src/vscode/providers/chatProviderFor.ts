import type { Settings } from '../../core/config/settingsSchema';
import type { ChatProvider } from '../../core/providers/chatProvider';
import type { HttpProviderClients } from '../../core/providers/providerFactory';
import type { RoutedModel } from '../../core/route/routeDecision';
import { LanguageModelChatProvider } from './languageModelChatProvider';

/** The client for one model of a route: HTTP providers from core, `vscode-lm` through VS Code. */
export function chatProviderFor(routed: RoutedModel, apiKey: string | undefined, settings: Settings, clients: HttpProviderClients): ChatProvider {
  const { provider } = routed;
  if (provider.kind === 'vscode-lm') {
    return new LanguageModelChatProvider({ model: routed.model });
  }
  return clients.get(provider, apiKey, settings.request);
}
