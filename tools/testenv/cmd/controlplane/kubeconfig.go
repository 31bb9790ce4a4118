package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const contextName = "berth-testenv"

// writeKubeconfig writes an admin kubeconfig with everything inline, so it stays usable when
// copied elsewhere. It is renamed into place, so a reader never sees half a file.
func writeKubeconfig(path, server string, p *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   server,
		CertificateAuthorityData: p.ca.certPEM,
	}
	cfg.AuthInfos[p.admin.cert.Subject.CommonName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: p.admin.certPEM,
		ClientKeyData:         p.admin.keyPEM,
	}
	cfg.Contexts[contextName] = &clientcmdapi.Context{
		Cluster:   contextName,
		AuthInfo:  p.admin.cert.Subject.CommonName,
		Namespace: "default",
	}
	cfg.CurrentContext = contextName

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// adminHTTPClient talks to the API server as the admin, trusting only our CA.
func adminHTTPClient(p *pki) (*http.Client, error) {
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	cert, err := tls.X509KeyPair(p.admin.certPEM, p.admin.keyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      roots,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// readyz reports whether every readiness check passes, which includes the post-start hooks
// that bootstrap RBAC roles and the built-in priority and flow-control objects.
func readyz(client *http.Client, server string) error {
	resp, err := client.Get(server + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}
