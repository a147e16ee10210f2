// Package pgtest runs a throwaway PostgreSQL server for tests.
//
// A package that tests against PostgreSQL calls Main from its TestMain and
// DSN from each test:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.DSN(t) // a fresh, empty database, dropped after the test
//		...
//	}
//
// The server starts on the first DSN call, in a temporary directory, on a
// free loopback port, and Main stops it and removes the directory after the
// tests. It uses the installed PostgreSQL server binaries (initdb, pg_ctl);
// when they are missing, DSN fails the test saying how to install them
// rather than skipping, so a machine without PostgreSQL cannot pass the
// suite by accident. PostgreSQL refuses to run as root, so under root the
// binaries run as the postgres user.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the role initdb creates and tests connect as.
const superuser = "postgres"

// installHint is what a test failing for lack of PostgreSQL says to do.
const installHint = "install the PostgreSQL server (Debian: apt-get install -y postgresql, or make postgres)"

var (
	mu       sync.Mutex
	server   *Server
	startErr error
	inMain   bool
	dbCount  atomic.Int64
)

// Main runs the package's tests with m and then stops and removes the
// server if any test started it. It exits the process with the tests'
// status, so it is the whole body of TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has more to do after the tests: it
// returns the status instead of exiting.
func Run(m *testing.M) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		server = nil
	}
	return code
}

// DSN returns the connection string of a new, empty database for t alone,
// dropped when t ends. It starts the package's server on first use and
// fails t when PostgreSQL is not installed or does not start.
func DSN(t testing.TB) string {
	t.Helper()
	s, err := shared()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := fmt.Sprintf("capd_test_%d", dbCount.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends connections a test left open (a pool not closed on a
		// failure path), so one leak does not fail every later cleanup.
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.dsn(name)
}

// shared returns the package's server, starting it on first use. A failed
// start is remembered, so every later test fails at once with the same
// reason instead of retrying.
func shared() (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if !inMain {
		return nil, errors.New("pgtest.Main must run the tests: add func TestMain(m *testing.M) { pgtest.Main(m) } to the package")
	}
	if server == nil && startErr == nil {
		server, startErr = Start()
	}
	return server, startErr
}

// Server is a running throwaway PostgreSQL server.
type Server struct {
	dir  string // temporary directory holding data, socket and log
	bin  string // directory of initdb and pg_ctl
	port int
	user *user.User // the account the server runs as; nil: the current one
}

// Start initialises a cluster in a new temporary directory and starts a
// server on a free loopback port. The caller stops it with Stop.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "capd-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if s.user, err = user.Lookup(superuser); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no %s user to run it as (%v); %s", superuser, err, installHint)
		}
		if err := chown(dir, s.user); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.start(); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	data := filepath.Join(s.dir, "data")
	// --no-sync and, below, fsync=off and friends: the cluster is thrown
	// away after the tests, so durability buys nothing and costs seconds.
	if out, err := s.run("initdb", "-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A free port can be taken by another process between the probe and
	// the server's bind; try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.port = port
		opts := strings.Join([]string{
			"-c listen_addresses=127.0.0.1",
			"-p " + strconv.Itoa(port),
			"-c unix_socket_directories=" + s.dir,
			"-c fsync=off",
			"-c synchronous_commit=off",
			"-c full_page_writes=off",
			"-c shared_buffers=32MB",
			"-c max_connections=200",
		}, " ")
		out, err := s.run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(s.dir, "server.log"), "-o", opts)
		if err == nil {
			return nil
		}
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		lastErr = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return lastErr
}

// Stop stops the server at once (its data is thrown away) and removes its
// directory.
func (s *Server) Stop() error {
	var err error
	if _, statErr := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); statErr == nil {
		if out, stopErr := s.run("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w"); stopErr != nil {
			err = fmt.Errorf("pg_ctl stop: %v\n%s", stopErr, out)
		}
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// dsn returns the connection string of database name on s.
func (s *Server) dsn(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, name)
}

// AdminDSN returns the connection string of the server's postgres
// database, for creating and dropping databases.
func (s *Server) AdminDSN() string { return s.dsn("postgres") }

// exec runs one statement on the postgres database.
func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// run runs a PostgreSQL binary, as the server's user when there is one, and
// returns its combined output.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.user != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.user.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// findBin returns the directory holding initdb and pg_ctl: PATH first, then
// Debian's versioned /usr/lib/postgresql/<version>/bin, newest version
// first.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(matches, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; " + installHint)
}

// versionOf returns the major version in /usr/lib/postgresql/<v>/bin/initdb.
func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// chown gives dir to u, so the server running as u can write in it.
func chown(dir string, u *user.User) error {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}
