import { createHash } from 'node:crypto';
import { messageText, type ChatMessage } from '../providers/chatProvider';

/** How long an answer can be regenerated and still count as a rejection of it. */
export const REGENERATE_WINDOW_MS = 10 * 60_000;
/** Conversations remembered at most (each entry holds two hashes and a model id). */
const CAPACITY = 200;

function hash(messages: readonly ChatMessage[], extra = ''): string {
  const digest = createHash('sha256');
  for (const message of messages) digest.update(`${message.role}\u0000${messageText(message)}\u0001`);
  digest.update(extra);
  return digest.digest('hex');
}

/**
 * Where the current turn began: the last user message that is an instruction (not only tool
 * results). Every request of an agent turn (the model calls tools, VS Code runs them and asks
 * again with their results) shares the conversation up to there.
 */
export function turnKey(messages: readonly ChatMessage[]): string {
  let end = messages.length;
  while (end > 0 && !(messages[end - 1].role === 'user' && !messages[end - 1].toolResults?.length)) end--;
  return hash(messages.slice(0, end));
}

/** The whole request: the same key for the same conversation sent again (a regenerate). */
export function requestKey(messages: readonly ChatMessage[], toolNames: readonly string[]): string {
  return hash(messages, toolNames.join('\u0000'));
}

export interface AnsweredRequest {
  requestId: string;
  task: string;
  modelId: string;
  at: number;
}

/**
 * What the chat remembers between requests, in memory only and bounded: which model an agent
 * turn is on (so that its tool rounds stay on one model), and the last answer to each request (so
 * that the same request sent again is seen as a regenerate of that answer). Only hashes of the
 * conversations are kept, never their text.
 */
export class ChatTurns {
  private readonly turns = new Map<string, string>();
  private readonly answers = new Map<string, AnsweredRequest>();

  /** The model that answered the earlier rounds of this turn, if any. */
  modelOfTurn(turn: string): string | undefined {
    return this.turns.get(turn);
  }

  rememberTurn(turn: string, modelId: string): void {
    remember(this.turns, turn, modelId);
  }

  /**
   * The earlier answer when this request was already answered within the window: a regenerate.
   * It is forgotten then, so that one answer is rejected once.
   */
  takeRegenerated(request: string, now: number): AnsweredRequest | undefined {
    const earlier = this.answers.get(request);
    if (!earlier) return undefined;
    this.answers.delete(request);
    return now - earlier.at <= REGENERATE_WINDOW_MS ? earlier : undefined;
  }

  rememberAnswer(request: string, answer: AnsweredRequest): void {
    remember(this.answers, request, answer);
  }
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > CAPACITY) map.delete(map.keys().next().value as string);
}
