import type * as vscode from 'vscode';

/** API keys, one per provider id, kept only in VS Code's SecretStorage (the OS keychain). */
export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  private static keyName(providerId: string): string {
    return `coderoute.apiKey.${providerId}`;
  }

  get(providerId: string): Thenable<string | undefined> {
    return this.secrets.get(ApiKeyStore.keyName(providerId));
  }

  set(providerId: string, key: string): Thenable<void> {
    return this.secrets.store(ApiKeyStore.keyName(providerId), key);
  }

  delete(providerId: string): Thenable<void> {
    return this.secrets.delete(ApiKeyStore.keyName(providerId));
  }
}

/** Why a typed key is not acceptable, or undefined when it looks like a key. */
export function validateApiKey(value: string): string | undefined {
  if (value.trim().length === 0) return 'Enter the key, or press Escape to cancel.';
  if (/\s/.test(value.trim())) return 'An API key has no spaces or line breaks.';
  return undefined;
}
