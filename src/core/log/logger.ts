/**
 * The narrow logging interface core code receives from its host. The extension passes a
 * VS Code LogOutputChannel; the CLI and tests pass a console or a recording logger.
 * Never log prompts, code or keys through it.
 */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};
