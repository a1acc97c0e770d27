package main

import (
	"bufio"
	"fmt"
	"os/user"
	"strings"
)

// confirm prints exactly what will be sent and asks; anything but "y" or
// "yes" (including no input at all) is no. In a context that wants its
// name typed, only the name goes ahead, and --yes is refused: a script
// must not act on production by mistake.
func confirm(f *Factory, plan, question string, yes bool) bool {
	errOut, typed := f.IO.ErrOut, f.Global.typed
	fmt.Fprintf(errOut, "%s\n", plan)
	if typed != "" {
		if yes {
			fmt.Fprintf(errOut, "context %s asks for its name to be typed: --yes is refused; not done\n", typed)
			return false
		}
		fmt.Fprintf(errOut, "%s This is context %s: type %s to go ahead: ", question, typed, typed)
		line, _ := f.stdin().ReadString('\n')
		if strings.TrimSpace(line) == typed {
			return true
		}
		fmt.Fprintln(errOut, "not done")
		return false
	}
	if yes {
		return true
	}
	fmt.Fprintf(errOut, "%s [y/N] ", question)
	line, _ := f.stdin().ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	fmt.Fprintln(errOut, "not done")
	return false
}

// refused is an action oncall will not take: exit 1, with the reason.
func refused(why string) error { return fmt.Errorf("refused: %s", why) }

// whoami names the person at the keyboard for silences and audit: $USER,
// else the OS user (under some SSH and tmux setups $USER is unset).
func whoami(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if e.osUser != nil {
		return e.osUser()
	}
	return ""
}

// osUserName is the OS's name for the user running oncall.
func osUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// stdin is standard input behind the one reader every question of the
// process reads its answer through: a reader per question would lose
// what an earlier one read ahead (a pasted or typed-ahead answer).
func (f *Factory) stdin() *bufio.Reader {
	if f.in == nil {
		f.in = bufio.NewReader(f.IO.In)
	}
	return f.in
}
