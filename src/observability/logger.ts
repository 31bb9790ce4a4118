// Structured JSON logs (winston). Every line about an object carries its key, so
// `jq 'select(.object=="team-ci/runners")'` follows one request through the operator.
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type { Logger } from 'winston';

export function createLogger(level: LogLevel = 'info', silent = false): winston.Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      winston.format.json(),
    ),
    transports: [
      new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
}

/** A logger that drops everything: for tests and the simulator. */
export const silentLogger = (): winston.Logger => createLogger('error', true);
