# oncall: build, test, lint, bench, install, release.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
STATICCHECK_VERSION := v0.8.2

.PHONY: build test lint bench install release-snapshot clean chaos-testbed

build: ## build bin/oncall
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/oncall ./cmd/oncall

test: ## the README's test command: installs servers if root on Debian, runs every test
	./scripts/test.sh

lint: ## go vet and staticcheck
	go vet ./...
	@command -v staticcheck >/dev/null 2>&1 || test -x "$$(go env GOPATH)/bin/staticcheck" || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$$(command -v staticcheck || echo $$(go env GOPATH)/bin/staticcheck)" ./...

bench: ## every benchmark, with allocations
	go test -run '^$$' -bench . -benchmem ./...

install: ## install oncall into $(go env GOPATH)/bin
	CGO_ENABLED=0 go install -trimpath -ldflags '$(LDFLAGS)' ./cmd/oncall

release-snapshot: ## a local release with goreleaser, without publishing
	@command -v goreleaser >/dev/null 2>&1 || { echo "goreleaser is not installed: go install github.com/goreleaser/goreleaser/v2@latest"; exit 1; }
	goreleaser release --snapshot --clean

chaos-testbed: ## a real Toxiproxy, Prometheus and HTTP service pair to run the shipped Toxiproxy experiments against
	go run ./internal/chaosbed/cmd/chaosbed

clean:
	rm -rf bin dist completions manpages
