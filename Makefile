# Berth. Every target brings what it needs: Node 24 (into bin/ when the machine's is older),
# npm packages, and the test control plane built from the Kubernetes Go modules.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

ROOT := $(CURDIR)
BIN := $(ROOT)/bin
export PATH := $(BIN):$(PATH)
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

NODE_STAMP := $(BIN)/.node-ok
DEPS_STAMP := node_modules/.package-lock.json

.PHONY: setup build generate verify-generated lint test test-unit coverage testenv cluster cluster-down demo run clean help

$(NODE_STAMP): hack/ensure-node.sh
	@hack/ensure-node.sh
	@mkdir -p $(BIN) && touch $@

$(DEPS_STAMP): package.json package-lock.json | $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

## setup: Node 24 and the npm packages
setup: $(NODE_STAMP) $(DEPS_STAMP)

## build: compile TypeScript into dist/; afterwards `npx berth` works here
build: setup
	npm run --silent build

## generate: rewrite every generated file from src/api
generate: build
	node dist/src/deploy/generate.js

## verify-generated: fail when a generated file differs from its source
verify-generated: build
	node dist/src/deploy/generate.js --check

## lint: eslint (with the layer rules of docs/layers.md), dependency-cruiser (no import cycles), prettier
lint: setup
	npm run --silent lint

## test: everything: lint, generated files, the control plane, unit and integration tests
test: build lint verify-generated testenv
	hack/run-tests.sh

## test-unit: tests that need no control plane
test-unit: build
	hack/run-tests.sh --config .mocharc.unit.json

## coverage: the unit tests under c8; line coverage of src/controller and src/runtime, failing below 85 %
coverage: build
	npm run --silent coverage

## demo: the main job: a control plane, the CRDs, the operator, examples/ served; Ctrl-C stops it
demo: build testenv
	hack/demo.sh

## run: the operator against the current KUBECONFIG (CONFIG= names another OperatorConfig)
run: build
	node dist/src/cli/main.js run --config $${CONFIG:-examples/config/operatorconfig.yaml} --leader-elect=false

clean:
	rm -rf dist

## testenv: build kube-apiserver (with embedded etcd), kubectl and helm from Go modules into bin/
testenv:
	hack/testenv-build.sh

## cluster: start a local control plane in the background; writes .cluster/kubeconfig
cluster: testenv
	hack/cluster-up.sh

## cluster-down: stop the local control plane
cluster-down:
	hack/cluster-down.sh

help:
	@grep -E '^## ' Makefile | sed 's/^## /  /'
