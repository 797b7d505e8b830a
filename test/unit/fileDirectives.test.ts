import * as assert from 'node:assert/strict';
import { parseSettings, type SettingKey } from '../../src/core/config/settingsSchema';
import { directiveRefusal, readFileDirectives } from '../../src/core/policy/fileDirectives';
import { routeByTask } from '../../src/core/route/routeDecision';

const raw: Partial<Record<SettingKey, unknown>> = {
  providers: [
    { id: 'cloud', kind: 'openai', baseUrl: 'https://api.example.com/v1' },
    { id: 'ollama', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' },
  ],
  models: [
    { id: 'cloud-model', provider: 'cloud', name: 'c', tags: ['cheap'] },
    { id: 'local-model', provider: 'ollama', name: 'l', tags: ['local'] },
  ],
};
const settings = parseSettings((key) => raw[key]).settings;
const toCloud = routeByTask('r', 'explain', { ...settings, tasks: { ...settings.tasks, explain: ['cloud-model'] } });
const toLocal = routeByTask('r', 'explain', { ...settings, tasks: { ...settings.tasks, explain: ['local-model'] } });

describe('file directives', () => {
  it('reads directives from comments in any language', () => {
    assert.deepEqual(readFileDirectives('// coderoute: no-ai\nconst x = 1;'), { noAi: true, localOnly: false });
    assert.deepEqual(readFileDirectives('# coderoute:local-only\n'), { noAi: false, localOnly: true });
    assert.deepEqual(readFileDirectives('/* coderoute: no-ai */\n-- coderoute: local-only'), { noAi: true, localOnly: true });
    assert.deepEqual(readFileDirectives('const coderoute = { ai: 1 }; // no-ai elsewhere'), { noAi: false, localOnly: false });
  });

  it('refuses to send a no-ai file anywhere, even to a local model', () => {
    const directives = readFileDirectives('// coderoute: no-ai');
    assert.match(directiveRefusal(directives, toCloud) ?? '', /no-ai/);
    assert.match(directiveRefusal(directives, toLocal) ?? '', /no-ai/);
  });

  it('lets a local-only file reach only a model tagged local', () => {
    const directives = readFileDirectives('# coderoute: local-only');
    assert.match(directiveRefusal(directives, toCloud) ?? '', /routed to cloud-model, which is not tagged local/);
    assert.equal(directiveRefusal(directives, toLocal), undefined);
  });

  it('does not get in the way of ordinary files', () => {
    assert.equal(directiveRefusal(readFileDirectives('print("hi")'), toCloud), undefined);
  });
});
