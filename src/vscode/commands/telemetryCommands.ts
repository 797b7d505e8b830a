import * as vscode from 'vscode';
import type { CodeRouteContext } from '../coderouteContext';
import { storeSecret } from './apiKeyCommands';
import { OTLP_TOKEN_ID } from '../telemetry/otlpTelemetry';

/**
 * CodeRoute: Set OpenTelemetry Collector Token. The token goes to SecretStorage only (never to
 * settings) and is sent to the collector as `Authorization: Bearer <token>`. `token` may be passed
 * by a caller (a script, a test); otherwise the user is asked.
 */
export function setOtlpToken(ctx: CodeRouteContext, token?: unknown): Promise<boolean> {
  return storeSecret(ctx, OTLP_TOKEN_ID, token, {
    title: 'CodeRoute: OpenTelemetry collector token',
    prompt: 'Sent as "Authorization: Bearer <token>" to coderoute.telemetry.otlpEndpoint. Stored in VS Code secret storage (your OS keychain), never in settings files.',
    what: 'OpenTelemetry collector token',
  });
}

/** CodeRoute: Clear OpenTelemetry Collector Token. */
export async function clearOtlpToken(ctx: CodeRouteContext): Promise<boolean> {
  await ctx.apiKeys.delete(OTLP_TOKEN_ID);
  ctx.log.info('telemetry: collector token removed');
  void vscode.window.showInformationMessage('OpenTelemetry collector token removed.');
  return true;
}
