import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { ProviderError } from '../../src/core/providers/chatProvider';

/** The ProviderError a call fails with; fails the test when the call succeeds or throws anything else. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** Runs a streaming call and cancels it as its second piece of text arrives. */
export async function cancelAtSecondPiece(
  call: (onText: (delta: string) => void, signal: AbortSignal) => Promise<unknown>,
): Promise<{ error: ProviderError; seen: string[] }> {
  const controller = new AbortController();
  const seen: string[] = [];
  const error = await failure(call((delta) => void (seen.push(delta) === 2 && controller.abort()), controller.signal));
  return { error, seen };
}

/** Polls until `check` holds or `limitMs` passes; returns whether it held. */
export async function until(check: () => boolean, limitMs = 2000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return check();
}

/** A port on loopback that nothing listens on (not a port fetch refuses by itself, like 9). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
