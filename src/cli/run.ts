// `berth run`: the operator. Flags follow controller-runtime's names where there is one.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Manager } from '../controller/manager.js';
import { defaultLeaderElection } from '../runtime/leaderelection.js';
import { KubeRest, loadKubeConfig } from '../kube/rest.js';
import { DEFAULT_API_BURST, DEFAULT_API_QPS } from '../kube/ratelimit.js';
import { createLogger, type LogLevel } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { startProbeServer } from '../observability/health.js';
import { parseAddress, parseBool, parseDuration, parsePositiveInt, parseQps } from './flags.js';

export const RUN_USAGE = `Usage: berth run --config PATH [flags]

  --config PATH                      OperatorConfig file (reloaded when it changes)
  --kubeconfig PATH                  default: $KUBECONFIG, ~/.kube/config, or in-cluster
  --leader-elect=true|false          default true
  --lease-namespace NS               namespace of the Lease (default: $POD_NAMESPACE or default)
  --lease-name NAME                  default berth-operator
  --lease-duration 15s  --renew-deadline 10s  --retry-period 2s
  --metrics-bind-address ADDR        default 127.0.0.1:8080 (":0" picks a free port)
  --health-probe-bind-address ADDR   default 127.0.0.1:8081
  --workers N                        concurrent ResourceRequest reconciles (default 16)
  --kube-api-qps N                   API requests per second, -1 for no limit (default ${DEFAULT_API_QPS})
  --kube-api-burst N                 requests allowed at once above the QPS (default ${DEFAULT_API_BURST})
  --orphan-scan-interval 5m          how often the leader asks external provisioners what they hold
  --orphan-grace 2m                  how long a node no request records is left before it is released
  --log-level error|warn|info|debug  default info
  --identity ID                      leader-election identity (default: host_pid_random)`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      kubeconfig: { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      'metrics-bind-address': { type: 'string' },
      'health-probe-bind-address': { type: 'string' },
      workers: { type: 'string' },
      'kube-api-qps': { type: 'string' },
      'kube-api-burst': { type: 'string' },
      'log-level': { type: 'string' },
      'orphan-scan-interval': { type: 'string' },
      'orphan-grace': { type: 'string' },
      identity: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  if (!values.config) {
    console.error(`berth run: --config is required\n\n${RUN_USAGE}`);
    return 2;
  }
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['error', 'warn', 'info', 'debug'].includes(level))
    throw new Error(`--log-level: unknown level ${JSON.stringify(level)}`);
  const log = createLogger(level);
  const namespace = values['lease-namespace'] ?? process.env.POD_NAMESPACE ?? 'default';
  const identity =
    values.identity ??
    `${process.env.POD_NAME ?? hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const leaderElect = parseBool('leader-elect', values['leader-elect'], true);
  const metricsAddress = parseAddress(
    'metrics-bind-address',
    values['metrics-bind-address'] ?? '127.0.0.1:8080',
  );
  const probeAddress = parseAddress(
    'health-probe-bind-address',
    values['health-probe-bind-address'] ?? '127.0.0.1:8081',
  );
  const metrics = new Metrics();
  const rest = new KubeRest(loadKubeConfig(values.kubeconfig), {
    qps: parseQps('kube-api-qps', values['kube-api-qps'] ?? String(DEFAULT_API_QPS)),
    burst: parsePositiveInt(
      'kube-api-burst',
      values['kube-api-burst'] ?? String(DEFAULT_API_BURST),
    ),
    // client-go says this at info when a request waited a second or more; so do we.
    onThrottle: (waitedMs, method, path) => {
      if (waitedMs >= 1000)
        log.info('waited for client-side throttling', { waitedMs, request: `${method} ${path}` });
    },
  });
  const abort = new AbortController();
  let exitCode = 0;
  const manager = new Manager({
    rest,
    log,
    metrics,
    configPath: values.config,
    workers: parsePositiveInt('workers', values.workers ?? '16'),
    orphanIntervalMs: parseDuration('orphan-scan-interval', values['orphan-scan-interval'] ?? '5m'),
    orphanGraceMs: parseDuration('orphan-grace', values['orphan-grace'] ?? '2m'),
    identity,
    namespace,
    probeAddress,
    leaderElection: leaderElect
      ? {
          namespace,
          name: values['lease-name'] ?? 'berth-operator',
          identity,
          leaseDurationMs: parseDuration(
            'lease-duration',
            values['lease-duration'] ?? `${defaultLeaderElection.leaseDurationMs}ms`,
          ),
          renewDeadlineMs: parseDuration(
            'renew-deadline',
            values['renew-deadline'] ?? `${defaultLeaderElection.renewDeadlineMs}ms`,
          ),
          retryPeriodMs: parseDuration(
            'retry-period',
            values['retry-period'] ?? `${defaultLeaderElection.retryPeriodMs}ms`,
          ),
        }
      : undefined,
    onLostLeadership: () => {
      exitCode = 1;
      abort.abort();
    },
  });
  const metricsServer = await startProbeServer(
    metricsAddress.host,
    metricsAddress.port,
    { healthz: {}, readyz: {} },
    metrics.registry,
  );
  log.info('berth operator starting', {
    identity,
    leaderElection: leaderElect,
    namespace,
    metricsPort: metricsServer.port,
  });
  const stop = (sig: string) => {
    log.info('signal received', { signal: sig });
    abort.abort();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await manager.run(abort.signal);
  await metricsServer.close();
  await rest.close();
  log.info('berth operator stopped', { exitCode });
  return exitCode;
}
