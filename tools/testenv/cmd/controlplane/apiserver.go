package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/server/flagz"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

const (
	serviceCIDR = "10.0.0.0/24"
	serviceIP   = "10.0.0.1" // first address of serviceCIDR: the "kubernetes" Service
	// The issuer a real cluster uses by default; TokenRequest stamps it into every token.
	serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// apiserverArgs are kube-apiserver's flags for a test control plane. The list follows what
// controller-runtime's envtest passes, plus what TokenRequest and a loopback-only, kubelet-less
// setup need. extra comes last, so it overrides any of them.
func apiserverArgs(etcdURL string, port int, certDir string, files pkiFiles, extra []string) []string {
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		"--tls-cert-file=" + files.servingCert,
		"--tls-private-key-file=" + files.servingKey,
		"--client-ca-file=" + files.caCert,
		// RBAC only: there is no kubelet, so the Node authorizer has nothing to do.
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-signing-key-file=" + files.saKey,
		"--service-account-key-file=" + files.saPub,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--allow-privileged=true",
		// No controller-manager runs, so no namespace ever gets its "default" ServiceAccount;
		// with this plugin on, every Pod create would fail for that reason alone.
		"--disable-admission-plugins=ServiceAccount",
		// The "kubernetes" Service's endpoints would say 127.0.0.1, which Endpoints validation
		// rejects as loopback, and the reconciler would log that error forever. Nothing in a
		// kubelet-less cluster can use those endpoints anyway.
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
	return append(args, extra...)
}

// runAPIServer runs kube-apiserver in this process until ctx ends, the way
// app.NewAPIServerCommand does, minus its own signal handling: that one may be installed only
// once per process and exits on a second signal, while we need to stop etcd and clean up after
// the API server returns.
func runAPIServer(ctx context.Context, args []string, listener net.Listener) error {
	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	named := s.Flags()
	s.Flagz = flagz.NamedFlagSetsReader{FlagSets: named}
	globalflag.AddGlobalFlags(named.FlagSet("global"), "kube-apiserver", logs.SkipLoggingConfigurationFlags())
	for _, f := range named.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("kube-apiserver flags: %w", err)
	}
	// Serve on the listener we already bound: no window in which another process takes the port.
	s.SecureServing.Listener = listener

	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	// The API server's loopback clients would otherwise log warnings it sends to itself.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	if mutable, ok := featureGate.(featuregate.MutableFeatureGate); ok {
		mutable.AddMetrics()
	}
	return app.Run(ctx, completed)
}
