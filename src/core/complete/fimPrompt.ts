import type { ChatMessage } from '../providers/chatProvider';

/**
 * Fill-in-the-middle prompts for inline completions. A model served raw (Ollama, vLLM) needs its
 * family's FIM tokens in the prompt; an OpenAI-compatible `/completions` endpoint that takes a
 * `suffix` builds them itself; a chat-only model gets the code around a cursor marker.
 */

/** Model families whose FIM tokens we know. */
export type FimFamily = 'qwen' | 'deepseek' | 'codellama' | 'starcoder' | 'codestral';

/** What a setting may name explicitly: a family, `suffix` (the endpoint's own FIM) or `chat`. */
export type FimTemplateId = FimFamily | 'suffix' | 'chat';

export type FimPrompt =
  /** OpenAI-compatible `/completions` with `suffix`: the server inserts the model's FIM tokens. */
  | { kind: 'fim-suffix'; prompt: string; suffix: string }
  /** A raw prompt holding the family's FIM tokens, sent without `suffix`. */
  | { kind: 'fim-tokens'; family: FimFamily; prompt: string; stop: string[] }
  /** A chat model: the file around `marker`, which the answer must replace. */
  | { kind: 'chat'; messages: ChatMessage[]; marker: string };

export interface FimPromptInput {
  prefix: string;
  suffix: string;
  /** The provider's model name, matched case-insensitively to find its family. */
  model: string;
  /** A template chosen in settings; `undefined` or `auto` detects it from the model name. */
  template?: FimTemplateId | 'auto';
  /** `chat`: the model (or its provider) only serves chat, so FIM templates cannot be used. */
  api: 'completions' | 'chat';
  /** Workspace-relative path and language id, shown to chat models. */
  path: string;
  languageId: string;
  /** Token budget for prefix and suffix together (about 4 characters a token). */
  maxContextTokens?: number;
}

interface FamilyTemplate {
  /** Case-insensitive tests on the model name. */
  matches: RegExp;
  build: (prefix: string, suffix: string) => string;
  stop: string[];
}

