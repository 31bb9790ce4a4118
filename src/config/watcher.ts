// Keeps the operator on the last good OperatorConfig. The file is re-read when it changes
// (fs.watch on its folder, which also sees a ConfigMap's symlink swap) and every poll period as
// a fallback; a bad file is reported and ignored, never applied.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'winston';
import { ConfigFileError, loadOperatorConfig, type LoadedConfig } from './load.js';

export interface ConfigStatus {
  current: LoadedConfig;
  /** Set while the file on disk is invalid (the running config is the last good one). */
  lastError?: string;
}

export class ConfigWatcher {
  private status: ConfigStatus;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  /** Throws ConfigFileError when the file is invalid at start: an operator must not start on it. */
  constructor(
    private readonly path: string,
    private readonly log: Logger,
    private readonly onChange: (config: LoadedConfig) => void,
    private readonly onResult: (ok: boolean, error?: string) => void = () => {},
  ) {
    this.status = { current: loadOperatorConfig(path) };
  }

  get current(): LoadedConfig {
    return this.status.current;
  }

  get lastError(): string | undefined {
    return this.status.lastError;
  }

  start(pollMs = 10_000): void {
    try {
      this.watcher = watch(dirname(this.path), () => this.schedule());
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.log.warn('cannot watch the config folder; polling only', { error: String(err) });
    }
    this.poll = setInterval(() => this.reload(), pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), 200);
    this.debounce.unref();
  }

  /** Re-reads the file; returns true when a new configuration was applied. */
  reload(): boolean {
    let next: LoadedConfig;
    try {
      next = loadOperatorConfig(this.path);
    } catch (err) {
      const message = err instanceof ConfigFileError ? err.message : String(err);
      if (message !== this.status.lastError) {
        this.log.error('OperatorConfig is invalid; keeping the last good configuration', {
          path: this.path,
          error: message,
        });
        this.onResult(false, message);
      }
      this.status.lastError = message;
      return false;
    }
    const recovered = this.status.lastError !== undefined;
    this.status.lastError = undefined;
    if (next.text === this.status.current.text) {
      if (recovered) this.onResult(true);
      return false;
    }
    this.status.current = next;
    this.log.info('OperatorConfig reloaded', {
      path: this.path,
      profiles: next.config.profiles.map((p) => p.name),
    });
    this.onResult(true);
    this.onChange(next);
    return true;
  }
}
