/**
 * The tasks a request can be. Editor actions name one explicitly; completions are inferred; a
 * chat request (VS Code's Chat view) is classified from its messages into one of the editor tasks,
 * `chat` (a general question) or `agent` (a turn that offers tools or carries their results).
 */
export type Task = 'format' | 'explain' | 'generate' | 'debug' | 'complete' | 'chat' | 'agent';

export const TASKS: readonly Task[] = ['format', 'explain', 'generate', 'debug', 'complete', 'chat', 'agent'];

/** A position as zero-based line and character, like VS Code's but without its types. */
export interface TextPosition {
  line: number;
  character: number;
}

export interface TextRange {
  start: TextPosition;
  end: TextPosition;
}

/** A selection: its range plus the cursor end (`active`), which may be the start or the end. */
export interface TextSelection extends TextRange {
  active: TextPosition;
}

export interface DiagnosticInfo {
  range: TextRange;
  message: string;
  severity: 'error' | 'warning' | 'info' | 'hint';
  source?: string;
}

/**
 * What an adapter saw when the user asked for something. Plain data: no `vscode` types, so the
 * same context can come from the extension, the CLI or a recorded session.
 */
export interface RequestContext {
  requestId: string;
  /** The command that was invoked, when the request came from one. */
  command?: Task;
  languageId: string;
  /** Workspace-relative path when the document belongs to the workspace, otherwise its file name. */
  path: string;
  /** The text the classifier and the prompt may use: the whole document or a window of it. */
  text: string;
  /** Line of `text`'s first line within the document (0 when `text` is the whole document). */
  textStartLine: number;
  /** The document's first lines, where per-file directives (`coderoute: no-ai`) live. */
  headerText: string;
  selection: TextSelection;
  diagnostics: DiagnosticInfo[];
  /** Whether the workspace is trusted; an untrusted workspace never contributes policy. */
  workspaceTrusted: boolean;
}
