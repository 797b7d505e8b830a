import { ProviderError, type ChatResult, type ToolCall, type ToolResult } from './chatProvider';

/**
 * A tool call's input as the model wrote it, checked: tools take a JSON object, so anything else
 * (unparsable text, an array, a number) is the model's failure, reported as `bad-tool-call` with
 * what was produced so far, like any unreadable answer; the router may then fall back while no
 * text has reached the user. Empty arguments are an empty object: some servers send none for a
 * tool without parameters. Without `partial`, the caller attaches what was produced.
 */
export function parseToolInput(model: string, name: string, raw: string | object, partial?: () => ChatResult): Record<string, unknown> {
  let input: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    try {
      input = JSON.parse(raw);
    } catch {
      input = undefined;
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ProviderError('bad-tool-call', `${model} made a tool call to ${name} whose arguments are not a JSON object`, undefined, partial?.());
  }
  return input as Record<string, unknown>;
}

/**
 * A tool result as text for wire formats that have no error flag (OpenAI's `tool` messages,
 * VS Code's result parts): a failed tool's output is marked in words, so the model does not take
 * an error message for the tool's answer.
 */
export function toolResultText(result: ToolResult): string {
  return result.isError ? `Error: ${result.content}` : result.content;
}

interface PendingCall {
  id?: string;
  name?: string;
  arguments: string;
}

/**
 * Tool calls streamed in pieces: both wire formats name a call once (its id and tool) and then
 * send its arguments as fragments of JSON text, keyed by the call's position in the answer.
 * The calls are parsed only once the answer is complete, because a fragment is not JSON.
 */
export class ToolCallAssembler {
  private readonly calls = new Map<number, PendingCall>();

  /** Records a call's id and name, or any later fragment of them; the first value given wins. */
  name(index: number, id: string | undefined | null, name: string | undefined | null): void {
    const call = this.pending(index);
    if (id && !call.id) call.id = id;
    if (name && !call.name) call.name = name;
  }

  append(index: number, fragment: string | undefined | null): void {
    if (fragment) this.pending(index).arguments += fragment;
  }

  /** All argument text so far, for estimating the output's tokens when the server counts none. */
  get argumentText(): string {
    return [...this.calls.values()].map((c) => c.arguments).join('');
  }

  /**
   * The complete calls in the order the model made them; undefined when it made none. A call
   * without a tool name cannot be answered, so it fails like malformed arguments; a call without
   * an id gets one from its position, which is all the next request needs to pair the result.
   */
  finish(model: string, partial: () => ChatResult): ToolCall[] | undefined {
    if (this.calls.size === 0) return undefined;
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => {
        if (!call.name) throw new ProviderError('bad-tool-call', `${model} made a tool call without a tool name`, undefined, partial());
        return { id: call.id ?? `call_${index}`, name: call.name, input: parseToolInput(model, call.name, call.arguments, partial) };
      });
  }

  private pending(index: number): PendingCall {
    let call = this.calls.get(index);
    if (!call) this.calls.set(index, (call = { arguments: '' }));
    return call;
  }
}
