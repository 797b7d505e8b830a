import * as vscode from 'vscode';
import type { CodeRouteContext } from '../coderouteContext';
import { validateApiKey } from '../secrets/apiKeyStore';
import { OTLP_TOKEN_ID } from '../telemetry/otlpTelemetry';

/**
 * CodeRoute: Set OpenTelemetry Collector Token. The token goes to SecretStorage only (never to
 * settings) and is sent to the collector as `Authorization: Bearer <token>`. `token` may be passed
 * by a caller (a script, a test); otherwise the user is asked.
 */
export async function setOtlpToken(ctx: CodeRouteContext, token?: unknown): Promise<boolean> {
  let value = typeof token === 'string' ? token : undefined;
  if (value === undefined) {
    value = await vscode.window.showInputBox({
      title: 'CodeRoute: OpenTelemetry collector token',
      prompt: 'Sent as "Authorization: Bearer <token>" to coderoute.telemetry.otlpEndpoint. Stored in VS Code secret storage (your OS keychain), never in settings files.',
      password: true,
      ignoreFocusOut: true,
      validateInput: validateApiKey,
    });
  }
  if (value === undefined) return false;
  const problem = validateApiKey(value);
  if (problem) {
    void vscode.window.showErrorMessage(problem);
    return false;
  }
  await ctx.apiKeys.set(OTLP_TOKEN_ID, value.trim());
  ctx.log.info('telemetry: collector token stored');
  void vscode.window.showInformationMessage('OpenTelemetry collector token saved in secret storage.');
  return true;
}

/** CodeRoute: Clear OpenTelemetry Collector Token. */
export async function clearOtlpToken(ctx: CodeRouteContext): Promise<boolean> {
  await ctx.apiKeys.delete(OTLP_TOKEN_ID);
  ctx.log.info('telemetry: collector token removed');
  void vscode.window.showInformationMessage('OpenTelemetry collector token removed.');
  return true;
}
