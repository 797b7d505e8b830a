/** A tool call the model made: which tool, with what input (parsed JSON), under the id its result refers to. */
export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** What a tool returned to a call, carried in a later user turn. */
export interface ToolResult {
  callId: string;
  /** The result as text (VS Code's text parts joined; other parts described). */
  content: string;
  isError?: boolean;
}

/** A tool the model may call: its name, what it does, and the JSON schema of its input. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema?: Record<string, unknown>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /** The message's text (may be empty when it carries only tool calls or results). */
  content: string;
  /** Assistant turns: the tool calls the model made in that turn, after its text. */
  toolCalls?: ToolCall[];
  /** User turns: the results of the previous turn's tool calls, before its text. */
  toolResults?: ToolResult[];
}

export interface ChatRequest {
  /** The provider's model name. */
  model: string;
  messages: ChatMessage[];
  maxOutputTokens: number;
  temperature?: number;
  /** Tools the model may call (agent mode); none when absent or empty. */
  tools?: ToolSpec[];
  /** `required`: the model must call a tool; `auto` (the default): it may. */
  toolMode?: 'auto' | 'required';
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
  /** The tool calls the model made, complete (arguments parsed), in the order it made them. */
  toolCalls?: ToolCall[];
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
  /** The model called a tool in the wrong shape (arguments that are not a JSON object, no tool name): its failure, learned as such. */
  | 'bad-tool-call'
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

/** Everything a message carries as text, tool calls and results included (for counting tokens). */
export function messageText(message: ChatMessage): string {
  const calls = (message.toolCalls ?? []).map((c) => `${c.name}(${JSON.stringify(c.input)})`);
  const results = (message.toolResults ?? []).map((r) => r.content);
  return [...results, message.content, ...calls].filter((t) => t.length > 0).join('\n');
}

/** A rough token count for text whose usage the provider did not report (about 4 characters a token). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

export function estimateMessagesTokens(messages: readonly ChatMessage[]): number {
  // Each message carries a few tokens of framing (role, separators) besides its content.
  return messages.reduce((sum, m) => sum + 4 + estimateTokens(messageText(m)), 0);
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
