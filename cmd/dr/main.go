// Command dr backs up, restores and drills a Docker Compose stack on
// MariaDB/MySQL (a self-hosted Appwrite host, typically).
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/appwrite-dr/dr/internal/redact"
)

func main() {
	// rclone logs through slog's default logger, which writes through the
	// standard log package; its lines can quote a remote, so they pass the
	// redactor like everything else dr prints.
	log.SetOutput(redact.NewWriter(os.Stderr))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
