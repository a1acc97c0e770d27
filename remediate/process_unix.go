//go:build unix

package remediate

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs cmd in a process group of its own and, on
// timeout or cancel, kills the whole group: a shell's children die with
// it rather than outlive the timeout. On Linux the command also dies with
// oncall.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithOncall(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		// the group's ID is its leader's PID
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
