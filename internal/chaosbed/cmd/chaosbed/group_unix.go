//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the child in its own process group: the terminal's
// Ctrl-C reaches chaosbed, which stops the child after the bed, not
// before.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
