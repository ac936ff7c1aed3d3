package fulfillment

import (
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

// Refusal reasons of tasks.
const (
	ReasonTaskClaimed = "TASK_CLAIMED"
	ReasonTaskState   = "TASK_STATE"
	ReasonTaskType    = "TASK_TYPE"
)

// DefaultClaimTTL is how long a claim holds when the service is given none:
// long enough to walk to a bin and back, short enough that a dropped
// scanner's task goes back to the queue within the quarter hour.
const DefaultClaimTTL = 15 * time.Minute

// TaskType is what a task asks of a worker.
type TaskType int

// The types.
const (
	TaskPutaway TaskType = iota + 1
	TaskPick
	TaskCount
)

var taskTypes = map[TaskType]string{TaskPutaway: "PUTAWAY", TaskPick: "PICK", TaskCount: "COUNT"}

func (t TaskType) String() string {
	if n, ok := taskTypes[t]; ok {
		return n
	}
	return fmt.Sprintf("TaskType(%d)", int(t))
}

// ParseTaskType reads a type stored by String.
func ParseTaskType(s string) (TaskType, bool) {
	for t, n := range taskTypes {
		if n == s {
			return t, true
		}
	}
	return 0, false
}

// TaskState is where a task is. A CLAIMED task whose claim expired counts as
// OPEN: anyone may claim it.
type TaskState int

// The states.
const (
	TaskOpen TaskState = iota + 1
	TaskClaimed
	TaskDone
	TaskCancelled
)

var taskStates = map[TaskState]string{TaskOpen: "OPEN", TaskClaimed: "CLAIMED", TaskDone: "DONE", TaskCancelled: "CANCELLED"}

func (s TaskState) String() string {
	if n, ok := taskStates[s]; ok {
		return n
	}
	return fmt.Sprintf("TaskState(%d)", int(s))
}

// ParseTaskState reads a state stored by String.
func ParseTaskState(s string) (TaskState, bool) {
	for st, n := range taskStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Task is one piece of floor work in a warehouse's queue.
type Task struct {
	ID        string
	Type      TaskType
	Warehouse string
	// Zone is where the worker goes: the first "-"-separated segment of the
	// location code the task sends them to ("A" for "A-01-02").
	Zone    string
	State   TaskState
	SKU     string
	Lot     string
	Qty     qty.Qty // base units
	BaseUoM string
	From    string // location code the stock is taken from
	To      string // location code suggested (putaway) or where it goes
	// Receipt and ReceiptLine name the received line a putaway stores;
	// Reference names the document of another type of task.
	Receipt     string
	ReceiptLine int
	Reference   string
	// OrderLine and Allocation are a pick's outbound order line (its
	// order is Reference) and inventory allocation; Wave groups picks by
	// warehouse and cut-off.
	OrderLine    int
	Allocation   string
	Wave         string
	Partner      string
	ClaimedBy    string
	ClaimExpires time.Time
	DoneBy       string
	DoneTo       string // where the stock went, for a done putaway
	Movement     string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DoneAt       time.Time
	Version      int64
}

// ZoneOf is a location code's zone: its first "-"-separated segment.
func ZoneOf(code string) string {
	z, _, _ := strings.Cut(code, "-")
	return z
}

// Available reports whether anyone may claim the task at now.
func (t *Task) Available(now time.Time) bool {
	return t.State == TaskOpen || (t.State == TaskClaimed && !now.Before(t.ClaimExpires))
}

// VisibleTo reports whether a caller sees the task: internal callers all,
// a partner those of its own documents.
func (t *Task) VisibleTo(partner string) bool { return partner == "" || t.Partner == partner }

// Claim gives the task to worker by until now+ttl. A worker that holds it
// renews the claim; anyone else is refused while the claim holds.
func (t *Task) Claim(by string, now time.Time, ttl time.Duration) error {
	switch {
	case t.State == TaskDone || t.State == TaskCancelled:
		return apperr.Precondition(ReasonTaskState, fmt.Sprintf("task %s is %s", t.ID, t.State))
	case t.State == TaskClaimed && t.ClaimedBy != by && now.Before(t.ClaimExpires):
		return apperr.Precondition(ReasonTaskClaimed, fmt.Sprintf("task %s is claimed by %s until %s", t.ID, t.ClaimedBy, t.ClaimExpires.UTC().Format(time.RFC3339)))
	}
	t.State, t.ClaimedBy, t.ClaimExpires = TaskClaimed, by, now.Add(ttl).UTC()
	t.touch(now)
	return nil
}

// Release gives a claimed task back to the queue; only its holder may (or
// anyone once the claim expired). Releasing an open task changes nothing.
func (t *Task) Release(by string, now time.Time) error {
	switch {
	case t.State == TaskOpen:
		return nil
	case t.State != TaskClaimed:
		return apperr.Precondition(ReasonTaskState, fmt.Sprintf("task %s is %s", t.ID, t.State))
	case t.ClaimedBy != by && now.Before(t.ClaimExpires):
		return apperr.Precondition(ReasonTaskClaimed, fmt.Sprintf("task %s is claimed by %s, not %s", t.ID, t.ClaimedBy, by))
	}
	t.State, t.ClaimedBy, t.ClaimExpires = TaskOpen, "", time.Time{}
	t.touch(now)
	return nil
}

// CheckComplete refuses completing the task by worker by at now: it must be
// open, claimed by them, or claimed by someone whose claim expired.
func (t *Task) CheckComplete(by string, typ TaskType, now time.Time) error {
	switch {
	case t.Type != typ:
		return apperr.Precondition(ReasonTaskType, fmt.Sprintf("task %s is a %s task, not %s", t.ID, t.Type, typ))
	case t.State == TaskDone || t.State == TaskCancelled:
		return apperr.Precondition(ReasonTaskState, fmt.Sprintf("task %s is %s", t.ID, t.State))
	case t.State == TaskClaimed && t.ClaimedBy != by && now.Before(t.ClaimExpires):
		return apperr.Precondition(ReasonTaskClaimed, fmt.Sprintf("task %s is claimed by %s until %s", t.ID, t.ClaimedBy, t.ClaimExpires.UTC().Format(time.RFC3339)))
	}
	return nil
}

// Complete marks the task done by worker by.
func (t *Task) Complete(by, to, movement string, now time.Time) {
	t.State, t.DoneBy, t.DoneTo, t.Movement, t.DoneAt = TaskDone, by, to, movement, now.UTC()
	t.ClaimedBy, t.ClaimExpires = "", time.Time{}
	t.touch(now)
}

// Cancel takes an unfinished task off the queue.
func (t *Task) Cancel(now time.Time) {
	if t.State == TaskDone || t.State == TaskCancelled {
		return
	}
	t.State, t.ClaimedBy, t.ClaimExpires = TaskCancelled, "", time.Time{}
	t.touch(now)
}

func (t *Task) touch(now time.Time) {
	t.UpdatedAt = now.UTC()
	t.Version++
}

// LocationFacts is what a putaway suggestion needs of a location.
type LocationFacts struct {
	Code    string
	Type    LocationKind
	Blocked bool
}

// LocationKind is the use of a location, as inventory types it.
type LocationKind int

// The kinds receiving and putaway care about; others are LocationOther.
const (
	LocationOther LocationKind = iota
	LocationDock
	LocationStorage
	LocationPickFace
	LocationQuarantine
	LocationStaging
)

// Holding is stock of the item being put away, at a location.
type Holding struct {
	Location  string
	OnHand    qty.Qty
	Available qty.Qty // on hand less what allocations reserve
}

// SuggestBin is where putaway sends received stock of an item, by a simple
// rule (inventory records no bin capacities, so "room" is not judged):
//  1. the item's pick face: an unblocked PICK_FACE that holds the item;
//  2. else (its pick face is blocked) an unblocked STORAGE bin in the pick
//     face's zone, one holding the item first, then an empty one;
//  3. else any unblocked STORAGE bin holding the item, then an empty one;
//  4. else "": no suggestion, the worker names the bin at confirm.
//
// Ties go to the lowest location code, so the rule is deterministic.
func SuggestBin(locs []LocationFacts, held []Holding) string {
	holds := map[string]bool{}
	for _, h := range held {
		if h.OnHand > 0 {
			holds[h.Location] = true
		}
	}
	occupied := map[string]bool{}
	for _, h := range held {
		occupied[h.Location] = occupied[h.Location] || h.OnHand != 0
	}
	first := func(ok func(LocationFacts) bool) string {
		best := ""
		for _, l := range locs {
			if ok(l) && (best == "" || l.Code < best) {
				best = l.Code
			}
		}
		return best
	}
	if pf := first(func(x LocationFacts) bool { return x.Type == LocationPickFace && !x.Blocked && holds[x.Code] }); pf != "" {
		return pf
	}
	pickZone := ""
	if pf := first(func(x LocationFacts) bool { return x.Type == LocationPickFace && holds[x.Code] }); pf != "" {
		pickZone = ZoneOf(pf)
	}
	storage := func(zone string, want func(string) bool) string {
		return first(func(x LocationFacts) bool {
			return x.Type == LocationStorage && !x.Blocked && (zone == "" || ZoneOf(x.Code) == zone) && want(x.Code)
		})
	}
	if pickZone != "" {
		if b := storage(pickZone, func(c string) bool { return holds[c] }); b != "" {
			return b
		}
		if b := storage(pickZone, func(c string) bool { return !occupied[c] }); b != "" {
			return b
		}
	}
	if b := storage("", func(c string) bool { return holds[c] }); b != "" {
		return b
	}
	return storage("", func(c string) bool { return !occupied[c] })
}

// NewPutaway is the putaway task of a received line booked at a dock
// location of receipt r, to suggested bin to ("" when none).
func NewPutaway(r *ExpectedReceipt, l *ReceivedLine, baseUoM, to string, now time.Time) *Task {
	zone := ZoneOf(to)
	if to == "" {
		zone = ZoneOf(l.Location)
	}
	return &Task{ID: fmt.Sprintf("PUT-%s-%d", r.ID, l.Number), Type: TaskPutaway, Warehouse: r.Warehouse, Zone: zone,
		State: TaskOpen, SKU: l.SKU, Lot: l.Lot, Qty: l.BaseQty, BaseUoM: baseUoM, From: l.Location, To: to,
		Receipt: r.ID, ReceiptLine: l.Number, Partner: r.Partner, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
}
