//go:build unix

package remediate

import (
	"errors"
	"os"
	"syscall"
)

// flockExclusive waits for the exclusive flock of f: held by one open
// file at a time, across the host's processes, until f is closed.
func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
