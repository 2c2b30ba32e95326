/** Structured logs: one JSON line per event on stdout (errors on stderr), or a readable line with `--log pretty`. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(format: 'json' | 'pretty', write: (line: string, error: boolean) => void = (line, error) => (error ? process.stderr : process.stdout).write(line + '\n')): Logger {
  const emit = (level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void => {
    const clean = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    const time = new Date().toISOString();
    write(
      format === 'json'
        ? JSON.stringify({ time, level, message, ...clean })
        : `${time.slice(11, 19)} ${level.padEnd(5)} ${message}${Object.keys(clean).length ? ' ' + Object.entries(clean).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ') : ''}`,
      level === 'error',
    );
  };
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** A logger that keeps nothing (tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
