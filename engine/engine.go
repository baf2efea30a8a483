// Package engine is dr's only door to the Docker engine: it finds a compose
// stack's containers by their labels, runs commands in them with streamed
// input and output, and stops and starts services.
//
// Secrets stay inside containers: the package hands out the names of a
// container's environment variables, never their values, so a caller can
// choose "$MARIADB_ROOT_PASSWORD" for a shell inside the container without
// the password ever crossing into dr's memory or logs.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/client"
)

// ErrNoEngine is matched (errors.Is) by the error New returns when no Docker
// engine answers, so the CLI can give it its own exit code.
var ErrNoEngine = errors.New("no Docker engine answers")

// NoEngineError says which engine address was tried and why it failed.
type NoEngineError struct {
	Host  string
	Cause error
}

func (e *NoEngineError) Error() string {
	return fmt.Sprintf("cannot reach the Docker engine at %s: %v; start it (systemctl start docker) or set DOCKER_HOST", e.Host, e.Cause)
}

// Is makes errors.Is(err, ErrNoEngine) true.
func (e *NoEngineError) Is(target error) bool { return target == ErrNoEngine }

func (e *NoEngineError) Unwrap() error { return e.Cause }

// Client talks to one Docker engine. It is safe for concurrent use.
type Client struct {
	api *client.Client
	// owner labels the helper containers this client makes (see
	// WithOwner); "" leaves them without an owner.
	owner string
}

// Option configures a Client.
type Option func(*Client)

// WithOwner labels every helper container the client makes with owner
// (LabelHelperOwner): a run that holds the lock owner stands for knows
// that any other helper with that label is a leftover of a killed run,
// and removes it (RemoveLabelled). Only a run that holds the lock may
// carry it: a helper of a command that runs without the lock (dr diff
// --live) must never be taken for a leftover while it is in use.
func WithOwner(owner string) Option { return func(c *Client) { c.owner = owner } }

// pingTimeout bounds the first contact, so a hung engine fails fast with
// the same clear message as a missing one.
const pingTimeout = 15 * time.Second

// New connects to the engine named by the environment (DOCKER_HOST and
// friends, or the default socket), negotiates the API version and pings it.
func New(ctx context.Context, opts ...Option) (*Client, error) {
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("configuring the Docker client: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := api.Ping(pingCtx); err != nil {
		host := api.DaemonHost()
		api.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("contacting the Docker engine at %s: %w", host, ctx.Err())
		}
		return nil, &NoEngineError{Host: host, Cause: connectCause(host, err)}
	}
	// The ping negotiated the version; this pins it for later calls.
	api.NegotiateAPIVersion(ctx)
	c := &Client{api: api}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// connectCause digs out why the connection failed: the Docker client
// replaces the socket error by a generic sentence, but "no such file" and
// "connection refused" point an operator to different fixes.
func connectCause(host string, err error) error {
	if !client.IsErrConnectionFailed(err) {
		return err
	}
	if path, ok := strings.CutPrefix(host, "unix://"); ok {
		conn, dialErr := net.DialTimeout("unix", path, 2*time.Second)
		if dialErr != nil {
			return dialErr
		}
		conn.Close()
	}
	return err
}

// Close releases the client's connections.
func (c *Client) Close() error {
	return c.api.Close()
}

// APIVersion is the negotiated Engine API version, for reports.
func (c *Client) APIVersion() string {
	return c.api.ClientVersion()
}
