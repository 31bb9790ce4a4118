// Command kube-controlplane runs a Kubernetes control plane for tests in one process: etcd,
// embedded, and kube-apiserver, both built from the upstream Go modules pinned in go.mod and
// listening on 127.0.0.1 only. It generates fresh credentials at every start, writes an admin
// kubeconfig, prints one line starting with "controlplane ready " (then JSON) once /readyz
// passes, and on SIGTERM or SIGINT stops both and removes what it created.
//
// Usage: kube-controlplane [flags] [-- kube-apiserver flags...]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	utilversion "k8s.io/component-base/version"
)

// readyPrefix starts the one stdout line that scripts and the test harness wait for.
const readyPrefix = "controlplane ready "

type config struct {
	dataDir        string
	kubeconfig     string
	port           int
	keep           bool
	removeDataDir  bool
	exitWithParent bool
	readyTimeout   time.Duration
	apiserverExtra []string
}

// readyInfo is the JSON that follows readyPrefix.
type readyInfo struct {
	Server     string `json:"server"`
	Kubeconfig string `json:"kubeconfig"`
	DataDir    string `json:"dataDir"`
	PID        int    `json:"pid"`
	Version    string `json:"version"`
	StartupMS  int64  `json:"startupMs"`
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-controlplane:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "kube-controlplane:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := pflag.NewFlagSet("kube-controlplane", pflag.ContinueOnError)
	fs.StringVar(&cfg.dataDir, "data-dir", "", "directory for etcd data and credentials (default: a new temporary directory)")
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "where to write the admin kubeconfig (default: <data-dir>/kubeconfig)")
	fs.IntVar(&cfg.port, "port", 0, "kube-apiserver port on 127.0.0.1 (default: a free one)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the data directory and kubeconfig on exit, for inspection")
	fs.BoolVar(&cfg.removeDataDir, "remove-data-dir", false, "remove --data-dir on exit even though it existed before (default: only a directory this process created)")
	fs.BoolVar(&cfg.exitWithParent, "exit-with-parent", false, "shut down when the parent process dies, so a killed test run leaves nothing behind")
	fs.DurationVar(&cfg.readyTimeout, "ready-timeout", 2*time.Minute, "give up when /readyz has not passed by then")
	showVersion := fs.Bool("version", false, "print the Kubernetes version and exit")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: kube-controlplane [flags] [-- kube-apiserver flags]\n\n"+
			"Runs etcd and kube-apiserver on 127.0.0.1, writes an admin kubeconfig and prints\n"+
			"%q and a JSON object once ready. Stops and cleans up on SIGTERM or SIGINT.\n\n", readyPrefix)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *showVersion {
		fmt.Println(utilversion.Get().GitVersion)
		os.Exit(0)
	}
	// Everything after "--" goes to kube-apiserver unchanged.
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		cfg.apiserverExtra = fs.Args()[dash:]
	} else if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q (kube-apiserver flags go after --)", fs.Args())
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return cfg, fmt.Errorf("--port %d out of range", cfg.port)
	}
	return cfg, nil
}

