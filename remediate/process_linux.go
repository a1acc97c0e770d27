package remediate

import "syscall"

// dieWithOncall asks the kernel to kill the command when oncall dies (a
// kill -9, a crash): an orphan would go on running past its timeout,
// outlive its lock's lease and overlap the next run.
func dieWithOncall(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
