package sqldb

import (
	"database/sql"
	"strconv"
	"sync"
)

// Positional placeholders on SQLite.
//
// One query text serves both dialects with PostgreSQL's $n placeholders,
// which SQLite accepts too, as named parameters: it keeps their names in a
// list that it searches linearly for each one, when parsing and again when
// modernc's driver binds each argument by name. A statement of n parameters
// costs O(n²) there: a 50-row multi-row INSERT of 17 columns spent more than
// half its time looking names up. Plain "?" parameters are bound by position
// and never looked up. So on SQLite the DB and Tx methods rewrite $n to ?,
// reordering (and repeating) the arguments to match: "$2 ... $1 ... $2"
// becomes "? ... ? ..  ?" with arguments (a2, a1, a2). Text inside quotes and
// comments is left alone. The rewrite of each text is computed once.

// rewritten is a query with $n placeholders turned into ?: order[i] is the
// index (from 0) of the argument the i-th ? takes; nil order means the text
// has no $n placeholders and runs as it is.
type rewritten struct {
	query string
	order []int
	ok    bool // false: leave the text and its arguments as they are
}

// placeholderCacheMax bounds the rewrite cache (texts built per call, such
// as variable-length VALUES lists, would otherwise grow it without end).
const placeholderCacheMax = 4096

var placeholderCache = struct {
	sync.RWMutex
	m map[string]rewritten
}{m: map[string]rewritten{}}

// rewrite returns query with $n placeholders replaced by ?.
func rewrite(query string) rewritten {
	placeholderCache.RLock()
	r, ok := placeholderCache.m[query]
	placeholderCache.RUnlock()
	if ok {
		return r
	}
	r = parsePlaceholders(query)
	placeholderCache.Lock()
	if len(placeholderCache.m) < placeholderCacheMax {
		placeholderCache.m[query] = r
	}
	placeholderCache.Unlock()
	return r
}

func parsePlaceholders(q string) rewritten {
	out := make([]byte, 0, len(q))
	var order []int
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`': // a literal or quoted identifier: copy to its end ('' escapes)
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				return rewritten{query: q} // unterminated: let SQLite report it
			}
			out = append(out, q[i:j+1]...)
			i = j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-': // a line comment
			j := i
			for j < len(q) && q[j] != '\n' {
				j++
			}
			out = append(out, q[i:j]...)
			i = j
		case c == '/' && i+1 < len(q) && q[i+1] == '*': // a block comment
			j := i + 2
			for j+1 < len(q) && !(q[j] == '*' && q[j+1] == '/') {
				j++
			}
			if j+1 >= len(q) {
				return rewritten{query: q}
			}
			out = append(out, q[i:j+2]...)
			i = j + 2
		case c == '?' || c == ':' || c == '@':
			// Another placeholder style: mixing it with rewritten ones would
			// misnumber the arguments. (A ':' in "::" casts is PostgreSQL
			// only, and so never in a SQLite text.)
			if c == '?' || (i+1 < len(q) && isIdentByte(q[i+1])) {
				return rewritten{query: q}
			}
			out = append(out, c)
			i++
		case c == '$' && i+1 < len(q) && q[i+1] >= '1' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j < len(q) && isIdentByte(q[j]) {
				return rewritten{query: q} // "$1abc": not a plain $n
			}
			n, err := strconv.Atoi(q[i+1 : j])
			if err != nil {
				return rewritten{query: q}
			}
			order = append(order, n-1)
			out = append(out, '?')
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	if order == nil {
		return rewritten{query: q}
	}
	return rewritten{query: string(out), order: order, ok: true}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// positional turns query and args for SQLite: the rewritten text and the
// arguments in the order its ? placeholders take them. A text it cannot
// rewrite, or named arguments, or an argument number beyond len(args) (left
// for the driver to report), come back unchanged.
func positional(d Dialect, query string, args []any) (string, []any) {
	if d != SQLite {
		return query, args
	}
	r := rewrite(query)
	if !r.ok {
		return query, args
	}
	for _, a := range args {
		if _, named := a.(sql.NamedArg); named {
			return query, args
		}
	}
	out := make([]any, len(r.order))
	for i, n := range r.order {
		if n >= len(args) {
			return query, args
		}
		out[i] = args[n]
	}
	return r.query, out
}
