import * as vscode from 'vscode';
import { messageText, type ChatMessage, type ToolCall, type ToolResult, type ToolSpec } from '../../core/providers/chatProvider';
import type { ChatModelRequestMessage, ChatModelResponseOptions } from './chatModelApi';

/** VS Code's system role (1.104 and later); 1.100's typings know only User (1) and Assistant (2). */
const SYSTEM_ROLE = 3;

/** A part VS Code may send that the typings of the minimum version do not describe (`LanguageModelDataPart`). */
interface DataLikePart {
  mimeType: string;
  data: Uint8Array;
}

const isDataPart = (part: unknown): part is DataLikePart =>
  typeof part === 'object' && part !== null && typeof (part as DataLikePart).mimeType === 'string' && (part as DataLikePart).data instanceof Uint8Array;

/** Text-like data (JSON, plain text) as text; anything else (images, binary) is not carried and says so. */
function dataText(part: DataLikePart): string | undefined {
  if (/^(text\/|application\/(json|xml|.*\+json))/.test(part.mimeType)) return new TextDecoder().decode(part.data);
  // VS Code's cache-control hints carry no content for the model.
  if (part.mimeType === 'cache_control') return undefined;
  return `[${part.mimeType} content not sent: CodeRoute sends text only]`;
}

/** The text of a tool result's content parts: text parts as they are, prompt-tsx parts and others described. */
function resultText(content: readonly unknown[]): string {
  return content
    .map((part) => {
      if (part instanceof vscode.LanguageModelTextPart) return part.value;
      if (isDataPart(part)) return dataText(part) ?? '';
      if (part instanceof vscode.LanguageModelPromptTsxPart) return JSON.stringify(part.value);
      return typeof part === 'string' ? part : '';
    })
    .join('');
}

/**
 * VS Code's messages in CodeRoute's form: text parts joined, tool calls on their assistant turn,
 * tool results on their user turn (as the providers' wire formats place them). Parts of kinds this
 * version does not know are left out, text-like data parts are read as text.
 */
export function fromChatRequestMessages(messages: readonly ChatModelRequestMessage[]): ChatMessage[] {
  return messages.map((message) => {
    const texts: string[] = [];
    const toolCalls: ToolCall[] = [];
    const toolResults: ToolResult[] = [];
    for (const part of message.content) {
      if (part instanceof vscode.LanguageModelTextPart) texts.push(part.value);
      else if (part instanceof vscode.LanguageModelToolCallPart) toolCalls.push({ id: part.callId, name: part.name, input: { ...(part.input as Record<string, unknown>) } });
      else if (part instanceof vscode.LanguageModelToolResultPart) toolResults.push({ callId: part.callId, content: resultText(part.content) });
      else if (isDataPart(part)) {
        const text = dataText(part);
        if (text !== undefined) texts.push(text);
      }
    }
    const role = (message.role as number) === SYSTEM_ROLE ? 'system' : message.role === vscode.LanguageModelChatMessageRole.Assistant ? 'assistant' : 'user';
    return {
      role,
      content: texts.join(''),
      ...(toolCalls.length > 0 && role === 'assistant' ? { toolCalls } : {}),
      ...(toolResults.length > 0 && role === 'user' ? { toolResults } : {}),
    };
  });
}

/** The request's tools in CodeRoute's form, and whether the model must call one. */
export function toolsOf(options: ChatModelResponseOptions): { tools: ToolSpec[]; toolMode: 'auto' | 'required' } {
  const tools = (options.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description,
    ...(tool.inputSchema && typeof tool.inputSchema === 'object' ? { inputSchema: tool.inputSchema as Record<string, unknown> } : {}),
  }));
  return { tools, toolMode: options.toolMode === vscode.LanguageModelChatToolMode.Required ? 'required' : 'auto' };
}

/** A message's text for counting tokens: everything it carries, as the model would read it. */
export function requestMessageText(message: ChatModelRequestMessage): string {
  return messageText(fromChatRequestMessages([message])[0]);
}
