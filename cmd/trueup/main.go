// Command trueup runs Trueup: the whole suite in one process for development
// (`trueup dev`), one service for production (`trueup serve <service>`), the REST
// gateway (`trueup gateway`), migrations (`trueup migrate <service>`) and the
// dead-letter tools (`trueup dlq`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // warehouse time zones must resolve in a distroless image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "trueup:", err)
		os.Exit(1)
	}
}
