package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// On shutdown the front drains before the back is told to stop.
func TestRunInOrderStopsFrontFirst(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runInOrder(ctx,
			[]func(context.Context) error{func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond) // draining in-flight calls
				note("front drained")
				return nil
			}},
			[]func(context.Context) error{func(ctx context.Context) error {
				<-ctx.Done()
				note("back stopped")
				return nil
			}})
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "front drained" || order[1] != "back stopped" {
		t.Fatalf("order = %v", order)
	}
}

// A back part that fails on its own stops the front and the error is returned.
func TestRunInOrderBackFailureStopsAll(t *testing.T) {
	boom := errors.New("nats gone")
	err := runInOrder(context.Background(),
		[]func(context.Context) error{func(ctx context.Context) error { <-ctx.Done(); return nil }},
		[]func(context.Context) error{func(context.Context) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}
