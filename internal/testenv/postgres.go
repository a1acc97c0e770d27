package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Postgres starts a real PostgreSQL server for the test's lifetime (initdb
// and pg_ctl from the Debian package) in a temporary directory, listening
// on a free loopback port and on a Unix socket in that directory, and
// returns the DSN of its database "postgres" for the superuser "oncall",
// who needs no password. As root, the server runs as the user nobody:
// initdb refuses to run as root.
func Postgres(t testing.TB) string {
	t.Helper()
	bin := postgresBin(t)
	dir := t.TempDir()
	var as []string // the argv prefix that runs a command as the server's user
	if os.Geteuid() == 0 {
		as = unprivileged(t, dir)
	}
	run := func(name string, args ...string) {
		t.Helper()
		argv := slices.Concat(as, []string{filepath.Join(bin, name)}, args)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir // the server's user may not be able to enter the test's directory
		if out, err := cmd.CombinedOutput(); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			t.Fatalf("%s: %v\n%s\nserver log:\n%s", strings.Join(argv, " "), err, out, log)
		}
	}
	data := filepath.Join(dir, "data")
	// no fsync: the server outlives every test that writes to it, and
	// tests that kill a writer kill the client, never the server
	run("initdb", "--pgdata="+data, "--username=oncall", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	addr := FreeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conf, "\nlisten_addresses = '%s'\nport = %s\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n", host, port, dir)
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	run("pg_ctl", "start", "--wait", "--timeout=60", "--pgdata="+data, "--log="+filepath.Join(dir, "postgres.log"))
	t.Cleanup(func() {
		argv := slices.Concat(as, []string{filepath.Join(bin, "pg_ctl"), "stop", "--wait", "--mode=immediate", "--pgdata=" + data})
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stopping PostgreSQL: %v\n%s", err, out)
		}
	})
	return "postgres://oncall@" + addr + "/postgres?sslmode=disable"
}

// postgresBin is the directory holding initdb and pg_ctl: on PATH, else
// the newest of Debian's /usr/lib/postgresql/*/bin, which Debian keeps
// off PATH.
func postgresBin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return debianVersion(found[i]) < debianVersion(found[j]) })
	for i := len(found) - 1; i >= 0; i-- {
		dir := filepath.Dir(found[i])
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir
		}
	}
	Missing(t, "PostgreSQL (initdb and pg_ctl)")
	return ""
}

// debianVersion is the major version in /usr/lib/postgresql/15/bin/initdb.
func debianVersion(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// unprivileged gives dir to the user nobody, lets it through dir's parent
// (the test's own temporary directory), and returns the argv prefix that
// runs a command as nobody.
func unprivileged(t testing.TB, dir string) []string {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		Missing(t, "the user nobody (to run PostgreSQL as root)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	if p, err := exec.LookPath("setpriv"); err == nil {
		return []string{p, "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}
	}
	if p, err := exec.LookPath("runuser"); err == nil {
		return []string{p, "-u", u.Username, "--"}
	}
	Missing(t, "setpriv or runuser (to run PostgreSQL as root)")
	return nil
}
