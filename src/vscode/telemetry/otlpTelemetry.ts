import * as vscode from 'vscode';
import { SpendTelemetry, type SettleFeed } from '../../core/spend/spendTelemetry';
import type { CodeRouteContext } from '../coderouteContext';
import { SETTINGS_SECTION } from '../settings/settingsReader';

/**
 * Where the collector token is kept: the API key store, under an id no provider can have
 * (provider ids start with a letter or digit), so it is never sent to a model provider.
 */
export const OTLP_TOKEN_ID = '#otlp-collector';

const ENDPOINT_SETTING = `${SETTINGS_SECTION}.telemetry.otlpEndpoint`;

/**
 * Starts the OpenTelemetry export of the requests that settle in `source` while
 * `coderoute.telemetry.otlpEndpoint` is set (off when empty, the default), following the setting
 * as it changes. `source` may be a ledger that is still opening (undefined when it cannot open).
 * The caller owns the returned disposable.
 */
export function startTelemetry(ctx: CodeRouteContext, source: SettleFeed | PromiseLike<SettleFeed | undefined>): vscode.Disposable {
  let telemetry: SpendTelemetry | undefined;
  let disposed = false;
  const endpoint = () => ctx.settings.current.settings.telemetry.otlpEndpoint;
  const start = (feed: SettleFeed | undefined) => {
    if (!feed || disposed) return;
    telemetry = new SpendTelemetry({
      source: feed,
      logger: ctx.log,
      serviceVersion: process.env.CODEROUTE_VERSION ?? 'dev',
      token: () => ctx.apiKeys.get(OTLP_TOKEN_ID),
    });
    telemetry.configure(endpoint());
  };
  if ('then' in source) {
    source.then(start, (error: unknown) => ctx.log.warn(`telemetry: no spend ledger, no export: ${error instanceof Error ? error.message : String(error)}`));
  } else {
    start(source);
  }
  // The settings reader, created before this, drops its cached settings before this listener runs.
  const listener = vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(ENDPOINT_SETTING)) telemetry?.configure(endpoint());
  });
  return new vscode.Disposable(() => {
    disposed = true;
    listener.dispose();
    // Best effort while the window closes: one last batch, within the POST timeout.
    void telemetry?.dispose();
    telemetry = undefined;
  });
}