/** Checked in order: the first match wins (so `codestral` is tried before a generic name). */
const FAMILIES: ReadonlyArray<readonly [FimFamily, FamilyTemplate]> = [
  [
    'codestral',
    {
      matches: /codestral/i,
      // Mistral's FIM order puts the suffix first.
      build: (p, s) => `[SUFFIX]${s}[PREFIX]${p}`,
      stop: ['[PREFIX]', '[SUFFIX]', '[MIDDLE]', '</s>'],
    },
  ],
  [
    'qwen',
    {
      matches: /qwen[^/]*coder/i,
      build: (p, s) => `<|fim_prefix|>${p}<|fim_suffix|>${s}<|fim_middle|>`,
      stop: ['<|endoftext|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>'],
    },
  ],
  [
    'deepseek',
    {
      matches: /deepseek[^/]*coder/i,
      build: (p, s) => `<｜fim▁begin｜>${p}<｜fim▁hole｜>${s}<｜fim▁end｜>`,
      stop: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>', '<|EOT|>'],
    },
  ],
  [
    'codellama',
    {
      matches: /code[-_ ]?llama/i,
      build: (p, s) => `<PRE> ${p} <SUF>${s} <MID>`,
      stop: ['<PRE>', '<SUF>', '<MID>', '<EOT>', '</s>'],
    },
  ],
  [
    'starcoder',
    {
      matches: /starcoder/i,
      build: (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`,
      stop: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<file_sep>', '<|endoftext|>'],
    },
  ],
];

const TEMPLATES: ReadonlyMap<FimFamily, FamilyTemplate> = new Map(FAMILIES);

/** The FIM family a model name belongs to, or undefined when it is not one we know. */
export function detectFimFamily(model: string): FimFamily | undefined {
  return FAMILIES.find(([, t]) => t.matches.test(model))?.[0];
}

/** Default budget: enough context to be useful while keeping inline latency low. */
export const DEFAULT_FIM_CONTEXT_TOKENS = 2048;

/** A rough token estimate, about 4 characters a token. */
export function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * The end of `prefix` that fits in `maxChars`, cut at a line start. The cursor's own line is
 * always kept whole (cut only when it alone is longer than the budget).
 */
export function trimPrefix(prefix: string, maxChars: number): string {
  if (prefix.length <= maxChars) return prefix;
  const cursorLineStart = prefix.lastIndexOf('\n') + 1;
  if (prefix.length - cursorLineStart >= maxChars) return prefix.slice(prefix.length - maxChars);
  // The first line start at or after the point where the budget begins.
  const from = prefix.length - maxChars;
  const lineStart = prefix[from - 1] === '\n' ? from : prefix.indexOf('\n', from) + 1;
  return prefix.slice(lineStart);
}

/**
 * The start of `suffix` that fits in `maxChars`, ending at a line end. The rest of the cursor's
 * line is always kept whole (cut only when it alone is longer than the budget).
 */
export function trimSuffix(suffix: string, maxChars: number): string {
  if (suffix.length <= maxChars) return suffix;
  const restOfLine = suffix.indexOf('\n');
  if (restOfLine === -1 || restOfLine >= maxChars) return suffix.slice(0, maxChars);
  // The last line break within the budget; the text up to it is whole lines.
  const end = suffix.lastIndexOf('\n', maxChars - 1);
  return suffix.slice(0, end);
}

/**
 * Prefix and suffix within `maxTokens`: the prefix gets three quarters (it tells more about what
 * comes next), and either side gets what the other does not use.
 */
export function trimContext(prefix: string, suffix: string, maxTokens: number): { prefix: string; suffix: string } {
  const budget = Math.max(0, Math.floor(maxTokens * 4));
  if (prefix.length + suffix.length <= budget) return { prefix, suffix };
  const suffixShare = Math.floor(budget / 4);
  const suffixChars = Math.min(suffix.length, Math.max(suffixShare, budget - prefix.length));
  const trimmedSuffix = trimSuffix(suffix, suffixChars);
  const trimmedPrefix = trimPrefix(prefix, budget - trimmedSuffix.length);
  return { prefix: trimmedPrefix, suffix: trimmedSuffix };
}

export const CHAT_SYSTEM_PROMPT = [
  'You are a code completion engine. The user shows a file with a cursor marker.',
  'Reply with only the code that goes at the marker, exactly as it should be inserted.',
  'Do not repeat the code before or after the marker. Do not use Markdown code fences. Do not explain.',
  'If nothing should be inserted, reply with nothing.',
].join(' ');

const MARKERS = ['<CURSOR>', '<<CURSOR>>', '<|CURSOR_HERE|>', '⟦CURSOR⟧'];

/** A cursor marker that does not occur in the code, so the model cannot confuse the two. */
function markerFor(prefix: string, suffix: string): string {
  const found = MARKERS.find((m) => !prefix.includes(m) && !suffix.includes(m));
  if (found) return found;
  let n = 1;
  while (prefix.includes(`<CURSOR_${n}>`) || suffix.includes(`<CURSOR_${n}>`)) n++;
  return `<CURSOR_${n}>`;
}

export function buildChatCompletionMessages(prefix: string, suffix: string, path: string, languageId: string): { messages: ChatMessage[]; marker: string } {
  const marker = markerFor(prefix, suffix);
  const user = [
    `File: ${path}`,
    `Language: ${languageId}`,
    `The cursor is at ${marker}. Everything between the two lines of dashes is the file's text.`,
    '-----',
    `${prefix}${marker}${suffix}`,
    '-----',
    `Write the code that replaces ${marker}.`,
  ].join('\n');
  return {
    marker,
    messages: [
      { role: 'system', content: CHAT_SYSTEM_PROMPT },
      { role: 'user', content: user },
    ],
  };
}

/** The prompt for one inline completion request. */
export function buildFimPrompt(input: FimPromptInput): FimPrompt {
  const { prefix, suffix } = trimContext(input.prefix, input.suffix, input.maxContextTokens ?? DEFAULT_FIM_CONTEXT_TOKENS);
  const explicit = input.template === 'auto' ? undefined : input.template;
  if (input.api === 'chat' || explicit === 'chat') {
    return { kind: 'chat', ...buildChatCompletionMessages(prefix, suffix, input.path, input.languageId) };
  }
  if (explicit === 'suffix') return { kind: 'fim-suffix', prompt: prefix, suffix };
  const family = explicit ?? detectFimFamily(input.model);
  const template = family ? TEMPLATES.get(family) : undefined;
  if (!family || !template) return { kind: 'fim-suffix', prompt: prefix, suffix };
  return { kind: 'fim-tokens', family, prompt: template.build(prefix, suffix), stop: [...template.stop] };
}
