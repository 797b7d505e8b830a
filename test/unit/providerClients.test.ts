import * as assert from 'node:assert/strict';
import { defaultSettings, type HttpProviderConfig } from '../../src/core/config/settingsSchema';
import { AnthropicChatProvider } from '../../src/core/providers/anthropicChatProvider';
import { OpenAIChatProvider } from '../../src/core/providers/openaiChatProvider';
import { HttpProviderClients } from '../../src/core/providers/providerFactory';

describe('provider clients kept between requests', () => {
  const request = defaultSettings().request;
  const openai: HttpProviderConfig = { id: 'a', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', auth: 'apiKey' };

  it('reuses the client while provider, key and timeouts stay the same', () => {
    const clients = new HttpProviderClients();
    const first = clients.get(openai, 'k1', request);
    assert.ok(first instanceof OpenAIChatProvider);
    assert.equal(clients.get({ ...openai }, 'k1', { ...request }), first);
  });

  it('builds a new client when the key, the URL or a timeout changes, so an old key is never reused', () => {
    const clients = new HttpProviderClients();
    const first = clients.get(openai, 'k1', request);
    assert.notEqual(clients.get(openai, 'k2', request), first);
    assert.notEqual(clients.get({ ...openai, baseUrl: 'http://127.0.0.1:2/v1' }, 'k1', request), first);
    assert.notEqual(clients.get(openai, 'k1', { ...request, idleTimeoutSeconds: 5 }), first);
    assert.ok(clients.get({ ...openai, kind: 'anthropic' }, 'k1', request) instanceof AnthropicChatProvider);
  });

  it('keeps at most its limit, dropping the least recently used', () => {
    const clients = new HttpProviderClients(2);
    const a = clients.get(openai, 'a', request);
    const b = clients.get(openai, 'b', request);
    assert.equal(clients.get(openai, 'a', request), a, 'a is used again, so b is now the oldest');
    clients.get(openai, 'c', request);
    assert.equal(clients.get(openai, 'a', request), a);
    assert.notEqual(clients.get(openai, 'b', request), b, 'b was dropped and is built again');
  });
});
