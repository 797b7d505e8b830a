import * as vscode from 'vscode';
import type { ModelConfig } from '../../core/config/settingsSchema';
import {
  ProviderError,
  estimateMessagesTokens,
  estimateTokens,
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ProviderErrorKind,
} from '../../core/providers/chatProvider';

/** How the provider finds VS Code's chat models; `vscode.lm.selectChatModels` unless a test passes its own. */
export type ChatModelSelector = (selector?: vscode.LanguageModelChatSelector) => Thenable<vscode.LanguageModelChat[]>;

export interface LanguageModelChatOptions {
  /** The `coderoute.models` entry: its `premiumRequests` multiplier is what one call costs. */
  model: Pick<ModelConfig, 'id' | 'premiumRequests'>;
  selectModels?: ChatModelSelector;
}

/** Shown in VS Code's consent prompt the first time CodeRoute asks for a model. */
const JUSTIFICATION = 'CodeRoute sends the code you ask about to the model you chose for the task in coderoute.models.';

/**
 * VS Code's Language Model API (`vscode.lm`): the models other extensions offer, such as GitHub
 * Copilot's, with no URL and no key. The API reports no usage, so tokens are counted with the
 * model's own tokenizer and marked estimated; the cost unit is premium requests, not dollars.
 * No timers: the first call may wait on the user's consent prompt, which no deadline should cut.
 */
export class LanguageModelChatProvider implements ChatProvider {
  private readonly selectModels: ChatModelSelector;

  constructor(private readonly options: LanguageModelChatOptions) {
    this.selectModels = options.selectModels ?? ((selector) => vscode.lm.selectChatModels(selector));
  }

  async streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult> {
    if (signal.aborted) throw new ProviderError('cancelled', 'The request was cancelled.');
    const chat = await this.resolveModel(request.model).catch((error: unknown) => {
      throw error instanceof ProviderError ? error : this.classify(error, request.model, signal, undefined);
    });
    const messages = toLanguageModelMessages(request.messages);
    const source = new vscode.CancellationTokenSource();
    const cancel = () => source.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    // The user may have cancelled while the model was being looked up.
    if (signal.aborted) cancel();
    // Counted beside the request, so that the answer does not wait for it.
    const inputTokens = countInput(chat, messages, request.messages);
    let text = '';
    let accepted = false;
    const result = async (): Promise<ChatResult> => {
      const [input, output] = [await inputTokens, await countText(chat, text)];
      return {
        text,
        usage: {
          inputTokens: input.tokens,
          outputTokens: output.tokens,
          estimated: true,
          // The model's own count is kept; a rough one is left for the router to recount.
          ...(input.byModel && output.byModel ? { estimatedBy: 'model' as const } : {}),
        },
        premiumRequests: this.options.model.premiumRequests,
      };
    };
    try {
      const response = await chat.sendRequest(messages, { justification: JUSTIFICATION }, source.token);
      accepted = true;
      for await (const delta of response.text) {
        if (signal.aborted) break;
        text += delta;
        onText(delta);
      }
      // Cancelling may end the stream quietly; that answer is not complete.
      if (signal.aborted) throw new ProviderError('cancelled', 'The request was cancelled.', undefined, await result());
      return await result();
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      // A request the model refused consumed nothing: no tokens, no premium requests.
      throw this.classify(error, request.model, signal, accepted ? await result() : undefined);
    } finally {
      signal.removeEventListener('abort', cancel);
      source.dispose();
    }
  }

  /** The model whose `id`, else whose `family`, is the configured name. */
  private async resolveModel(name: string): Promise<vscode.LanguageModelChat> {
    const [byId] = await this.selectModels({ id: name });
    if (byId) return byId;
    const [byFamily] = await this.selectModels({ family: name });
    if (byFamily) return byFamily;
    const available = await this.selectModels();
    if (available.length === 0) {
      throw new ProviderError(
        'not-found',
        'No VS Code language models are available: install and sign in to an extension that provides them, such as GitHub Copilot.',
      );
    }
    const names = available.map((m) => `${m.id} (${m.name})`).join(', ');
    throw new ProviderError(
      'not-found',
      `No VS Code language model has the id or family "${name}" (model ${this.options.model.id} in coderoute.models). Available: ${names}.`,
    );
  }

  private classify(error: unknown, name: string, signal: AbortSignal, partial: ChatResult | undefined): ProviderError {
    if (signal.aborted || error instanceof vscode.CancellationError) {
      return new ProviderError('cancelled', 'The request was cancelled.', undefined, partial);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof vscode.LanguageModelError) {
      const known = LANGUAGE_MODEL_ERRORS[error.code];
      if (known) return new ProviderError(known.kind, known.message(name, message), undefined, partial);
    }
    return new ProviderError('server', `The VS Code language model "${name}" failed: ${message}`, undefined, partial);
  }
}

/** `LanguageModelError.code` is the name of the factory that made it (`NoPermissions`, …). */
const LANGUAGE_MODEL_ERRORS: Record<string, { kind: ProviderErrorKind; message: (name: string, detail: string) => string }> = {
  [vscode.LanguageModelError.NoPermissions.name]: {
    kind: 'forbidden',
    message: (name) =>
      `CodeRoute is not allowed to use the VS Code language model "${name}": allow it in the Accounts menu, under the account of the extension that provides the model (for Copilot, your GitHub account) › Manage Trusted Extensions.`,
  },
  [vscode.LanguageModelError.Blocked.name]: {
    kind: 'rate-limit',
    message: (name, detail) => `The VS Code language model "${name}" refused the request; its quota may be used up (${detail}).`,
  },
  [vscode.LanguageModelError.NotFound.name]: {
    kind: 'not-found',
    message: (name, detail) => `The VS Code language model "${name}" is no longer available (${detail}).`,
  },
};

/**
 * The request's messages for `vscode.lm`, which has no system role in VS Code 1.100: system text
 * leads the first user message (or is a user message of its own when the first turn is not the user's).
 */
export function toLanguageModelMessages(messages: readonly ChatMessage[]): vscode.LanguageModelChatMessage[] {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const turns = messages.filter((m) => m.role !== 'system');
  const [first, ...rest] = turns;
  const folded: ChatMessage[] = !system
    ? turns
    : first?.role === 'user'
      ? [{ role: 'user', content: `${system}\n\n${first.content}` }, ...rest]
      : [{ role: 'user', content: system }, ...turns];
  return folded.map((m) =>
    m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(m.content) : vscode.LanguageModelChatMessage.User(m.content),
  );
}

/** A token count, and whether the model's own tokenizer made it (else the rough estimate did). */
interface Count {
  tokens: number;
  byModel: boolean;
}

async function countInput(
  chat: vscode.LanguageModelChat,
  messages: readonly vscode.LanguageModelChatMessage[],
  original: readonly ChatMessage[],
): Promise<Count> {
  try {
    const counts = await Promise.all(messages.map((m) => chat.countTokens(m)));
    return { tokens: counts.reduce((sum, n) => sum + n, 0), byModel: true };
  } catch {
    return { tokens: estimateMessagesTokens(original), byModel: false };
  }
}

async function countText(chat: vscode.LanguageModelChat, text: string): Promise<Count> {
  if (text.length === 0) return { tokens: 0, byModel: true };
  try {
    return { tokens: await chat.countTokens(text), byModel: true };
  } catch {
    return { tokens: estimateTokens(text), byModel: false };
  }
}
