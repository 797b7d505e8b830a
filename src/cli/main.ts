import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runChat } from '../core/actions/runChatAttempt';
import { ProviderError } from '../core/providers/chatProvider';
import { TreeSitterLoader } from '../core/classify/treeSitterLoader';
import { parseSettings, type ParsedSettings, type SettingKey } from '../core/config/settingsSchema';
import { TASKS, type DiagnosticInfo, type RequestContext, type Task } from '../core/context/requestContext';
import type { Classification, ClassifyMode } from '../core/classify/classification';
import { Classifier } from '../core/classify/classifier';
import type { Logger } from '../core/log/logger';
import { DIRECTIVE_HEADER_LINES, type FileDirectives } from '../core/policy/fileDirectives';
import { httpChatProvider } from '../core/providers/providerFactory';
import { WorkerTokenCounter } from '../core/tokens/workerTokenCounter';
import { buildExplainMessages } from '../core/prompts/explainPrompt';
import { findExplainTarget } from '../core/prompts/explainTarget';
import { decisionLogLine, decisionRecord } from '../core/route/decisionRecord';
import { RouteError, routeByTask } from '../core/route/routeDecision';
import { RouteRefusal, route } from '../core/route/router';
import { mergePolicy, parseRepoPolicy, type RepoPolicy } from '../core/policy/policy';
import { replayCommand } from './replay';

const USAGE = `coderoute — route coding requests to the right model (the same core as the VS Code extension)

Usage:
  coderoute route FILE --line L --col C [--sel L1:C1-L2:C2] [--command MODE] [--policy FILE.json] [--settings FILE] [--dry-run]
      Classify the request at the position and print the routing decision as JSON (the same record
      the log and "Why This Model?" show), or the refusal; no model is called. --policy is a
      repository policy (.vscode/coderoute.json); the file's path is taken relative to the current
      directory for path rules. Use it in CI to check what a policy does.
  coderoute route --task <${TASKS.join('|')}> [--settings FILE]
      Print the decision for a task from the task settings alone.
  coderoute explain FILE [--line N] [--language ID] [--settings FILE]
      Explain the function around line N (1-based) of FILE, streaming the answer to stdout.
      The key comes from CODEROUTE_API_KEY_<PROVIDER> (e.g. CODEROUTE_API_KEY_OPENAI).

  coderoute classify FILE --line L --col C [--sel L1:C1-L2:C2] [--command MODE] [--diagnostics FILE.json] [--lang ID]
      Classify a request at a position (1-based) and print one JSON object. MODE is
      explain|format|generate|debug (a command), auto (infer the command) or inline (default auto).
      The diagnostics file is a JSON list of {"line", "endLine"?, "message", "severity"} (1-based).

  coderoute replay MATRIX.csv --pool M1,M2,… --strong M [--max-attempts N] [--seeds K] [--costs FILE.csv]
                   [--exclude-column COLUMN=VALUE]… [--task TASK] [--price-weight W] [--json] [--plot FILE.svg]
      Replay a recorded outcome matrix (task_id, model, resolved or pass_at_1, optional cost_usd,
      other columns as context) through the extension's own router and learner, over K random task
      orders, against baselines. Prints a table and writes a plot (default replay.svg), or JSON.
      Bad input exits with code 2.

Options:
  --settings FILE   a JSON file with "coderoute.*" keys, as in VS Code's settings.json
  -h, --help        show this help
  -v, --version     show the version
`;

const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  '.ts': 'typescript', '.tsx': 'typescriptreact', '.js': 'javascript', '.jsx': 'javascriptreact', '.mjs': 'javascript',
  '.cjs': 'javascript', '.py': 'python', '.go': 'go', '.rs': 'rust', '.java': 'java', '.cs': 'csharp', '.cpp': 'cpp',
  '.cc': 'cpp', '.hpp': 'cpp', '.h': 'c', '.c': 'c', '.rb': 'ruby', '.php': 'php', '.sh': 'shellscript', '.bash': 'shellscript',
};

