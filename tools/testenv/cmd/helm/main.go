// Command helm is the upstream Helm CLI, built from helm.sh/helm/v4 at the version pinned in
// go.mod, so that chart tests install into the real API server with the real tool.
package main

import (
	"errors"
	"log/slog"
	"os"

	// Registers the client auth plugins (exec, oidc) that a real helm carries.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	helmcmd "helm.sh/helm/v4/pkg/cmd"
	"helm.sh/helm/v4/pkg/kube"
)

func main() {
	// Fixed rather than derived from argv[0], so that managedFields say "helm" whatever the
	// binary is called.
	kube.ManagedFieldsManager = "helm"

	cmd, err := helmcmd.NewRootCmd(os.Stdout, os.Args[1:], helmcmd.SetupLogging)
	if err != nil {
		slog.Warn("command failed", slog.Any("error", err))
		os.Exit(1)
	}
	if err := cmd.Execute(); err != nil {
		if cerr, ok := errors.AsType[helmcmd.CommandError](err); ok {
			os.Exit(cerr.ExitCode)
		}
		os.Exit(1)
	}
}
