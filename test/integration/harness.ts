// Integration-test harness: one real Kubernetes control plane per test run (kube-apiserver with
// embedded etcd, built from the Kubernetes Go modules by hack/testenv-build.sh, see
// docs/testenv.md), started lazily by the first suite that asks for it, so unit-only runs never
// pay for it. The Berth CRDs are installed and Established before anyone gets the handle.
//
// Teardown must leave no process and no temp directory behind, whatever ends the run:
// - the mocha root hook (hooks.ts) stops it after all tests, passed or failed;
// - SIGINT/SIGTERM handlers stop it and then exit;
// - a last-resort 'exit' handler kills it synchronously;
// - the control plane itself runs with --exit-with-parent, covering a SIGKILLed test process.
import { ApiextensionsV1Api, ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root; this file runs from dist/test/integration/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const binDir = join(repoRoot, 'bin');
export const crdDir = join(repoRoot, 'crds');

/** A running control plane. The admin credential is in system:masters, so it bypasses RBAC. */
export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig file, for tools (kubectl, helm, the operator as a process). */
  readonly kubeconfigPath: string;
  /** Admin KubeConfig for @kubernetes/client-node. */
  readonly kubeConfig: KubeConfig;
  /** The gitVersion stamped into kube-apiserver, e.g. v1.37.1. */
  readonly version: string;
  readonly pid: number;
  /** How long the control plane took from exec to /readyz ok. */
  readonly startupMs: number;
  /** Names of the CRDs installed from crds/, all Established. */
  readonly crds: readonly string[];
}

/** The JSON the control plane prints after "controlplane ready ". */
interface ReadyLine {
  server: string;
  kubeconfig: string;
  dataDir: string;
  pid: number;
  version: string;
  startupMs: number;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  tempDir: string;
  /** Set once the control plane is ready and the CRDs are in. */
  plane?: ControlPlane;
}

const READY_PREFIX = 'controlplane ready ';
// A cold Go build of kube-apiserver takes tens of minutes on 2 cores; a warm one is a no-op.
const BUILD_TIMEOUT_MS = 90 * 60_000;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

let starting: Promise<Running> | undefined;
let running: Running | undefined;
let tempDirs: string[] = [];

/**
 * Starts the control plane on first use (building the tools if needed) and returns it; later
 * calls return the same one. Call it from a `before` hook with the timeout disabled, or use
 * {@link useControlPlane}.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  starting ??= launch().catch((err: unknown) => {
    starting = undefined; // let a later suite retry rather than fail on a cached error
    throw err;
  });
  const { plane } = await starting;
  if (!plane) throw new Error('control plane started without a handle');
  return plane;
}

/**
 * Registers a mocha `before` hook that starts (or reuses) the control plane, and returns a getter
 * for it to use inside tests. Call it at the top of a `describe`.
 */
export function useControlPlane(): () => ControlPlane {
  let plane: ControlPlane | undefined;
  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS + START_TIMEOUT_MS);
    plane = await startControlPlane();
  });
  return () => {
    if (!plane)
      throw new Error('control plane not started: useControlPlane() registers a before hook');
    return plane;
  };
}

/** Stops the control plane (SIGTERM by PID, SIGKILL after a grace period) and removes temp dirs. */
export async function stopControlPlane(): Promise<void> {
  const current = running ?? (await starting?.catch(() => undefined));
  running = undefined;
  starting = undefined;
  if (current) {
    const { child, exited } = current;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      // SIGTERM lets it stop kube-apiserver, then etcd, and remove its directory.
      signalPid(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }
  removeTempDirs();
}

/** Creates a namespace with a unique name (`<prefix>-<random>`) and returns its name. */
export async function createNamespace(prefix = 'test'): Promise<string> {
  const plane = await startControlPlane();
  const core = plane.kubeConfig.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { 'berth.dev/test-namespace': 'true' } } },
  });
  // No namespace controller runs, so deleting would leave it Terminating forever; the whole
  // etcd goes away with the control plane instead.
  return name;
}

