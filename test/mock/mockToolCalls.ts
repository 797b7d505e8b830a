/**
 * Tool calls for the mock server, shared by its wire formats: what a test asks the mock to call,
 * how the call's arguments are written and cut into streamed pieces, and what a request says about
 * tools (the names it offers, the results it brings back).
 */

/** A tool call the mock makes in a `reply`. */
export interface MockToolCall {
  /** The call's id; numbered by position in the answer when absent (`call_mock_1`, `toolu_mock_1`). */
  id?: string;
  name: string;
  /** The arguments, sent as their JSON; `{}` when absent. */
  input?: unknown;
  /** The arguments' exact text instead of `input`'s JSON: malformed JSON, say. */
  rawArguments?: string;
}

/** What a request says about tools. */
export interface ToolView {
  /** The names of the tools it offers. */
  offered: string[];
  /** The tool results its latest user turn carries, as text, in order; empty when it carries none. */
  results: string[];
}

/** The calls a server-level setting makes for a request that offers tools: fixed ones, or chosen from the names offered. */
export type ToolCallsWhenOffered = MockToolCall[] | ((offered: readonly string[]) => MockToolCall[]);

export function callId(call: MockToolCall, position: number, prefix: 'call' | 'toolu'): string {
  return call.id ?? `${prefix}_mock_${position + 1}`;
}

export function argumentText(call: MockToolCall): string {
  return call.rawArguments ?? JSON.stringify(call.input ?? {});
}

/** The arguments as a JSON value, for answers that are not streamed (which cannot carry broken JSON as an object). */
export function argumentValue(call: MockToolCall): unknown {
  if (call.rawArguments === undefined) return call.input ?? {};
  try {
    return JSON.parse(call.rawArguments);
  } catch {
    return call.rawArguments;
  }
}

/**
 * The arguments in three pieces (two for two characters), as real services stream them: no piece
 * is valid JSON by itself, so a client that parses before the end is caught.
 */
export function argumentPieces(call: MockToolCall): string[] {
  const text = argumentText(call);
  if (text.length < 2) return [text];
  const size = Math.ceil(text.length / Math.min(3, text.length));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** Everything the calls add to the answer, for counting its output tokens. */
export function callsText(calls: readonly MockToolCall[] | undefined): string {
  return (calls ?? []).map((call) => call.name + argumentText(call)).join('');
}

/** The answer to a request that brings tool results back: it quotes them, so a test sees they reached the model. */
export function toolResultsAnswer(model: string | undefined, results: readonly string[]): string {
  return `Mock answer from ${model ?? 'unknown-model'} after the tools: ${results.map((r) => `"${r}"`).join(', ')}.`;
}

/** The text of a content that is a string or a list of blocks (OpenAI's parts, Anthropic's blocks). */
export function contentText(content: string | null | undefined | readonly { text?: unknown }[]): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((block) => (typeof block.text === 'string' ? block.text : '')).join('');
}
