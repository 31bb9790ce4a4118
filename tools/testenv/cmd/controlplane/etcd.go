package main

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// startEtcd runs a single-member etcd inside this process, on 127.0.0.1 only, and returns once
// it serves clients. Embedding saves a second binary and a process to babysit: etcd dies with us.
func startEtcd(dataDir string, logOutput string) (*embed.Etcd, string, error) {
	clientURL, err := freeLocalURL()
	if err != nil {
		return nil, "", err
	}
	peerURL, err := freeLocalURL()
	if err != nil {
		return nil, "", err
	}

	cfg := embed.NewConfig()
	cfg.Name = "berth-testenv"
	cfg.Dir = filepath.Join(dataDir, "etcd")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	// etcd needs a peer listener even alone; it only ever talks to itself.
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The data is thrown away when the tests end; skipping fsync makes every write (and so
	// every API request) several times faster on slow CI disks.
	cfg.UnsafeNoFsync = true
	// A lone member still waits out an election timeout before it leads and serves; at the
	// defaults (100ms ticks, 1s election) that is about a second of every start. With no peers
	// to disagree with, short timeouts cost nothing.
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{logOutput}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, clientURL.String(), nil
	case err := <-e.Err():
		e.Close()
		return nil, "", fmt.Errorf("etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", fmt.Errorf("etcd not ready after 60s")
	}
}

// freeLocalURL picks a free port on 127.0.0.1. The port is released before etcd binds it, so
// another process could grab it in between; for a test machine that window is acceptable.
func freeLocalURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return url.URL{}, err
	}
	return url.URL{Scheme: "http", Host: addr}, nil
}