/**
 * Registers a mocha `beforeEach` that gives every test its own new namespace; returns a getter
 * for the current test's namespace. Call it at the top of a `describe` (after useControlPlane).
 */
export function useFreshNamespace(prefix = 'test'): () => string {
  let current: string | undefined;
  beforeEach(async function () {
    this.timeout(BUILD_TIMEOUT_MS + START_TIMEOUT_MS);
    current = await createNamespace(prefix);
  });
  return () => {
    if (!current)
      throw new Error('no namespace yet: useFreshNamespace() registers a beforeEach hook');
    return current;
  };
}

export interface ToolOptions {
  /** Written to the tool's stdin. */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs bin/kubectl as the admin against the test control plane. Never throws on a non-zero exit
 * (tests often assert a rejection); see {@link kubectlOk}.
 */
export async function kubectl(
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  const plane = await startControlPlane();
  return runTool('kubectl', ['--kubeconfig', plane.kubeconfigPath, ...args], target(), options);
}

/** Like {@link kubectl}, but throws (with stderr) unless it exits 0; returns stdout. */
export async function kubectlOk(
  args: readonly string[],
  options: ToolOptions = {},
): Promise<string> {
  return succeed('kubectl', args, await kubectl(args, options));
}

/** Runs bin/helm as the admin against the test control plane. Never throws on a non-zero exit. */
export async function helm(
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  const plane = await startControlPlane();
  return runTool('helm', ['--kubeconfig', plane.kubeconfigPath, ...args], target(), options);
}

/**
 * Makes sure ServiceAccount `name` exists in `namespace` and returns a token for it from the
 * TokenRequest API. The account has no permissions until a test binds some.
 */
export async function createServiceAccountToken(
  namespace: string,
  name: string,
  options: { expirationSeconds?: number } = {},
): Promise<string> {
  const plane = await startControlPlane();
  const core = plane.kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
  const answer = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    // No audiences: the API server fills in its own, so the token authenticates against it.
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** A KubeConfig that authenticates with a bearer token (e.g. a ServiceAccount's) instead of the admin cert. */
export function kubeConfigForToken(token: string, user = 'token-user'): KubeConfig {
  const plane = currentPlane();
  const cluster = plane.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: cluster.caData }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc;
}

function currentPlane(): ControlPlane {
  if (!running?.plane) throw new Error('control plane not started');
  return running.plane;
}

async function launch(): Promise<Running> {
  buildTools();
  // One directory holds everything of this run: etcd data, credentials, kubeconfig, the log and
  // the tools' caches. The control plane removes it itself when it stops, even after this
  // process was SIGKILLed (--exit-with-parent), so nothing outlives the run.
  const tempDir = mkdtempSync(join(tmpdir(), 'berth-it-'));
  tempDirs.push(tempDir);
  installExitHandlers();

  const logPath = join(tempDir, 'controlplane.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(
    join(binDir, 'kube-controlplane'),
    [
      ['--data-dir', tempDir],
      ['--remove-data-dir'],
      ['--kubeconfig', join(tempDir, 'kubeconfig')],
      ['--exit-with-parent'],
    ].flat(),
    // stdout carries the ready line; the chatty logs go to a file we show only on failure.
    { stdio: ['ignore', 'pipe', logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const state: Running = { child, exited, tempDir };
  running = state;

  try {
    const ready = await waitForReadyLine(child, exited).catch((err: unknown) => {
      throw new Error(
        `${(err as Error).message}\n--- control plane log (tail) ---\n${tail(logPath)}`,
      );
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(ready.kubeconfig);
    const crds = await installCRDs(ready.kubeconfig, tempDir, kubeConfig);
    state.plane = {
      server: ready.server,
      kubeconfigPath: ready.kubeconfig,
      kubeConfig,
      version: ready.version,
      pid: ready.pid,
      startupMs: ready.startupMs,
      crds,
    };
    return state;
  } catch (err) {
    // Half-started is not started: stop it, so that a retry does not leave a second one behind.
    await stopControlPlane();
    throw err;
  }
}

/** hack/testenv-build.sh is a quick no-op when bin/ is current, so calling it always is cheap. */
function buildTools(): void {
  const result = spawnSync(join(repoRoot, 'hack', 'testenv-build.sh'), [], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`hack/testenv-build.sh failed with exit code ${result.status}`);
}

function waitForReadyLine(child: ChildProcess, exited: Promise<void>): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`control plane not ready within ${START_TIMEOUT_MS / 1000}s`)),
      START_TIMEOUT_MS,
    );
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(`control plane exited (code ${child.exitCode}, signal ${child.signalCode})`),
      );
    });
    if (!child.stdout) return reject(new Error('no stdout pipe'));
    // Keep reading after the ready line too, so a full pipe never blocks the control plane.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith(READY_PREFIX)) return;
      clearTimeout(timer);
      try {
        resolvePromise(JSON.parse(line.slice(READY_PREFIX.length)) as ReadyLine);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/**
 * Applies every CRD in crds/ and waits until each is Established; returns their names.
 * Through kubectl rather than the typed client: client-node serializes a CRD through its model
 * classes, which silently drop keys like x-kubernetes-int-or-string that are spelled differently
 * in YAML, and the API server would then judge a different schema from the one in the file.
 */
async function installCRDs(
  kubeconfigPath: string,
  home: string,
  kubeConfig: KubeConfig,
): Promise<string[]> {
  const files = readdirSync(crdDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  if (files.length === 0) return [];
  const args = ['apply', '--server-side', '--field-manager=berth-test', '-o', 'name'];
  for (const file of files) args.push('-f', join(crdDir, file));
  const result = await runTool(
    'kubectl',
    ['--kubeconfig', kubeconfigPath, ...args],
    { kubeconfigPath, home },
    {},
  );
  const names = succeed('kubectl', args, result)
    .split('\n')
    .filter((line) => line.startsWith('customresourcedefinition.apiextensions.k8s.io/'))
    .map((line) => line.slice(line.indexOf('/') + 1));
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await Promise.all(names.map((name) => waitEstablished(api, name)));
  return names.sort();
}

async function waitEstablished(api: ApiextensionsV1Api, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const conditions = crd.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    const rejected = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
    if (rejected) throw new Error(`CRD ${name} names not accepted: ${rejected.message}`);
    if (Date.now() > deadline)
      throw new Error(`CRD ${name} not Established: ${JSON.stringify(conditions)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where a tool run points: the kubeconfig, and a directory for its caches and state. */
interface ToolTarget {
  kubeconfigPath: string;
  home: string;
}

function target(): ToolTarget {
  if (!running?.plane) throw new Error('control plane not started');
  return { kubeconfigPath: running.plane.kubeconfigPath, home: running.tempDir };
}

function runTool(
  tool: 'kubectl' | 'helm',
  args: readonly string[],
  { kubeconfigPath, home }: ToolTarget,
  options: ToolOptions,
): Promise<ToolResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(binDir, tool), args, {
      cwd: repoRoot,
      env: {
        ...process.env,
        // Keep the developer's ~/.kube and helm state out of it, both ways.
        KUBECONFIG: kubeconfigPath,
        KUBECACHEDIR: join(home, 'kube-cache'),
        HELM_CACHE_HOME: join(home, 'helm', 'cache'),
        HELM_CONFIG_HOME: join(home, 'helm', 'config'),
        HELM_DATA_HOME: join(home, 'helm', 'data'),
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }),
    );
    // A tool that exits before reading all of stdin (an early usage error) closes the pipe: the
    // EPIPE is the tool's answer, which 'close' reports, not a failure of the test process.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

function succeed(tool: string, args: readonly string[], result: ToolResult): string {
  if (result.code !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  tempDirs = [];
}

let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      void stopControlPlane().finally(() => process.exit(code));
    });
  }
  // Last resort when the process exits without the hooks having run: only synchronous work is
  // possible here, so kill outright and remove what we can.
  process.once('exit', () => {
    const pid = running?.child.pid;
    if (pid !== undefined && running?.child.exitCode === null) signalPid(pid, 'SIGKILL');
    removeTempDirs();
  });
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: nothing to stop.
  }
}
