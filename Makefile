# The two newcomer commands are `make demo` and `make test`; both set up
# what they need on a fresh Debian machine (as root) through scripts/setup.sh.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: all build image setup demo test test-extended lint docs bench clean

all: build

# A static binary (no cgo): it runs on any Linux host and FROM scratch.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/dr ./cmd/dr

# The container image of deploy/Dockerfile: a static dr and the CA bundle,
# FROM scratch, so nothing is pulled.
image: build
	mkdir -p bin/image
	cp bin/dr bin/image/dr
	cp /etc/ssl/certs/ca-certificates.crt bin/image/
	cp deploy/Dockerfile bin/image/Dockerfile
	docker build -t appwrite-dr/dr:$(VERSION) -t appwrite-dr/dr:latest bin/image

# Installs Docker, docker-compose, debootstrap, zstd and age when missing,
# starts dockerd when none answers, and builds the test MariaDB image.
setup:
	bash scripts/setup.sh

demo: setup build
	bash scripts/demo.sh

# The longest packages are named first: go test starts packages in the
# order given, so on CI's 2 cores they start at once instead of last.
SLOW_TESTS := ./restore ./restore/runbook ./cmd/dr ./drill ./backup

test: setup
	DR_INTEGRATION=required $(GO) test -race -count=1 -timeout 25m $(SLOW_TESTS) ./...

# make test plus the extended set (teststack.Extended): integration tests
# whose path the default set already takes on the other database engine.
test-extended: setup
	DR_INTEGRATION=required DR_TEST_EXTENDED=1 $(GO) test -race -count=1 -timeout 40m $(SLOW_TESTS) ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Regenerates the docs made from code: docs/cli from the commands' help,
# docs/RUNBOOKS.md from the runbooks. Their tests fail while either is stale.
docs:
	$(GO) test ./cmd/dr -run TestCLIDocsAreCurrent -count=1 -update
	$(GO) test ./restore/runbook -run TestRunbooksDocIsCurrent -count=1 -update

bench: setup build
	$(GO) run ./bench backup

clean:
	rm -rf bin .demo
