import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Counts with the o200k_base byte-pair encoding (OpenAI's GPT-4o / 4.1 family; a close estimate
 * for other current models, whose tokenizers are not all public). Loading the vocabulary is the
 * expensive part, so this module is only imported by the tokenizer worker.
 */
export const ENCODING_NAME = 'o200k_base';

export function bpeCount(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}
