import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import {
  APPLICATION_SCOPED_SETTINGS,
  SETTING_KEYS,
  SETTING_SCHEMAS,
  modelSchema,
  providerSchema,
} from '../../src/core/config/settingsSchema';
import { REPO_ROOT } from './repoRoot';

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  scope?: string;
  markdownDescription?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
const properties: Record<string, JsonSchema> = pkg.contributes.configuration.properties;

function generated(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

describe('package.json matches the settings schema', () => {
  it('declares exactly the settings the schema knows', () => {
    assert.deepEqual(Object.keys(properties).sort(), SETTING_KEYS.map((k) => `coderoute.${k}`).sort());
  });

  for (const key of SETTING_KEYS) {
    it(`coderoute.${key}: same type, default and bounds; has a description`, () => {
      const declared = properties[`coderoute.${key}`];
      const schema = generated(SETTING_SCHEMAS[key]);
      // A union (a model id or a list of them) is declared as a list of types.
      const expectedType = schema.anyOf ? schema.anyOf.map((s) => s.type) : schema.type;
      assert.deepEqual(declared.type, expectedType);
      assert.deepEqual(declared.default, SETTING_SCHEMAS[key].parse(undefined));
      assert.equal(declared.minimum, schema.minimum);
      assert.equal(declared.maximum, schema.maximum);
      assert.ok(declared.markdownDescription && declared.markdownDescription.length > 20);
    });
  }

  it('describes provider and model entries like the schema does', () => {
    for (const [name, schema] of [
      ['providers', providerSchema],
      ['models', modelSchema],
    ] as const) {
      const declared = properties[`coderoute.${name}`].items!;
      const expected = generated(schema);
      assert.deepEqual(Object.keys(declared.properties!).sort(), Object.keys(expected.properties!).sort(), name);
      assert.deepEqual([...declared.required!].sort(), [...(expected.required ?? [])].sort(), name);
      for (const [prop, sub] of Object.entries(expected.properties!)) {
        assert.deepEqual(declared.properties![prop].enum, sub.enum, `${name}.${prop} enum`);
        assert.deepEqual(declared.properties![prop].items?.enum, sub.items?.enum, `${name}.${prop} items enum`);
      }
    }
  });

  it('lets only the user choose where code and keys go', () => {
    for (const key of APPLICATION_SCOPED_SETTINGS) {
      assert.equal(properties[`coderoute.${key}`].scope, 'application', key);
    }
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of SETTING_KEYS.filter((k) => k === 'providers' || k === 'models' || k.startsWith('tasks.') || k.startsWith('routing.') || k.startsWith('telemetry.'))) {
      assert.ok(restricted.includes(`coderoute.${key}`), `${key} must be restricted in untrusted workspaces`);
    }
  });

  it('targets VS Code 1.100 with matching typings and activates once startup has finished', () => {
    assert.equal(pkg.engines.vscode, '^1.100.0');
    assert.match(pkg.devDependencies['@types/vscode'], /^[~^]?1\.100\./);
    // After startup, never during it: inline completions and the spend item need the extension running.
    assert.deepEqual(pkg.activationEvents, ['onStartupFinished']);
    for (const command of pkg.contributes.commands) assert.equal(command.category, 'CodeRoute', command.command);
  });

  it('has a walkthrough from install to a first answer whose links and media all exist', () => {
    const [walkthrough] = pkg.contributes.walkthroughs as { id: string; steps: { id: string; description: string; media: { markdown?: string }; completionEvents: string[] }[] }[];
    assert.ok(walkthrough, 'a walkthrough is contributed');
    assert.deepEqual(walkthrough.steps.map((s) => s.id), ['provider', 'key', 'action', 'why']);
    const contributed = new Set((pkg.contributes.commands as { command: string }[]).map((c) => c.command));
    for (const step of walkthrough.steps) {
      const links = [...step.description.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
      assert.ok(links.length > 0, `${step.id} offers an action`);
      for (const command of links) assert.ok(command.startsWith('workbench.') || contributed.has(command), `${step.id} links to ${command}`);
      for (const event of step.completionEvents.filter((e) => e.startsWith('onCommand:'))) assert.ok(contributed.has(event.slice('onCommand:'.length)), event);
      if (step.media.markdown) assert.ok(existsSync(path.join(REPO_ROOT, step.media.markdown)), step.media.markdown);
    }
  });

  it('ships no provider or model a user did not choose, and starts the walkthrough from Detect Models and Add Provider (issue 16)', () => {
    assert.deepEqual(properties['coderoute.providers'].default, []);
    assert.deepEqual(properties['coderoute.models'].default, []);
    const [walkthrough] = pkg.contributes.walkthroughs as { steps: { description: string }[] }[];
    for (const command of ['coderoute.detectModels', 'coderoute.addProvider', 'coderoute.manageModels']) assert.match(walkthrough.steps[0].description, new RegExp(`\\(command:${command.replace('.', '\\.')}\\)`), command);
  });

  it('gives the common actions keybindings and context-menu entries', () => {
    const keys = new Set((pkg.contributes.keybindings as { command: string }[]).map((k) => k.command));
    for (const command of ['coderoute.explainSelection', 'coderoute.doWhatIMean', 'coderoute.debugFix', 'coderoute.retryStronger']) assert.ok(keys.has(command), command);
    const menu = new Set((pkg.contributes.menus['editor/context'] as { command: string }[]).map((m) => m.command));
    for (const command of ['coderoute.doWhatIMean', 'coderoute.explainSelection', 'coderoute.formatSelection', 'coderoute.generate', 'coderoute.debugFix']) assert.ok(menu.has(command), command);
  });
});
