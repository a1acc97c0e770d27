//go:build unix

package chaos

import (
	"errors"
	"syscall"
)

// processAlive says whether pid is a process on this host: signal 0
// checks without sending anything (EPERM: it lives, as another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
