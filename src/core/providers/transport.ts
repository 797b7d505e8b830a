/**
 * The HTTP transport every provider SDK is given in place of its own `fetch`: it refuses redirects
 * and enforces the three timeouts of one call. It wraps the platform `fetch` rather than bringing
 * its own HTTP client, so that VS Code's proxy support (which patches the global `fetch`) still
 * applies to provider calls.
 */

export interface CallTimeouts {
  /** From sending the request until the response starts (connection, TLS, status and headers). */
  connectMs: number;
  /** The longest silence allowed once the response has started, between two pieces of the body. */
  idleMs: number;
  /** The whole call, from the request to the last byte. */
  totalMs: number;
}

export type TimeoutPhase = 'connect' | 'idle' | 'total';

/** The reason a guarded call was aborted by one of its timers. */
export class CallTimeout extends Error {
  constructor(
    readonly phase: TimeoutPhase,
    readonly limitMs: number,
  ) {
    super(`${phase} timeout after ${limitMs} ms`);
    this.name = 'CallTimeout';
  }
}

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** One provider call's transport: a `fetch` to hand to an SDK, and what its timers did. */
export interface GuardedCall {
  readonly fetch: FetchFunction;
  /** The timeout that ended the call, if one did. */
  readonly timedOut: CallTimeout | undefined;
  /** A piece of the body arrived: the server is alive (for callers that read the body themselves). */
  alive(): void;
  /** Stops the timers; call when the call is over, however it ended. */
  dispose(): void;
}

export interface GuardOptions {
  /**
   * True (the default) wraps each response body so that every piece read restarts the idle timer.
   * A caller that reads the body itself passes false and calls `alive()` per piece instead, which
   * spares a stream wrapper per response.
   */
  watchBody?: boolean;
  base?: FetchFunction;
  now?: () => number;
}

/** Statuses whose responses carry no body; `new Response` refuses one for them. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Creates the transport for one call. The total deadline starts now; the connect timer starts with
 * each request and stops at its headers; the idle timer runs while the body streams and restarts
 * with every piece that arrives (comment-only keep-alive lines count: the server is alive).
 */
export function guardCall(timeouts: CallTimeouts, options: GuardOptions = {}): GuardedCall {
  const base = options.base ?? ((input, init) => fetch(input, init));
  const now = options.now ?? (() => performance.now());
  const watchBody = options.watchBody ?? true;
  const controllers = new Set<AbortController>();
  const cleanups = new Set<() => void>();
  let timedOut: CallTimeout | undefined;
  let disposed = false;

  const expire = (phase: TimeoutPhase, limitMs: number) => {
    if (timedOut || disposed) return;
    timedOut = new CallTimeout(phase, limitMs);
    controllers.forEach((c) => c.abort(timedOut));
  };
  const totalTimer = setTimeout(() => expire('total', timeouts.totalMs), timeouts.totalMs);

  // The idle timer is not re-armed per piece (that would allocate a timer per network read): it
  // notes the time of the last piece, and when it fires early it sleeps for the rest of the limit.
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let lastPiece = 0;
  const checkIdle = () => {
    idleTimer = undefined;
    const silent = now() - lastPiece;
    if (silent >= timeouts.idleMs) expire('idle', timeouts.idleMs);
    else idleTimer = setTimeout(checkIdle, timeouts.idleMs - silent);
  };
  const alive = () => {
    lastPiece = now();
    idleTimer ??= setTimeout(checkIdle, timeouts.idleMs);
  };
  const stopIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
  };

  const guardedFetch: FetchFunction = async (input, init) => {
    const controller = new AbortController();
    controllers.add(controller);
    const outer = init?.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    if (timedOut) controller.abort(timedOut);

    const finish = () => {
      stopIdle();
      outer?.removeEventListener('abort', forward);
      controllers.delete(controller);
      cleanups.delete(finish);
    };
    cleanups.add(finish);
    const connectTimer = setTimeout(() => expire('connect', timeouts.connectMs), timeouts.connectMs);
    let response: Response;
    try {
      // Never follow a redirect: it could carry the key and the code to another host.
      response = await base(input, { ...init, redirect: 'manual', signal: controller.signal });
    } catch (error) {
      finish();
      throw error;
    } finally {
      clearTimeout(connectTimer);
    }
    if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
      finish();
      return response;
    }
    alive();
    // An abort errors the underlying body, and with it the next read; the timers stop with it.
    controller.signal.addEventListener('abort', finish, { once: true });
    if (!watchBody) return response;
    // A pull-through stream (rather than pipeThrough) keeps the per-chunk cost to one read.
    const reader = response.body.getReader();
    const watched = new ReadableStream<Uint8Array>(
      {
        async pull(sink) {
          const { done, value } = await reader.read();
          if (done) {
            finish();
            sink.close();
            return;
          }
          alive();
          sink.enqueue(value);
        },
        cancel(reason) {
          finish();
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  return {
    fetch: guardedFetch,
    get timedOut() {
      return timedOut;
    },
    alive,
    dispose() {
      disposed = true;
      clearTimeout(totalTimer);
      stopIdle();
      // A body nobody read to the end would hold its socket: release it.
      controllers.forEach((c) => c.abort(new Error('call finished')));
      cleanups.forEach((cleanup) => cleanup());
    },
  };
}

const CALL = Symbol('coderoute.call');

/**
 * Per-request SDK options that send the request through `call`'s transport. An SDK client is made
 * once per provider with `fetch: callFetch`; each request names its call in `fetchOptions`, which
 * the official SDKs pass on to `fetch` untouched. (Cloning the client per call cost ~0.5 ms.)
 */
export function viaCall(call: GuardedCall): { fetchOptions: never } {
  // `never` fits each SDK's own RequestInit type; the only key is ours.
  return { fetchOptions: { [CALL]: call } as never };
}

/** The `fetch` an SDK client is built with: every request goes through the transport its call named. */
export const callFetch: FetchFunction = (input, init) => {
  const call = (init as { [CALL]?: GuardedCall } | undefined)?.[CALL];
  // A request without a call would escape the timeouts and the redirect rule: refuse it.
  if (!call) return Promise.reject(new Error('CodeRoute: a provider request was made outside a guarded call'));
  return call.fetch(input, init);
};

/** The sentence a user reads when a call timed out, naming the setting that sets the limit. */
export function describeTimeout(timeout: CallTimeout, baseUrl: string): string {
  const seconds = Math.round(timeout.limitMs / 100) / 10;
  switch (timeout.phase) {
    case 'connect':
      return `${baseUrl} did not start answering within ${seconds} s (coderoute.request.connectTimeoutSeconds).`;
    case 'idle':
      return `${baseUrl} went silent for ${seconds} s in the middle of an answer (coderoute.request.idleTimeoutSeconds).`;
    case 'total':
      return `The answer did not finish within ${seconds} s (coderoute.request.timeoutSeconds).`;
  }
}
