package outbox

// SetMarkHook makes o's relay call f before it marks each published batch,
// in the goroutine that marks: a test can hold a mark back and watch what the
// relay does meanwhile. Set it before Run.
func SetMarkHook(o *Outbox, f func()) { o.markHook = f }
