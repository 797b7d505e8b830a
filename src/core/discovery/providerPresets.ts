/**
 * The kinds of provider CodeRoute: Add Provider offers, with the base URL prefilled where it is
 * known. All OpenAI-compatible services use the `openai` kind; local servers take no key.
 */
export interface ProviderPreset {
  /** What the quick pick shows. */
  label: string;
  /** The provider id suggested for the settings. */
  id: string;
  kind: 'openai' | 'anthropic' | 'vscode-lm';
  baseUrl?: string;
  /** `required`: a cloud service; `optional`: a proxy that may or may not check one; `none`: local. */
  key: 'required' | 'optional' | 'none';
  group: 'Cloud' | 'On this machine or your network' | 'In VS Code';
  detail: string;
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  { label: 'OpenAI', id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', key: 'required', group: 'Cloud', detail: 'GPT models, with an API key from platform.openai.com' },
  { label: 'Anthropic', id: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', key: 'required', group: 'Cloud', detail: 'Claude models, with an API key from console.anthropic.com' },
  { label: 'OpenRouter', id: 'openrouter', kind: 'openai', baseUrl: 'https://openrouter.ai/api/v1', key: 'required', group: 'Cloud', detail: "many vendors' models behind one key" },
  { label: 'Groq', id: 'groq', kind: 'openai', baseUrl: 'https://api.groq.com/openai/v1', key: 'required', group: 'Cloud', detail: 'fast open models' },
  { label: 'Together', id: 'together', kind: 'openai', baseUrl: 'https://api.together.xyz/v1', key: 'required', group: 'Cloud', detail: 'open models' },
  { label: 'DeepSeek', id: 'deepseek', kind: 'openai', baseUrl: 'https://api.deepseek.com', key: 'required', group: 'Cloud', detail: 'DeepSeek chat and reasoner' },
  { label: 'Mistral', id: 'mistral', kind: 'openai', baseUrl: 'https://api.mistral.ai/v1', key: 'required', group: 'Cloud', detail: 'Mistral and Codestral' },
  { label: 'Ollama', id: 'ollama', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', key: 'none', group: 'On this machine or your network', detail: 'a local server; no key, no dollar cost' },
  { label: 'LM Studio', id: 'lmstudio', kind: 'openai', baseUrl: 'http://127.0.0.1:1234/v1', key: 'none', group: 'On this machine or your network', detail: 'a local server; no key, no dollar cost' },
  { label: 'vLLM', id: 'vllm', kind: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', key: 'optional', group: 'On this machine or your network', detail: 'an OpenAI-compatible server' },
  { label: 'LiteLLM proxy', id: 'litellm', kind: 'openai', baseUrl: 'http://127.0.0.1:4000/v1', key: 'optional', group: 'On this machine or your network', detail: 'a proxy in front of other providers' },
  { label: "VS Code's models", id: 'vscode-lm', kind: 'vscode-lm', key: 'none', group: 'In VS Code', detail: 'the chat models other extensions (such as Copilot) offer; no key' },
];

/** Why a typed base URL cannot be used, or undefined when it can. */
export function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return 'Enter a URL such as https://api.example.com/v1.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The URL must start with https:// or http://.';
  if (url.username || url.password) return 'Leave the key out of the URL: CodeRoute asks for it next and keeps it in secret storage.';
  if (url.protocol === 'http:' && !isPrivateHost(url.hostname)) return 'Use https:// for a server that is not on this machine or your network: the key would travel unencrypted.';
  return undefined;
}

function isPrivateHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host) || /^10\./.test(host) || /^192\.168\./.test(host) || /^172\.(1[6-9]|2\d|3[01])\./.test(host) || host.endsWith('.local');
}

/** A provider id not used yet: the preset's, else with a number after it. */
export function freeProviderId(wanted: string, taken: readonly string[]): string {
  if (!taken.includes(wanted)) return wanted;
  for (let n = 2; ; n++) if (!taken.includes(`${wanted}-${n}`)) return `${wanted}-${n}`;
}
