package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoPostgres reports that no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("pgtest: no PostgreSQL binaries (initdb, pg_ctl) found: install postgresql (Debian: apt-get install postgresql) or set " + EnvURL)

// tuning makes a cluster fast and disposable: durability is worthless for a
// test database that is deleted afterwards.
var tuning = []string{
	"fsync = off",
	"synchronous_commit = off",
	"full_page_writes = off",
	"max_connections = 200",
	"shared_buffers = 32MB",
	"log_min_messages = warning",
}

// StartCluster initdbs and starts a throwaway PostgreSQL cluster on a free
// 127.0.0.1 port and returns the DSN of its "postgres" database (user
// "postgres", trust authentication) and a stop function that shuts it down
// and deletes its files. stop is idempotent.
//
// The cluster lives no longer than the calling process: a small watchdog
// process stops it and deletes its files if the process dies without calling
// stop (a test binary killed on timeout, say), so clusters never pile up.
//
// Binaries come from `pg_config --bindir`, else the newest
// /usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so as root the
// cluster's files belong to the "postgres" user and the server runs as that
// user. Without binaries the error is ErrNoPostgres.
func StartCluster() (dsn string, stop func(), err error) {
	bin, err := findBinDir()
	if err != nil {
		return "", nil, err
	}
	runAs, err := serverUser()
	if err != nil {
		return "", nil, err
	}
	base, err := makeBaseDir(runAs)
	if err != nil {
		return "", nil, err
	}
	c := &cluster{bin: bin, base: base, runAs: runAs}
	if err := c.initdb(); err != nil {
		_ = os.RemoveAll(base)
		return "", nil, err
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind: try a few.
	var port int
	for attempt := 0; ; attempt++ {
		port, err = freePort()
		if err == nil {
			err = c.start(port)
		}
		if err == nil {
			break
		}
		if attempt == 2 {
			_ = os.RemoveAll(base)
			return "", nil, err
		}
	}
	c.startWatchdog()
	dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return dsn, c.stop, nil
}

type cluster struct {
	bin      string
	base     string
	runAs    *user.User // nil: run as ourselves
	watchdog *exec.Cmd
	stopOnce sync.Once
}

func (c *cluster) dataDir() string { return filepath.Join(c.base, "data") }
func (c *cluster) logFile() string { return filepath.Join(c.base, "server.log") }

func (c *cluster) initdb() error {
	out, err := c.run(filepath.Join(c.bin, "initdb"),
		"-D", c.dataDir(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

func (c *cluster) start(port int) error {
	conf := append([]string{
		"port = " + strconv.Itoa(port),
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + c.base + "'",
	}, tuning...)
	// The file belongs to the server user; appending as root keeps that owner.
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("pgtest: configure cluster: %w", err)
	}
	_, err = f.WriteString(strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: configure cluster: %w", err)
	}
	out, err := c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(c.logFile())
		return fmt.Errorf("pgtest: start postgres on port %d: %w\n%s\n%s", port, err, out, log)
	}
	return nil
}

// startWatchdog starts a detached shell that waits for this process to exit
// and then does what stop would have done. Detached (own session) so that a
// signal to the test's process group does not take it down too.
func (c *cluster) startWatchdog() {
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 1; done; %s; rm -rf %s`,
		os.Getpid(), shellJoin(c.command(filepath.Join(c.bin, "pg_ctl"), "-D", c.dataDir(), "-m", "immediate", "stop")), shellQuote(c.base))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return // best effort: stop still works
	}
	c.watchdog = cmd
	// Reap it when stop kills it; the goroutine ends with the process.
	go func() { _ = cmd.Wait() }()
}

func (c *cluster) stop() {
	c.stopOnce.Do(func() {
		if c.watchdog != nil {
			_ = c.watchdog.Process.Kill()
		}
		_, _ = c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.dataDir(), "-m", "fast", "-w", "stop")
		_ = os.RemoveAll(c.base)
	})
}

// command is argv for running a server binary as the server user.
func (c *cluster) command(name string, args ...string) []string {
	if c.runAs == nil {
		return append([]string{name}, args...)
	}
	return append([]string{"runuser", "-u", c.runAs.Username, "--", name}, args...)
}

func (c *cluster) run(name string, args ...string) ([]byte, error) {
	argv := c.command(name, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.base // the server user may not be able to enter our working directory
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// findBinDir locates the directory holding initdb and pg_ctl.
func findBinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return versionOf(globbed[i]) > versionOf(globbed[j]) })
	candidates = append(candidates, globbed...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// serverUser is the user the server must run as: nil (ourselves) unless we
// are root, which PostgreSQL refuses.
func serverUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a \"postgres\" user to run the server as: %w", err)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs runuser: %w", err)
	}
	return u, nil
}

// makeBaseDir makes the cluster's directory (data, socket, log), owned by
// the server user, under a parent that user can traverse.
func makeBaseDir(runAs *user.User) (string, error) {
	parent := os.TempDir()
	if runAs != nil && !traversableByOthers(parent) {
		parent = "/tmp"
	}
	base, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return "", fmt.Errorf("pgtest: cluster dir: %w", err)
	}
	if runAs != nil {
		uid, _ := strconv.Atoi(runAs.Uid)
		gid, _ := strconv.Atoi(runAs.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			_ = os.RemoveAll(base)
			return "", fmt.Errorf("pgtest: hand the cluster dir to %s: %w", runAs.Username, err)
		}
	}
	return base, nil
}

// traversableByOthers reports whether every directory from / to dir can be
// entered by any user.
func traversableByOthers(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