func run(cfg config) (err error) {
	started := time.Now()
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	go func() {
		// After the first signal, a second one kills at once: an escape hatch if shutdown hangs.
		<-ctx.Done()
		stopSignals()
	}()
	if cfg.exitWithParent {
		ctx = exitWithParent(ctx)
	}

	dataDir, created, err := prepareDataDir(cfg.dataDir)
	if err != nil {
		return err
	}
	removeDataDir := created || cfg.removeDataDir
	if cfg.kubeconfig == "" {
		cfg.kubeconfig = filepath.Join(dataDir, "kubeconfig")
	}
	if cfg.kubeconfig, err = filepath.Abs(cfg.kubeconfig); err != nil {
		return err
	}
	// A kubeconfig left from an earlier run points at a dead server with dead credentials;
	// removing it first means its presence always means "this control plane is ready".
	if err := os.Remove(cfg.kubeconfig); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	defer func() {
		if cfg.keep {
			fmt.Fprintln(os.Stderr, "kube-controlplane: kept", dataDir)
			return
		}
		_ = os.Remove(cfg.kubeconfig)
		if removeDataDir {
			if rmErr := os.RemoveAll(dataDir); rmErr != nil && err == nil {
				err = rmErr
			}
		}
	}()

	// A data directory that already existed is a restart: keep the credentials clients hold.
	credsPath := filepath.Join(dataDir, "pki", "credentials.json")
	var creds *pki
	if !created {
		creds, _ = loadPKI(credsPath)
	}
	if creds == nil {
		if creds, err = newPKI(started); err != nil {
			return err
		}
		if err := creds.save(credsPath); err != nil {
			return err
		}
	}
	files, err := creds.write(filepath.Join(dataDir, "pki"))
	if err != nil {
		return err
	}

	etcd, etcdURL, err := startEtcd(dataDir, "stderr")
	if err != nil {
		return err
	}
	defer etcd.Close()

	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listen for kube-apiserver: %w", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	server := "https://127.0.0.1:" + strconv.Itoa(port)

	// The API server gets its own context so that it is stopped, and waited for, before etcd.
	apiCtx, stopAPI := context.WithCancel(ctx)
	defer stopAPI()
	apiDone := make(chan error, 1)
	go func() {
		apiDone <- runAPIServer(apiCtx, apiserverArgs(etcdURL, port, filepath.Join(dataDir, "pki"), files, cfg.apiserverExtra), listener)
	}()
	// Whatever happens below, wait for the API server to return before etcd closes.
	defer func() {
		stopAPI()
		select {
		case <-apiDone:
		case <-time.After(30 * time.Second):
			fmt.Fprintln(os.Stderr, "kube-controlplane: kube-apiserver did not stop within 30s")
		}
	}()

	if err := waitReady(ctx, creds, server, cfg.readyTimeout, apiDone); err != nil {
		return err
	}
	if err := writeKubeconfig(cfg.kubeconfig, server, creds); err != nil {
		return err
	}
	info, _ := json.Marshal(readyInfo{
		Server:     server,
		Kubeconfig: cfg.kubeconfig,
		DataDir:    dataDir,
		PID:        os.Getpid(),
		Version:    utilversion.Get().GitVersion,
		StartupMS:  time.Since(started).Milliseconds(),
	})
	fmt.Println(readyPrefix + string(info))

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "kube-controlplane: shutting down")
		return nil
	case err := <-apiDone:
		apiDone <- err // let the deferred wait see it too
		return fmt.Errorf("kube-apiserver stopped: %v", err)
	}
}

// prepareDataDir returns the directory to use and whether this process created it (and so may
// remove it). A directory the user named and that already existed is never removed.
func prepareDataDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "kube-controlplane-")
		return d, true, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	if _, err := os.Stat(abs); err == nil {
		return abs, false, nil
	}
	return abs, true, os.MkdirAll(abs, 0o700)
}

// waitReady polls /readyz until it passes, the API server fails, a signal arrives, or time runs out.
func waitReady(ctx context.Context, creds *pki, server string, timeout time.Duration, apiDone chan error) error {
	client, err := adminHTTPClient(creds)
	if err != nil {
		return err
	}
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastErr := errors.New("not polled yet")
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted before ready")
		case err := <-apiDone:
			apiDone <- err
			return fmt.Errorf("kube-apiserver exited before ready: %v", err)
		case <-deadline:
			return fmt.Errorf("not ready after %s: %v", timeout, lastErr)
		case <-tick.C:
			if lastErr = readyz(client, server); lastErr == nil {
				return nil
			}
		}
	}
}

// exitWithParent returns a context that ends when this process is re-parented, which happens
// when the process that started it dies, even by SIGKILL, which runs no cleanup of its own.
func exitWithParent(ctx context.Context) context.Context {
	parent := os.Getppid()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if os.Getppid() != parent {
					fmt.Fprintln(os.Stderr, "kube-controlplane: parent process exited, shutting down")
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}
