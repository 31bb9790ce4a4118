// Command kubectl is the upstream kubectl, built from k8s.io/kubectl at the version pinned in
// go.mod, so that tests drive the real client against the real API server.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Registers the client auth plugins (exec, oidc) that a real kubectl carries.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// Set -v before the command is built: building it reads .kuberc and plugins, which logs.
	_, _ = logs.GlogSetter(cmd.GetLogVerbosity(os.Args))
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
