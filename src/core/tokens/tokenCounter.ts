import { messageText, type ChatMessage } from '../providers/chatProvider';

/**
 * Counts tokens for usage the provider did not report. Asynchronous because the real tokenizer
 * runs in a worker thread: its vocabulary costs a few hundred milliseconds of CPU to load, which
 * must not block the extension host.
 */
export interface TokenCounter {
  /** Token counts of each text, in order. */
  count(texts: readonly string[]): Promise<number[]>;
  /** What the counts come from, for the attempt record. */
  readonly name: string;
}

/** Tokens of framing per chat message (role, separators) besides its content, as OpenAI documents for its chat format. */
export const MESSAGE_FRAMING_TOKENS = 4;

/** The input side of a chat request as the counter sees it: one text per message. */
export function messageTexts(messages: readonly ChatMessage[]): string[] {
  return messages.map(messageText);
}

/** Input tokens from per-message counts: the content of each plus its framing. */
export function inputTokensFrom(counts: readonly number[]): number {
  return counts.reduce((sum, n) => sum + n + MESSAGE_FRAMING_TOKENS, 0);
}
