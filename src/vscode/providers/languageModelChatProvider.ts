import * as vscode from 'vscode';
import type { ModelConfig } from '../../core/config/settingsSchema';
import {
  ProviderError,
  estimateMessagesTokens,
  estimateTokens,
  messageText,
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ProviderErrorKind,
  type ToolCall,
} from '../../core/providers/chatProvider';
import { parseToolInput, toolResultText } from '../../core/providers/toolCallAssembly';

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
 * The vendor of CodeRoute's own chat models (those it offers in the chat model picker). Routing
 * to one of them would send the request back into CodeRoute, which would route it again.
 */
export const OWN_VENDOR = 'coderoute';

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
    const toolCalls: ToolCall[] = [];
    let accepted = false;
    const result = async (): Promise<ChatResult> => {
      const [input, output] = [await inputTokens, await countText(chat, messageText({ role: 'assistant', content: text, toolCalls }))];
      return {
        text,
        ...(toolCalls.length > 0 ? { toolCalls: [...toolCalls] } : {}),
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
      const response = await chat.sendRequest(messages, requestOptions(request), source.token);
      accepted = true;
      // `stream` rather than `text`: it carries the tool calls too. Parts of other kinds are skipped.
      for await (const part of response.stream) {
        if (signal.aborted) break;
        if (part instanceof vscode.LanguageModelTextPart) {
          text += part.value;
          onText(part.value);
        } else if (part instanceof vscode.LanguageModelToolCallPart) {
          toolCalls.push({ id: part.callId, name: part.name, input: parseToolInput(request.model, part.name, part.input) });
        }
      }
      // Cancelling may end the stream quietly; that answer is not complete.
      if (signal.aborted) throw new ProviderError('cancelled', 'The request was cancelled.', undefined, await result());
      return await result();
    } catch (error) {
      if (error instanceof ProviderError) {
        // A malformed tool call is found mid-stream, where the counts are not at hand: they are added here.
        throw error.partial || !accepted ? error : new ProviderError(error.kind, error.message, error.status, await result(), error.retryAfterMs);
      }
      // A request the model refused consumed nothing: no tokens, no premium requests.
      throw this.classify(error, request.model, signal, accepted ? await result() : undefined);
    } finally {
      signal.removeEventListener('abort', cancel);
      source.dispose();
    }
  }

  /** The models the selector finds, without CodeRoute's own; `own` says whether it found only those. */
  private async select(selector?: vscode.LanguageModelChatSelector): Promise<{ models: vscode.LanguageModelChat[]; own: boolean }> {
    const found = await this.selectModels(selector);
    const models = found.filter((m) => m.vendor !== OWN_VENDOR);
    return { models, own: models.length === 0 && found.length > 0 };
  }

  /** The model whose `id`, else whose `family`, is the configured name; never one of CodeRoute's own. */
  private async resolveModel(name: string): Promise<vscode.LanguageModelChat> {
    const byId = await this.select({ id: name });
    if (byId.models[0]) return byId.models[0];
    const byFamily = await this.select({ family: name });
    if (byFamily.models[0]) return byFamily.models[0];
    if (byId.own || byFamily.own) {
      throw new ProviderError(
        'not-found',
        `"${name}" (model ${this.options.model.id} in coderoute.models) is one of CodeRoute's own chat models, and CodeRoute does not route to its own models: name another extension's model.`,
      );
    }
    const { models: available } = await this.select();
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

/** The consent prompt's reason, and the request's tools and tool mode when it offers any. */
function requestOptions(request: ChatRequest): vscode.LanguageModelChatRequestOptions {
  if (!request.tools?.length) return { justification: JUSTIFICATION };
  return {
    justification: JUSTIFICATION,
    tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
    toolMode: request.toolMode === 'required' ? vscode.LanguageModelChatToolMode.Required : vscode.LanguageModelChatToolMode.Auto,
  };
}

/**
 * One message for `vscode.lm`: plain text stays a string; a turn with tool calls or results
 * becomes parts, in the order the API documents (results before a user turn's text, calls after
 * an assistant turn's text). Result parts have no error flag, so a failed tool is marked in words.
 */
function toLanguageModelMessage(message: ChatMessage): vscode.LanguageModelChatMessage {
  const text = message.content ? [new vscode.LanguageModelTextPart(message.content)] : [];
  if (message.role === 'assistant') {
    if (!message.toolCalls?.length) return vscode.LanguageModelChatMessage.Assistant(message.content);
    const calls = message.toolCalls.map((call) => new vscode.LanguageModelToolCallPart(call.id, call.name, call.input));
    return vscode.LanguageModelChatMessage.Assistant([...text, ...calls]);
  }
  if (!message.toolResults?.length) return vscode.LanguageModelChatMessage.User(message.content);
  const results = message.toolResults.map(
    (result) => new vscode.LanguageModelToolResultPart(result.callId, [new vscode.LanguageModelTextPart(toolResultText(result))]),
  );
  return vscode.LanguageModelChatMessage.User([...results, ...text]);
}

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
      ? [{ ...first, content: first.content ? `${system}\n\n${first.content}` : system }, ...rest]
      : [{ role: 'user', content: system }, ...turns];
  return folded.map(toLanguageModelMessage);
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
