import type { ProviderError } from '../../src/core/providers/chatProvider';
import type { CallOutcome } from '../../src/core/providers/health/circuitBreaker';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { MockLlmServer } from '../mock/mockLlmServer';

/** A deployment of one model on its own loopback mock server, called through the real OpenAI client. */
export interface MockDeployment {
  key: string;
  weight?: number;
  server: MockLlmServer;
  provider: OpenAIChatProvider;
}

/** Starts one mock server per deployment; the key doubles as the provider id. */
export async function startFleet(specs: readonly { key: string; weight?: number }[]): Promise<MockDeployment[]> {
  return Promise.all(
    specs.map(async ({ key, weight }) => {
      const server = await MockLlmServer.start();
      const provider = new OpenAIChatProvider({
        provider: { id: key, kind: 'openai', baseUrl: server.baseUrl, auth: 'none' },
        apiKey: undefined,
        timeoutMs: 5000,
      });
      return { key, weight, server, provider };
    }),
  );
}

export async function closeFleet(fleet: readonly MockDeployment[]): Promise<void> {
  await Promise.all(fleet.map((d) => d.server.close()));
}

/** One streamed chat call to the deployment, reduced to what health tracking needs. */
export async function callDeployment(deployment: MockDeployment): Promise<CallOutcome> {
  try {
    await deployment.provider.streamChat(
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 16 },
      () => undefined,
      new AbortController().signal,
    );
    return { ok: true };
  } catch (error) {
    return { ok: false, kind: (error as ProviderError).kind };
  }
}

/** How many requests each deployment's server received, by key. */
export function requestCounts(fleet: readonly MockDeployment[]): Record<string, number> {
  return Object.fromEntries(fleet.map((d) => [d.key, d.server.requests.length]));
}
