import * as vscode from 'vscode';

/*
 * The Language Model Chat Provider API (stable since VS Code 1.104) as CodeRoute uses it.
 * `engines.vscode` is ^1.100.0, whose typings do not have it, so the part used is declared here,
 * in the shape of VS Code 1.104's `vscode.d.ts`, and the function is looked up at run time: in an
 * older VS Code it is absent and the chat models are simply not offered.
 */

/** One model in the chat model picker. */
export interface ChatModelInformation {
  readonly id: string;
  readonly name: string;
  readonly family: string;
  readonly version: string;
  readonly tooltip?: string;
  readonly detail?: string;
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;
  readonly capabilities: { readonly imageInput?: boolean; readonly toolCalling?: boolean | number };
}

/** A message as VS Code hands it to a provider: its parts are text, tool calls, tool results and kinds newer than these typings. */
export interface ChatModelRequestMessage {
  readonly role: vscode.LanguageModelChatMessageRole;
  readonly content: ReadonlyArray<unknown>;
  readonly name: string | undefined;
}

export interface ChatModelResponseOptions {
  readonly modelOptions?: { readonly [name: string]: unknown };
  readonly tools?: readonly vscode.LanguageModelChatTool[];
  readonly toolMode: vscode.LanguageModelChatToolMode;
}

export type ChatModelResponsePart = vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart;

export interface ChatModelProvider<T extends ChatModelInformation = ChatModelInformation> {
  readonly onDidChangeLanguageModelChatInformation?: vscode.Event<void>;
  provideLanguageModelChatInformation(options: { readonly silent: boolean }, token: vscode.CancellationToken): vscode.ProviderResult<T[]>;
  provideLanguageModelChatResponse(
    model: T,
    messages: readonly ChatModelRequestMessage[],
    options: ChatModelResponseOptions,
    progress: vscode.Progress<ChatModelResponsePart>,
    token: vscode.CancellationToken,
  ): Thenable<void>;
  provideTokenCount(model: T, text: string | ChatModelRequestMessage, token: vscode.CancellationToken): Thenable<number>;
}

type Register = (vendor: string, provider: ChatModelProvider) => vscode.Disposable;

/** `vscode.lm.registerLanguageModelChatProvider` where this VS Code has it, else undefined. */
export function chatProviderRegistration(): Register | undefined {
  const lm = vscode.lm as typeof vscode.lm & { registerLanguageModelChatProvider?: Register };
  return typeof lm.registerLanguageModelChatProvider === 'function' ? lm.registerLanguageModelChatProvider.bind(lm) : undefined;
}
