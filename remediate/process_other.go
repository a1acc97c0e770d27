//go:build !unix

package remediate

import "os/exec"

// killGroupOnCancel kills the process alone on timeout or cancel: without
// Unix process groups its children are not reached, and WaitDelay stops
// the wait for any that hold the output.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Kill() }
}
