import * as assert from 'node:assert/strict';
import type { HttpProviderConfig, ProviderConfig } from '../../src/core/config/settingsSchema';

/** Narrows a provider from settings to one reached over HTTP, failing the test otherwise. */
export function httpProvider(provider: ProviderConfig): HttpProviderConfig {
  assert.notEqual(provider.kind, 'vscode-lm', `${provider.id} is not an HTTP provider`);
  return provider as HttpProviderConfig;
}
