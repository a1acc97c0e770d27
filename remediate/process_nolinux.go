//go:build unix && !linux

package remediate

import "syscall"

// dieWithOncall has no kernel support off Linux: a command whose oncall
// is killed runs on until it ends by itself.
func dieWithOncall(*syscall.SysProcAttr) {}