class UsageError extends Error {}

function stderrLogger(verbose: boolean): Logger {
  const write = (level: string) => (message: string) => process.stderr.write(`[${level}] ${message}\n`);
  const quiet = () => undefined;
  return { trace: quiet, debug: verbose ? write('debug') : quiet, info: write('info'), warn: write('warn'), error: write('error') };
}

function loadSettings(file: string | undefined, logger: Logger): ParsedSettings {
  let raw: Record<string, unknown> = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`cannot read settings ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(`settings ${file} must hold a JSON object`);
    }
    raw = parsed as Record<string, unknown>;
  }
  const result = parseSettings((key: SettingKey) => raw[`coderoute.${key}`]);
  result.issues.forEach((issue) => logger.warn(`settings: ${issue.setting}: ${issue.message}`));
  return result;
}

function asTask(value: string | undefined): Task {
  if (!value || !(TASKS as readonly string[]).includes(value)) throw new UsageError(`--task must be one of ${TASKS.join(', ')}`);
  return value as Task;
}

async function explain(file: string, line: number, languageId: string | undefined, settings: ParsedSettings, logger: Logger): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const requestId = randomUUID();
  const position = { line: Math.max(0, line - 1), character: 0 };
  const ctx: RequestContext = {
    requestId,
    command: 'explain',
    languageId: languageId ?? LANGUAGE_BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'plaintext',
    path: file,
    text,
    textStartLine: 0,
    headerText: text.split('\n', DIRECTIVE_HEADER_LINES).join('\n'),
    selection: { start: position, end: position, active: position },
    diagnostics: [],
    workspaceTrusted: true,
  };
  const loader = new TreeSitterLoader(path.join(__dirname, 'wasm'), logger);
  const classifier = new Classifier(loader, logger, { backgroundParse: false });
  const directives = await classifier.directives(ctx);
  const classification = await classifier.classify(ctx, 'explain');
  classifier.dispose();
  loader.dispose();
  logger.info(`classify: difficulty ${classification.difficulty}; ${classification.reason}`);
  let decision;
  try {
    decision = route({
      requestId,
      task: 'explain',
      classification,
      languageId: ctx.languageId,
      path: path.relative(process.cwd(), path.resolve(file)).split(path.sep).join('/'),
      directives,
      policy: mergePolicy(settings.settings),
    });
  } catch (error) {
    if (error instanceof RouteRefusal) throw new UsageError(error.message);
    throw error;
  }
  logger.info(decisionLogLine(decisionRecord(decision)));
  const { provider } = decision.chosen;
  if (provider.kind === 'vscode-lm') throw new UsageError(`${decision.chosen.model.id} is a VS Code language model; it can only be used inside VS Code`);
  const keyVariable = (providerId: string) => `CODEROUTE_API_KEY_${providerId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  if (provider.auth === 'apiKey' && !process.env[keyVariable(provider.id)]) {
    throw new UsageError(`set ${keyVariable(provider.id)} to the key for ${provider.id}`);
  }
  const target = findExplainTarget(ctx, classification);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const tokens = new WorkerTokenCounter({ script: path.join(__dirname, 'tokenizerWorker.js'), logger });
  const outcome = await runChat({
    decision,
    messages: buildExplainMessages(ctx, target),
    maxOutputTokens: settings.settings.request.maxOutputTokens,
    providerFor: (routed) => {
      if (routed.provider.kind === 'vscode-lm') {
        return { streamChat: () => Promise.reject(new ProviderError('not-found', `${routed.model.id} can only be used inside VS Code.`)) };
      }
      return httpChatProvider(routed.provider, process.env[keyVariable(routed.provider.id)], settings.settings.request);
    },
    onText: (delta) => process.stdout.write(delta),
    signal: controller.signal,
    logger,
    tokens,
  }).finally(() => tokens.dispose());
  process.stdout.write('\n');
  if (outcome.error) {
    process.stderr.write(`coderoute: ${outcome.error.message}\n`);
    return outcome.error.kind === 'cancelled' ? 130 : 1;
  }
  return 0;
}

const MODES: readonly ClassifyMode[] = ['explain', 'format', 'generate', 'debug', 'auto', 'inline'];

function positiveInt(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number from 1`);
  return n;
}

function readDiagnostics(file: string | undefined): DiagnosticInfo[] {
  if (!file) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read diagnostics ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(raw)) throw new UsageError(`diagnostics ${file} must hold a JSON list`);
  return raw.map((d: { line?: unknown; endLine?: unknown; message?: unknown; severity?: unknown }, i) => {
    if (typeof d?.line !== 'number' || d.line < 1) throw new UsageError(`diagnostics[${i}].line must be a line number from 1`);
    const endLine = typeof d.endLine === 'number' ? d.endLine : d.line;
    const severity = d.severity === 'warning' || d.severity === 'info' || d.severity === 'hint' ? d.severity : 'error';
    return {
      range: { start: { line: d.line - 1, character: 0 }, end: { line: endLine - 1, character: Number.MAX_SAFE_INTEGER } },
      message: typeof d.message === 'string' ? d.message : '',
      severity,
    };
  });
}

async function classifyFile(
  file: string,
  values: { line?: string; col?: string; sel?: string; command?: string; diagnostics?: string; lang?: string },
  logger: Logger,
): Promise<{ classification: Classification; directives: FileDirectives }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const languageId = values.lang ?? LANGUAGE_BY_EXTENSION[path.extname(file).toLowerCase()];
  if (!languageId) throw new UsageError(`cannot tell the language of ${file}; pass --lang (for example --lang python)`);
  if (!/^[a-z][a-z0-9+#-]*$/.test(languageId)) throw new UsageError(`unknown language "${languageId}"`);
  const mode = (values.command ?? 'auto') as ClassifyMode;
  if (!MODES.includes(mode)) throw new UsageError(`--command must be one of ${MODES.join(', ')}`);
  const lines = text.split('\n');
  const position = (line: number, col: number, what: string) => {
    if (line > lines.length) throw new UsageError(`${what} line ${line} is past the end of ${file} (${lines.length} lines)`);
    if (col > lines[line - 1].length + 1) throw new UsageError(`${what} column ${col} is past the end of line ${line} (${lines[line - 1].length + 1} columns)`);
    return { line: line - 1, character: col - 1 };
  };
  const cursor = position(positiveInt(values.line, '--line'), positiveInt(values.col ?? '1', '--col'), 'cursor');
  let start = cursor;
  let end = cursor;
  if (values.sel) {
    const m = /^(\d+):(\d+)-(\d+):(\d+)$/.exec(values.sel);
    if (!m) throw new UsageError('--sel must look like L1:C1-L2:C2');
    start = position(Number(m[1]), Number(m[2]), 'selection start');
    end = position(Number(m[3]), Number(m[4]), 'selection end');
    if (end.line < start.line || (end.line === start.line && end.character < start.character)) throw new UsageError('--sel ends before it starts');
  }
  const ctx: RequestContext = {
    requestId: randomUUID(),
    command: undefined,
    languageId,
    path: file,
    text,
    textStartLine: 0,
    headerText: lines.slice(0, DIRECTIVE_HEADER_LINES).join('\n'),
    selection: { start, end, active: values.sel ? end : cursor },
    diagnostics: readDiagnostics(values.diagnostics),
    workspaceTrusted: true,
  };
  const loader = new TreeSitterLoader(path.join(__dirname, 'wasm'), logger);
  const classifier = new Classifier(loader, logger, { backgroundParse: false });
  try {
    return { classification: await classifier.classify(ctx, mode), directives: await classifier.directives(ctx) };
  } finally {
    classifier.dispose();
    loader.dispose();
  }
}

/** A repository policy file for `route --policy`: any problem stops the run, with its line. */
function readPolicyFile(file: string): { policy: RepoPolicy; hash: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read policy ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { policy, problems } = parseRepoPolicy(text);
  if (!policy) {
    const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
    throw new UsageError(`policy ${file} does not apply:\n${problems.map((p) => `  line ${lineOf(p.offset)}: ${p.message}`).join('\n')}`);
  }
  return { policy, hash: createHash('sha256').update(text).digest('hex') };
}

/**
 * `route FILE …`: classifies the request at the position, routes it under the settings and the
 * policy file, and returns the decision record (or the refusal) without calling any model.
 */
async function routeFile(
  file: string,
  values: { line?: string; col?: string; sel?: string; command?: string; diagnostics?: string; lang?: string; policy?: string },
  settings: ParsedSettings,
  logger: Logger,
): Promise<unknown> {
  const { classification, directives } = await classifyFile(file, values, logger);
  const mode = values.command ?? 'auto';
  if (classification.task === 'none') return { refused: { reason: 'no-completion', message: `No completion is requested here: ${classification.reason}` } };
  const task: Task = mode === 'inline' ? 'complete' : (classification.task as Task);
  const policy = mergePolicy(settings.settings, values.policy ? readPolicyFile(values.policy) : undefined);
  const text = readFileSync(file, 'utf8');
  const relative = path.relative(process.cwd(), path.resolve(file)).split(path.sep).join('/');
  try {
    const decision = route({
      requestId: randomUUID(),
      task,
      classification,
      languageId: classification.language,
      path: relative,
      directives,
      policy,
      tokens: { input: Math.ceil(text.length / 4), output: Math.min(settings.settings.request.maxOutputTokens, 800) },
    });
    return decisionRecord(decision);
  } catch (error) {
    if (error instanceof RouteRefusal) return { refused: { reason: error.reason, message: error.message, setting: error.setting } };
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        task: { type: 'string' },
        settings: { type: 'string' },
        policy: { type: 'string' },
        'dry-run': { type: 'boolean' },
        line: { type: 'string' },
        col: { type: 'string' },
        sel: { type: 'string' },
        command: { type: 'string' },
        diagnostics: { type: 'string' },
        lang: { type: 'string' },
        language: { type: 'string' },
        verbose: { type: 'boolean' },
        pool: { type: 'string' },
        strong: { type: 'string' },
        'max-attempts': { type: 'string' },
        seeds: { type: 'string' },
        costs: { type: 'string' },
        'exclude-column': { type: 'string', multiple: true },
        'price-weight': { type: 'string' },
        json: { type: 'boolean' },
        plot: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    process.stderr.write(`coderoute: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${process.env.CODEROUTE_VERSION ?? 'dev'}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const logger = stderrLogger(values.verbose ?? false);
  if (command === 'replay') return replayCommand(rest, values);
  try {
    const settings = loadSettings(values.settings, logger);
    if (command === 'route') {
      if (rest.length === 0) {
        const decision = routeByTask(randomUUID(), asTask(values.task), settings.settings);
        process.stdout.write(`${JSON.stringify(decisionRecord(decision), null, 2)}\n`);
        return 0;
      }
      if (rest.length !== 1) throw new UsageError('route takes one FILE');
      const outcome = await routeFile(rest[0], values, settings, logger);
      process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
      return 0;
    }
    if (command === 'classify') {
      if (rest.length !== 1) throw new UsageError('classify takes one FILE');
      const { classification: result } = await classifyFile(rest[0], values, logger);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    if (command === 'explain') {
      if (rest.length !== 1) throw new UsageError('explain takes one FILE');
      const line = values.line === undefined ? 1 : Number(values.line);
      if (!Number.isInteger(line) || line < 1) throw new UsageError('--line must be a whole number from 1');
      return await explain(rest[0], line, values.language, settings, logger);
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof RouteError) {
      process.stderr.write(`coderoute: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`coderoute: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
