package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ECDSA P-256 everywhere: generating it takes microseconds where RSA-2048 takes tens of
// milliseconds per key, and the API server accepts it for serving, client certificates and
// service-account token signing (ES256).

// keyPair is a certificate with its private key, both PEM-encoded.
type keyPair struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// pki holds every credential one control plane needs. It is generated at each start, so a
// leaked test credential is worthless once the control plane stops.
type pki struct {
	ca       keyPair // signs the serving cert and the admin client cert; also the client CA
	serving  keyPair // kube-apiserver's TLS certificate for 127.0.0.1 and localhost
	admin    keyPair // client certificate in system:masters, the kubeconfig's user
	saKeyPEM []byte  // signs service-account tokens (TokenRequest)
	saPubPEM []byte  // verifies them
}

func newPKI(now time.Time) (*pki, error) {
	ca, err := newCertificate(nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "berth-testenv-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}, now)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	serving, err := newCertificate(&ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// In-cluster names too, so a client that dials the service name (not needed today,
		// cheap to have) is not rejected.
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.ParseIP(serviceIP)},
	}, now)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	admin, err := newCertificate(&ca, &x509.Certificate{
		// The API server maps O to groups; system:masters bypasses authorization, which is
		// what an admin credential for tests should do, while everyone else goes through RBAC.
		Subject:     pkix.Name{CommonName: "berth-admin", Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, now)
	if err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("service-account key: %w", err)
	}
	saKeyPEM, err := encodeKey(saKey)
	if err != nil {
		return nil, err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, err
	}
	return &pki{
		ca:       ca,
		serving:  serving,
		admin:    admin,
		saKeyPEM: saKeyPEM,
		saPubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
	}, nil
}

// newCertificate signs template with parent, or self-signs it when parent is nil.
func newCertificate(parent *keyPair, template *x509.Certificate, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return keyPair{}, err
	}
	template.SerialNumber = serial
	// Back-dated so that a clock a little behind ours does not reject a brand-new cert.
	template.NotBefore = now.Add(-time.Hour)
	template.NotAfter = now.Add(10 * 365 * 24 * time.Hour)

	signerCert, signerKey := template, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, key.Public(), signerKey)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  keyPEM,
	}, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// pkiFiles are the paths kube-apiserver reads its credentials from.
type pkiFiles struct {
	caCert, servingCert, servingKey, saKey, saPub string
}

// write puts the files kube-apiserver reads into dir, readable by the owner only.
func (p *pki) write(dir string) (pkiFiles, error) {
	f := pkiFiles{
		caCert:      filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, err
	}
	for path, data := range map[string][]byte{
		f.caCert:      p.ca.certPEM,
		f.servingCert: p.serving.certPEM,
		f.servingKey:  p.serving.keyPEM,
		f.saKey:       p.saKeyPEM,
		f.saPub:       p.saPubPEM,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return f, err
		}
	}
	return f, nil
}

// storedPKI is the on-disk form of a pki, so that a control plane restarted on a kept data
// directory (a test that cuts every watch by restarting kube-apiserver) keeps the credentials its
// clients already hold.
type storedPKI struct {
	CACert, CAKey, ServingCert, ServingKey, AdminCert, AdminKey, SAKey, SAPub string
}

func (p *pki) save(path string) error {
	data, err := json.Marshal(storedPKI{
		CACert: string(p.ca.certPEM), CAKey: string(p.ca.keyPEM),
		ServingCert: string(p.serving.certPEM), ServingKey: string(p.serving.keyPEM),
		AdminCert: string(p.admin.certPEM), AdminKey: string(p.admin.keyPEM),
		SAKey: string(p.saKeyPEM), SAPub: string(p.saPubPEM),
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func loadPKI(path string) (*pki, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s storedPKI
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	pair := func(certPEM, keyPEM string) (keyPair, error) {
		cb, _ := pem.Decode([]byte(certPEM))
		kb, _ := pem.Decode([]byte(keyPEM))
		if cb == nil || kb == nil {
			return keyPair{}, fmt.Errorf("%s: bad PEM", path)
		}
		cert, err := x509.ParseCertificate(cb.Bytes)
		if err != nil {
			return keyPair{}, err
		}
		key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			return keyPair{}, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return keyPair{}, fmt.Errorf("%s: key is not a signer", path)
		}
		return keyPair{cert: cert, key: signer, certPEM: []byte(certPEM), keyPEM: []byte(keyPEM)}, nil
	}
	p := &pki{saKeyPEM: []byte(s.SAKey), saPubPEM: []byte(s.SAPub)}
	if p.ca, err = pair(s.CACert, s.CAKey); err != nil {
		return nil, err
	}
	if p.serving, err = pair(s.ServingCert, s.ServingKey); err != nil {
		return nil, err
	}
	if p.admin, err = pair(s.AdminCert, s.AdminKey); err != nil {
		return nil, err
	}
	return p, nil
}
