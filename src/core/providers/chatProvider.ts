export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  /** The provider's model name. */
  model: string;
  messages: ChatMessage[];
  maxOutputTokens: number;
  temperature?: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** True when the provider reported no usage and the numbers are estimates. */
  estimated: boolean;
  /**
   * `model`: counted by the model's own tokenizer (VS Code language models), kept as is;
   * absent: the rough character estimate, which the router replaces with a real tokenizer's count.
   */
  estimatedBy?: 'model';
}

export interface ChatResult {
  text: string;
  usage: TokenUsage;
  finishReason?: string;
  /**
   * Premium requests the call used, for providers that bill in them rather than dollars
   * (`vscode-lm`: the model's multiplier from `coderoute.models`); undefined for the others.
   */
  premiumRequests?: number;
}

/** One model call; streams text deltas to `onText` as they arrive. */
export interface ChatProvider {
  streamChat(request: ChatRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult>;
}

/** Why a provider call failed, in classes the router and the user messages act on. */
export type ProviderErrorKind =
  | 'auth'
  | 'forbidden'
  | 'not-found'
  | 'bad-request'
  | 'too-large'
  | 'rate-limit'
  | 'server'
  | 'connection'
  | 'timeout'
  | 'cancelled'
  | 'redirect'
  | 'bad-response'
  /** Not called: every deployment of the model is resting after repeated failures (circuit open). */
  | 'unavailable';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly status?: number,
    /** What was produced before the failure; it is still accounted. */
    readonly partial?: ChatResult,
    /** The wait the server asked for (Retry-After), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A rough token count for text whose usage the provider did not report (about 4 characters a token). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

export function estimateMessagesTokens(messages: readonly ChatMessage[]): number {
  // Each message carries a few tokens of framing (role, separators) besides its content.
  return messages.reduce((sum, m) => sum + 4 + estimateTokens(m.content), 0);
}

/** A plain-text completion: the model continues `prompt`; with `suffix`, it fills in the middle. */
export interface CompletionRequest {
  /** The provider's model name. */
  model: string;
  prompt: string;
  /** The text after the cursor, for fill-in-the-middle models. */
  suffix?: string;
  maxOutputTokens: number;
  temperature?: number;
  stop?: string[];
}

/** One completion call; streams text deltas to `onText` as they arrive. */
export interface CompletionProvider {
  streamCompletion(request: CompletionRequest, onText: (delta: string) => void, signal: AbortSignal): Promise<ChatResult>;
}
