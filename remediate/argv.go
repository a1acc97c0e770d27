package remediate

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// How a known program treats its arguments, for the check that no
// template reaches code: a shell's command string, an interpreter's
// program, the program a wrapper runs, a remote command. The list is a
// second line of defence; typed inputs are the first.
type progKind int

const (
	// kindShell reads code from -c (or a cluster like -lc), else runs a
	// script named by its first argument; what follows the code is
	// positional ($0, $1, …) and safe.
	kindShell progKind = iota
	// kindShellRest is a shell that joins every argument after its
	// command flag into the code (PowerShell, cmd).
	kindShellRest
	// kindInterpreter reads code from its code options (python -c,
	// perl -e), else runs the script (or, for awk and sed, the program
	// text) its first argument names.
	kindInterpreter
	// kindWrapper runs the program named after its options and a fixed
	// count of positionals (timeout DURATION, chroot DIR).
	kindWrapper
	// kindRunsAll joins its arguments into shell code (watch, parallel).
	kindRunsAll
	// kindRemote is ssh: options, a destination, then a command that the
	// remote shell reads.
	kindRemote
	// kindFind runs the program after -exec, -execdir, -ok, -okdir.
	kindFind
	// kindContainer runs a command in a container or pod: kubectl exec
	// (after --), docker exec CONTAINER CMD.
	kindContainer
)

type progRule struct {
	kind progKind
	// valueOpts take the next item as their value (unless written
	// --opt=value or -oVALUE).
	valueOpts []string
	// codeOpts take code as their value: it must be fixed.
	codeOpts []string
	// fixedOpts take a value that must be fixed: a config that can run a
	// program (ssh -o ProxyCommand=…, git -c core.sshCommand=…).
	fixedOpts []string
	// shellOpts make a wrapper run its command through a shell (sudo -s).
	shellOpts []string
	// flags are a wrapper's options without a value; an option in
	// neither list leaves the program's place unknown.
	flags []string
	// assigns: NAME=VALUE items before the program set its environment.
	assigns bool
	// positionals come between a wrapper's options and its program.
	positionals int
	// firstIsCode: the first argument is program text, not a script path
	// (awk, sed), unless a code option gave the program.
	firstIsCode bool
	// caseless options: PowerShell and cmd take -COMMAND, /C.
	caseless bool
	// anywhere: its code options may follow positionals (ansible HOSTS -a
	// CMD), which are never a script.
	anywhere bool
	// runsAfter are words after which it runs the rest as a command (git
	// submodule foreach, git bisect run).
	runsAfter []string
	// subcommand: its first operand says what it does (git VERB, make
	// TARGET): it must be fixed.
	subcommand bool
	// dashdash: the command it runs in a container comes after -- (kubectl
	// exec POD -- CMD).
	dashdash bool
	// plusIsCode: an argument +CMD is code (vim +cmd).
	plusIsCode bool
	// permutes: options may follow operands, as GNU getopt lets them (su
	// root -c CMD): reading goes on after the first operand.
	permutes bool
}

var (
	shRule  = progRule{kind: kindShell, codeOpts: []string{"--command", "--rcfile", "--init-file", "--init-command"}}
	fish    = progRule{kind: kindShell, codeOpts: []string{"--command", "-C", "--init-command"}}
	pwsh    = progRule{kind: kindShellRest, caseless: true, codeOpts: []string{"-c", "-co", "-com", "-comm", "-comma", "-comman", "-command", "-f", "-file", "-e", "-ec", "-en", "-enc", "-encodedcommand", "-cwa", "-commandwithargs"}, valueOpts: []string{"-ex", "-executionpolicy", "-wd", "-workingdirectory", "-config", "-configurationname"}}
	cmdExe  = progRule{kind: kindShellRest, caseless: true, codeOpts: []string{"/c", "/k", "/r"}}
	python  = progRule{kind: kindInterpreter, codeOpts: []string{"-c", "-m"}, valueOpts: []string{"-W", "-X", "-Q"}}
	perl    = progRule{kind: kindInterpreter, codeOpts: []string{"-e", "-E", "-M", "-m", "-d"}, valueOpts: []string{"-I"}}
	ruby    = progRule{kind: kindInterpreter, codeOpts: []string{"-e", "-r", "--require"}, valueOpts: []string{"-I", "-C", "-E", "--encoding"}}
	node    = progRule{kind: kindInterpreter, codeOpts: []string{"-e", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader"}}
	php     = progRule{kind: kindInterpreter, codeOpts: []string{"-r", "-B", "-R", "-E", "-F", "-f", "-a", "-d"}, valueOpts: []string{"-c", "-z"}}
	lua     = progRule{kind: kindInterpreter, codeOpts: []string{"-e", "-l"}}
	awk     = progRule{kind: kindInterpreter, firstIsCode: true, codeOpts: []string{"-e", "--source", "-f", "--file", "-i", "--include", "-l", "--load"}, valueOpts: []string{"-v", "--assign", "-F", "--field-separator"}}
	sed     = progRule{kind: kindInterpreter, permutes: true, firstIsCode: true, codeOpts: []string{"-e", "--expression", "-f", "--file"}, valueOpts: []string{"-l", "--line-length"}}
	gdb     = progRule{kind: kindInterpreter, permutes: true, codeOpts: []string{"-ex", "--ex", "-eval-command", "--eval-command", "-iex", "-x", "--command", "-ix"}}
	scriptC = progRule{kind: kindInterpreter, permutes: true, codeOpts: []string{"-c", "--command"}, valueOpts: []string{"-E", "--echo", "-I", "--log-in", "-O", "--log-out", "-B", "--log-io", "-T", "--log-timing", "-m", "--logging-format", "-o", "--output-limit"}}
	su      = progRule{kind: kindInterpreter, permutes: true, codeOpts: []string{"-c", "--command", "-C", "--session-command", "-s", "--shell"}, valueOpts: []string{"-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment"}}
	ssh     = progRule{kind: kindRemote, fixedOpts: []string{"-o", "-F", "-J", "-S", "-E", "-I", "-P"}, valueOpts: []string{"-B", "-b", "-c", "-D", "-e", "-i", "-L", "-l", "-m", "-O", "-p", "-Q", "-R", "-W", "-w"}}
	rsync   = progRule{kind: kindInterpreter, anywhere: true, codeOpts: []string{"-e", "--rsh", "--rsync-path"}}
	git     = progRule{kind: kindInterpreter, anywhere: true, subcommand: true, runsAfter: []string{"foreach", "run"}, codeOpts: []string{"-O", "--open-files-in-pager", "-x", "--extcmd", "--exec-path", "-c", "--config-env", "--upload-pack", "--receive-pack", "--exec", "-u"}, valueOpts: []string{"-C", "--git-dir", "--work-tree", "--namespace"}}
	ansible = progRule{kind: kindInterpreter, anywhere: true, codeOpts: []string{"-a", "--args", "-e", "--extra-vars"}, valueOpts: []string{"-m", "--module-name", "-i", "--inventory", "-u", "--user", "-f", "--forks", "-l", "--limit", "-b", "-t", "--tree", "-B", "-P", "-c", "--connection", "-T", "--timeout"}}
	kubectl = progRule{kind: kindContainer, dashdash: true,
		fixedOpts: []string{"-s", "--server", "--kubeconfig", "--token", "--certificate-authority", "--client-key", "--client-certificate", "--cluster", "--user", "--context", "--as", "--as-group", "--as-uid", "--tls-server-name", "--username", "--password"},
		valueOpts: []string{"-n", "--namespace", "--request-timeout", "--cache-dir", "-v", "--v", "--vmodule", "--log-file", "--profile", "--profile-output", "-c", "--container", "-l", "--selector", "-o", "--output", "-f", "--filename", "-i", "-t"}}
	vim    = progRule{kind: kindInterpreter, anywhere: true, plusIsCode: true, codeOpts: []string{"-c", "--cmd", "-S", "-u", "-i"}}
	docker = progRule{kind: kindContainer, fixedOpts: []string{"--entrypoint", "-H", "--host", "--config", "--context"}, valueOpts: []string{"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file", "--detach-keys", "--name", "--network", "-v", "--volume", "-p", "--publish", "--platform"}}
	find   = progRule{kind: kindFind}
)

func wrapper(positionals int, flags []string, valueOpts ...string) progRule {
	return progRule{kind: kindWrapper, positionals: positionals, flags: flags, valueOpts: valueOpts}
}

// programs are the known programs that run code or other programs.
var programs = map[string]progRule{
	"sh": shRule, "bash": shRule, "rbash": shRule, "zsh": shRule, "dash": shRule, "ksh": shRule, "mksh": shRule, "pdksh": shRule, "ksh93": shRule,
	"yash": shRule, "posh": shRule, "ash": shRule, "csh": shRule, "tcsh": shRule, "fish": fish, "elvish": shRule, "nu": shRule, "xonsh": shRule,
	"pwsh": pwsh, "powershell": pwsh, "cmd": cmdExe,
	"python": python, "pypy": python, "perl": perl, "ruby": ruby, "node": node, "nodejs": node, "bun": node, "php": php,
	"lua": lua, "luajit": lua, "tclsh": {kind: kindInterpreter}, "wish": {kind: kindInterpreter}, "expect": {kind: kindInterpreter, codeOpts: []string{"-c"}},
	"rscript": {kind: kindInterpreter, codeOpts: []string{"-e"}}, "osascript": {kind: kindInterpreter, codeOpts: []string{"-e"}},
	"awk": awk, "gawk": awk, "mawk": awk, "nawk": awk, "busybox-awk": awk, "sed": sed, "gsed": sed,
	"gdb": gdb, "script": scriptC, "su": su, "runuser": {kind: kindInterpreter, permutes: true, codeOpts: []string{"-c", "--command", "-s", "--shell"}, valueOpts: []string{"-u", "--user", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment"}},
	"ssh": ssh, "scp": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-S"}, valueOpts: []string{"-c", "-i", "-l", "-P"}, fixedOpts: []string{"-o", "-F", "-J"}}, "rsync": rsync, "git": git,
	"ansible": ansible, "ansible-playbook": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-e", "--extra-vars"}},
	"tmux": {kind: kindRunsAll}, "screen": {kind: kindRunsAll}, "at": {kind: kindRunsAll}, "batch": {kind: kindRunsAll},
	"tar":  {kind: kindInterpreter, anywhere: true, codeOpts: []string{"--to-command", "--checkpoint-action", "--use-compress-program", "-I", "--info-script", "-F", "--new-volume-script", "--rsh-command", "--rmt-command"}},
	"make": {kind: kindInterpreter, anywhere: true, subcommand: true, assigns: true, codeOpts: []string{"--eval", "-E", "-f", "--file", "--makefile", "-C", "--directory"}, valueOpts: []string{"-j", "--jobs", "-l", "--load-average", "-o", "-W"}},
	"vim":  vim, "vi": vim, "nvim": vim, "ex": vim, "view": vim,
	"julia": {kind: kindInterpreter, codeOpts: []string{"-e", "--eval", "-E", "--print", "-L", "--load"}}, "guile": {kind: kindInterpreter, codeOpts: []string{"-c", "-l", "-e", "-s"}},
	"racket": {kind: kindInterpreter, codeOpts: []string{"-e", "--eval", "-f", "--load", "-r", "--script"}}, "dc": {kind: kindInterpreter, firstIsCode: true, permutes: true, codeOpts: []string{"-e", "--expression", "-f", "--file"}},
	"psql":  {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-c", "--command", "-f", "--file", "-o", "--output"}, valueOpts: []string{"-h", "--host", "-p", "--port", "-U", "--username", "-d", "--dbname"}},
	"mysql": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-e", "--execute"}, valueOpts: []string{"-h", "--host", "-P", "--port", "-u", "--user", "-D", "--database"}},
	"deno":  {kind: kindInterpreter, anywhere: true, subcommand: true, runsAfter: []string{"eval", "run", "repl", "x", "task", "test", "serve"}},
	"socat": {kind: kindRunsAll}, "sqlite3": {kind: kindRunsAll}, "run-parts": {kind: kindRunsAll}, "npx": {kind: kindRunsAll}, "uv": {kind: kindRunsAll},
	"nix-shell": {kind: kindRunsAll}, "capsh": {kind: kindRunsAll}, "hush": shRule, "lldb": {kind: kindRunsAll},
	"ncat":    {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-e", "--exec", "-c", "--sh-exec", "--lua-exec"}},
	"nc":      {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-e", "-c"}},
	"emacs":   {kind: kindInterpreter, anywhere: true, codeOpts: []string{"--eval", "-l", "--load", "-f", "--funcall", "--script", "-x"}},
	"zip":     {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-TT", "--unzip-command"}},
	"tcpdump": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-z"}},
	"mongosh": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"--eval", "-f", "--file"}},
	"helm":    {kind: kindInterpreter, anywhere: true, codeOpts: []string{"--post-renderer", "--post-renderer-args"}},
	"r":       {kind: kindInterpreter, codeOpts: []string{"-e", "-f", "--file"}}, "ipython": python, "python-dbg": python,
	"start-stop-daemon": {kind: kindInterpreter, anywhere: true, codeOpts: []string{"-x", "--exec", "-a", "--startas"}},
	"bwrap":             wrapper(0, nil), "setarch": wrapper(1, nil), "systemd-nspawn": wrapper(0, nil), "ld.so": wrapper(0, nil), "ld-linux-x86-64.so.2": wrapper(0, nil),
	"watch": {kind: kindRunsAll}, "parallel": {kind: kindRunsAll}, "eval": {kind: kindRunsAll}, "source": {kind: kindRunsAll}, ".": {kind: kindRunsAll},
	"find": find, "kubectl": kubectl, "oc": kubectl, "ip": kubectl, "docker": docker, "podman": docker, "nerdctl": docker, "crictl": docker,

	"env": {kind: kindWrapper, assigns: true, codeOpts: []string{"-S", "--split-string"}, valueOpts: []string{"-u", "--unset", "-C", "--chdir"},
		flags: []string{"-i", "--ignore-environment", "-0", "--null", "-v", "--debug"}},
	"sudo": {kind: kindWrapper, assigns: true, shellOpts: []string{"-s", "--shell", "-i", "--login"},
		valueOpts: []string{"-u", "--user", "-g", "--group", "-C", "--close-from", "-D", "--chdir", "-h", "--host", "-p", "--prompt", "-r", "--role", "-t", "--type", "-U", "--other-user", "-T", "--command-timeout", "-R", "--chroot"},
		flags:     []string{"-A", "--askpass", "-b", "--background", "-E", "--preserve-env", "-H", "--set-home", "-k", "--reset-timestamp", "-n", "--non-interactive", "-P", "--preserve-groups", "-S", "--stdin", "-B", "--bell"}},
	"doas": {kind: kindWrapper, shellOpts: []string{"-s"}, valueOpts: []string{"-u", "-C"}, flags: []string{"-n", "-L"}},
	"flock": {kind: kindWrapper, positionals: 1, codeOpts: []string{"-c", "--command"}, valueOpts: []string{"-w", "--timeout", "--wait", "-E", "--conflict-exit-code"},
		flags: []string{"-s", "--shared", "-x", "-e", "--exclusive", "-u", "--unlock", "-n", "--nb", "--nonblock", "-o", "--close", "-F", "--no-fork", "--verbose"}},
	"timeout":     wrapper(1, []string{"--preserve-status", "--foreground", "-v", "--verbose"}, "-s", "--signal", "-k", "--kill-after"),
	"chroot":      wrapper(1, []string{"--skip-chdir"}, "--userspec", "--groups"),
	"taskset":     wrapper(1, nil),
	"chrt":        wrapper(1, nil),
	"nice":        wrapper(0, nil, "-n", "--adjustment"),
	"ionice":      wrapper(0, []string{"-t", "--ignore"}, "-c", "--class", "-n", "--classdata"),
	"nohup":       wrapper(0, nil),
	"setsid":      wrapper(0, []string{"-c", "--ctty", "-f", "--fork", "-w", "--wait"}),
	"stdbuf":      wrapper(0, nil, "-i", "--input", "-o", "--output", "-e", "--error"),
	"xargs":       wrapper(0, []string{"-e", "-i", "-l", "--eof", "--replace", "--max-lines", "-0", "--null", "-r", "--no-run-if-empty", "-t", "--verbose", "-p", "--interactive", "-x", "--exit", "-o", "--open-tty"}, "-a", "--arg-file", "-d", "--delimiter", "-E", "-I", "-L", "-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars", "--process-slot-var"),
	"time":        wrapper(0, []string{"-p", "--portability", "-v", "--verbose", "-a", "--append", "-q", "--quiet"}, "-f", "--format", "-o", "--output"),
	"busybox":     wrapper(0, nil),
	"exec":        wrapper(0, nil, "-a"),
	"command":     wrapper(0, nil),
	"builtin":     wrapper(0, nil),
	"strace":      {kind: kindWrapper, fixedOpts: []string{"-o", "--output"}, valueOpts: []string{"-e", "-p", "-s", "-u", "-a", "-b", "-E", "-I", "-O", "-P", "-S", "-X"}},
	"ltrace":      wrapper(0, nil, "-o", "-e", "-p", "-s", "-u", "-a", "-n", "-x"),
	"nsenter":     wrapper(0, nil, "-t", "--target", "-S", "--setuid", "-G", "--setgid"),
	"unshare":     wrapper(0, nil, "--setuid", "--setgid", "--propagation", "-S", "-G", "-R", "--root", "-w", "--wd"),
	"systemd-run": {kind: kindWrapper, codeOpts: []string{"-p", "--property"}, valueOpts: []string{"-u", "--unit", "-M", "--machine", "--description", "--slice", "-E", "--setenv", "--uid", "--gid", "--nice", "--working-directory", "-H", "--host"}},
	"cgexec":      wrapper(0, nil, "-g"),
	"firejail":    wrapper(0, nil),
	"caffeinate":  wrapper(0, nil, "-t", "-w"),
	"unbuffer":    wrapper(0, nil),
	"xvfb-run":    wrapper(0, nil, "-n", "--server-num", "-s", "--server-args", "-f", "--auth-file", "-e", "--error-file", "-p", "--xauth-protocol"),
	"pkexec":      wrapper(0, nil, "--user"),
	"prlimit":     wrapper(0, nil),
	"setpriv":     wrapper(0, nil),
	"numactl":     wrapper(0, nil),
	"fakeroot":    wrapper(0, nil),
	"runcon":      wrapper(0, nil),
	"chpst":       wrapper(0, nil),
	"tini":        wrapper(0, nil),
	"dumb-init":   wrapper(0, nil),
	"gosu":        wrapper(1, nil),
	"su-exec":     wrapper(1, nil),
	"chronic":     wrapper(0, nil),
	"sshpass":     wrapper(0, []string{"-e", "-v"}, "-p", "-f", "-d", "-P"),
	"sg":          {kind: kindInterpreter, permutes: true, codeOpts: []string{"-c"}},
}

// versioned matches interpreters named with their version: python3.12.
var versioned = regexp.MustCompile(`^(python-dbg|python|ipython|pypy|perl|ruby|php|lua|luajit|tclsh|wish|node|nodejs|bash|zsh|ksh|gawk|mawk|awk|julia|guile|psql|mysql)[0-9.]*[mud]*(-[0-9.]+)?(-dbg)?$`)

// progName is how the table names a program: its base name, in lower case
// (file systems that ignore case run BASH as bash), without .exe or a
// version.
func progName(a string) string {
	n := strings.ToLower(filepath.Base(strings.ReplaceAll(a, `\`, "/")))
	n = strings.TrimSuffix(n, ".exe")
	if m := versioned.FindStringSubmatch(n); m != nil {
		return m[1]
	}
	return n
}

func isTemplate(a string) bool { return strings.Contains(a, "{{") }

// nextIsOption reports whether the item after j looks like an option: it
// is read as one rather than as a value (--start --exec X must not hide
// --exec), which checks more, never less.
func nextIsOption(argv []string, j int) bool {
	return j+1 < len(argv) && strings.HasPrefix(argv[j+1], "-") && len(argv[j+1]) > 1
}

// codeUse says why an argv lets a template reach code or choose a
// program, or "". A fixed script stays allowed, and so do values passed
// to one as positional arguments: bash -c 'restart "$1"' _ {{.Target}}.
func codeUse(argv []string) string {
	if p := checkFrom(argv, 0); p != "" {
		return p
	}
	// belt and braces: behind a program the table does not know (a
	// wrapper of the site's own), a shell or an interpreter is checked
	// from where it stands; a known program was read as it reads its
	// arguments.
	if _, known := programs[progName(argv[0])]; known {
		return ""
	}
	for i := 1; i < len(argv); i++ {
		if isTemplate(argv[i]) {
			continue
		}
		if r, ok := programs[progName(argv[i])]; ok && (r.kind == kindShell || r.kind == kindShellRest || r.kind == kindRunsAll || r.kind == kindInterpreter) {
			if p := checkFrom(argv, i); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkFrom checks the program at argv[start] and what it runs.
func checkFrom(argv []string, start int) string {
	if start >= len(argv) {
		return ""
	}
	if isTemplate(argv[start]) {
		if start == 0 {
			return "argv[0] is a template: the program must be fixed in the runbook"
		}
		return fmt.Sprintf("argv[%d] is a template where %s takes the program to run: the program must be fixed in the runbook", start, argv[start-1])
	}
	prog := progName(argv[start])
	r, ok := programs[prog]
	if !ok {
		return ""
	}
	switch r.kind {
	case kindRunsAll:
		for j := start + 1; j < len(argv); j++ {
			if isTemplate(argv[j]) {
				return fmt.Sprintf("argv[%d] is a template, and %s runs its arguments as shell code: pass values to a program that takes them as arguments", j, prog)
			}
		}
	case kindRemote:
		return r.remote(argv, start, prog)
	case kindFind:
		return findExec(argv, start)
	case kindContainer:
		return r.container(argv, start, prog)
	case kindWrapper:
		return r.wrapped(argv, start, prog)
	default:
		return r.code(argv, start, prog)
	}
	return ""
}

// optClass is what an option does with its value, weakest first.
type optClass int

const (
	optOperand optClass = iota // not an option
	optFlag                    // known, takes no value
	optUnknown                 // not in the table: it may take a value
	optValue                   // takes a value
	optFixed                   // takes a value that must be fixed
	optShell                   // makes a wrapper run its command through a shell
	optCode                    // takes code
)

// opt is one argv item read as getopt reads it.
type opt struct {
	class    optClass
	name     string // the option that decides class
	attached string // its value written in the same item (--opt=v, -oV)
	// next: its value is the next item
	next bool
}

func (r progRule) classOf(name string) optClass {
	has := func(list []string) bool {
		for _, o := range list {
			if o == name || (r.caseless && strings.EqualFold(o, name)) {
				return true
			}
		}
		return false
	}
	switch {
	case has(r.codeOpts):
		return optCode
	case has(r.shellOpts):
		return optShell
	case has(r.fixedOpts):
		return optFixed
	case has(r.valueOpts):
		return optValue
	case has(r.flags):
		return optFlag
	}
	return optUnknown
}

// longAbbrev is the strongest class among the long options that name
// abbreviates: GNU getopt takes --to-com for --to-command.
func (r progRule) longAbbrev(name string) optClass {
	best := optUnknown
	for _, list := range [][]string{r.codeOpts, r.shellOpts, r.fixedOpts, r.valueOpts, r.flags} {
		for _, o := range list {
			if strings.HasPrefix(o, "--") && strings.HasPrefix(o, name) {
				if c := r.classOf(o); best == optUnknown || c > best {
					best = c
				}
			}
		}
	}
	return best
}

// parse reads a as an option: --long[=v] (or an abbreviation of one),
// -multi as listed (-ex, -Command), or a cluster of short options
// (-vo VALUE, -cI{{x}}), where the first that takes a value takes the
// rest of the item, or the next item.
func (r progRule) parse(a string) opt {
	if c := r.classOf(a); c != optUnknown {
		// as listed: /c for cmd, -Command for PowerShell
		return opt{class: c, name: a, next: c >= optValue && c != optShell}
	}
	if a == "-" || a == "--" || !(strings.HasPrefix(a, "-") || (r.kind == kindShell && strings.HasPrefix(a, "+"))) {
		return opt{class: optOperand}
	}
	if strings.HasPrefix(a, "--") {
		name, val, eq := strings.Cut(a, "=")
		c := r.classOf(name)
		if c == optUnknown {
			c = r.longAbbrev(name)
		}
		return opt{class: c, name: name, attached: val, next: !eq && c >= optValue && c != optShell}
	}
	name, val, eq := strings.Cut(a, "=")
	if c := r.classOf(name); c != optUnknown && len(name) > 2 {
		return opt{class: c, name: name, attached: val, next: !eq && c >= optValue && c != optShell}
	}
	out := opt{class: optFlag, name: a}
	for i := 1; i < len(a); i++ {
		o := a[:1] + a[i:i+1]
		switch c := r.classOf(o); {
		case c >= optValue && c != optShell:
			return opt{class: max(c, out.class), name: o, attached: a[i+1:], next: i+1 == len(a)}
		case c > out.class:
			out.class, out.name = c, o
		}
	}
	return out
}

// code checks a shell or an interpreter: its code must be fixed, and so
// must the script or program it runs; arguments after them are data.
func (r progRule) code(argv []string, start int, prog string) string {
	sawCode, shellCode, sawOperand, unknown := false, false, false, ""
	for j := start + 1; j < len(argv); j++ {
		a := argv[j]
		if slices.Contains(r.runsAfter, a) {
			for k := j + 1; k < len(argv); k++ {
				if isTemplate(argv[k]) {
					return fmt.Sprintf("argv[%d] is a template, and %s %s runs what follows as a command: a value would become code", k, prog, a)
				}
			}
			return ""
		}
		if prog == "tar" && j == start+1 && a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			// tar's old style: its first word is a cluster of options,
			// whose values are the next words in turn
			if strings.ContainsAny(a, "IF") {
				for k := j + 1; k < len(argv); k++ {
					if isTemplate(argv[k]) {
						return fmt.Sprintf("argv[%d] is a template, and tar %s takes a program among the words after it: keep them fixed", k, a)
					}
				}
			}
			a = "-" + a
		}
		if r.plusIsCode && strings.HasPrefix(a, "+") && isTemplate(a) {
			return fmt.Sprintf("argv[%d] puts a template into a command %s runs (%s): a value would become code", j, prog, a)
		}
		if r.kind == kindShellRest && (strings.HasPrefix(a, "/") || strings.HasPrefix(a, "-")) && r.classOf(a) == optUnknown {
			continue // a switch before the command: /s, /q
		}
		if a == "--" || (r.kind == kindShell && a == "-") {
			// options end: what follows is the shell's code, or the
			// script, or (after code) its arguments
			if !sawCode && j+1 < len(argv) && isTemplate(argv[j+1]) {
				return fmt.Sprintf("argv[%d] is a template where %s takes the code or script it runs: a value would choose the code", j+1, prog)
			}
			return ""
		}
		if r.kind == kindShell && !strings.HasPrefix(a, "--") && (strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+")) && a != "-" {
			// a shell's short options: c makes its first operand the
			// code; o and O take the next item
			for _, l := range a[1:] {
				switch {
				case l == 'c':
					shellCode = true
				case l == 'o' || l == 'O' || r.classOf("-"+string(l)) == optCode:
					// the next item is this option's value (fish -C code)
					if j+1 < len(argv) && isTemplate(argv[j+1]) {
						return fmt.Sprintf("argv[%d] is a template as %s's -%c: it must be fixed", j+1, prog, l)
					}
					j++
				}
			}
			continue
		}
		p := r.parse(a)
		switch p.class {
		case optOperand:
			switch {
			case shellCode:
				if isTemplate(a) {
					return fmt.Sprintf("argv[%d] puts a template into a %s command string: a label or log value would become code; pass values as their own argv items after the code, e.g. bash -c 'restart \"$1\"' _ {{.Inputs.x}}", j, prog)
				}
				return ""
			case r.assigns && strings.Contains(a, "=") && isTemplate(a):
				return fmt.Sprintf("argv[%d]: a variable for %s set from data (SHELL=, MAKEFLAGS=) can change what runs: it must be fixed", j, prog)
			case r.anywhere:
				if r.subcommand && !sawOperand && isTemplate(a) {
					return fmt.Sprintf("argv[%d] is a template where %s takes what to do: it must be fixed", j, prog)
				}
				if unknown != "" && isTemplate(a) {
					return fmt.Sprintf("argv[%d] is a template after %s's %s, an option oncall does not know: it could be that option's value (a pager, a program); keep it fixed", j, prog, unknown)
				}
				sawOperand = true
				continue
			case sawCode:
				return ""
			case unknown != "":
				if isTemplate(a) {
					return fmt.Sprintf("argv[%d] is a template after %s's %s, an option oncall does not know: it could be that option's value or the script to run; keep it fixed", j, prog, unknown)
				}
				continue
			}
			if isTemplate(a) && !sawOperand {
				what := "the script it runs"
				if r.firstIsCode {
					what = "its program text"
				}
				return fmt.Sprintf("argv[%d] is a template where %s takes %s: a value would choose the code that runs", j, prog, what)
			}
			if r.permutes {
				// options may still follow: su root -c CMD
				sawOperand = true
				continue
			}
			return ""
		case optCode:
			sawCode = true
			if r.kind == kindShellRest {
				for k := j + 1; k < len(argv); k++ {
					if isTemplate(argv[k]) {
						return fmt.Sprintf("argv[%d] puts a template into a %s command (%s joins every argument after %s into the command): a value would become code", k, prog, prog, a)
					}
				}
				return ""
			}
			if isTemplate(p.attached) || (p.next && j+1 < len(argv) && isTemplate(argv[j+1])) {
				return fmt.Sprintf("argv[%d] puts a template into the code %s runs (%s): a label or log value would become code; pass values as their own argv items after the code", j, prog, p.name)
			}
		case optFixed:
			if isTemplate(p.attached) || (p.next && j+1 < len(argv) && isTemplate(argv[j+1])) {
				return fmt.Sprintf("argv[%d] is a template in %s's %s, which can make it run a program or send its credentials elsewhere: it must be fixed", j, prog, p.name)
			}
		case optUnknown:
			if isTemplate(p.attached) {
				return fmt.Sprintf("argv[%d] is a template in %s's %s, an option oncall does not know: its value could be code or a program; keep it fixed", j, prog, p.name)
			}
			if unknown == "" {
				unknown = a
			}
		}
		if p.next && !nextIsOption(argv, j) {
			j++
		}
	}
	return ""
}

// wrapped checks a wrapper: its program must be fixed, and is checked in
// turn. After an option the table does not know, no value may stand
// alone: it could be that option's value, or the program.
func (r progRule) wrapped(argv []string, start int, prog string) string {
	positionals := r.positionals
	unknown := ""
	for j := start + 1; j < len(argv); j++ {
		a := argv[j]
		if unknown != "" {
			if isTemplate(a) && !(strings.HasPrefix(a, "--") && strings.Index(a, "=") < strings.Index(a, "{{")) {
				return fmt.Sprintf("argv[%d] is a template after %s's %s, an option oncall does not know: it could be that option's value or the program to run; drop the option or keep what follows fixed", j, prog, unknown)
			}
			continue
		}
		if a == "-" {
			continue // env -, su -: a flag
		}
		if a == "--" {
			// options end; the positionals and the program follow
			j += positionals
			if j+1 < len(argv) {
				return checkFrom(argv, j+1)
			}
			return ""
		}
		p := r.parse(a)
		switch p.class {
		case optOperand:
			if r.assigns && strings.Contains(a, "=") && !strings.HasPrefix(a, "{{") {
				if isTemplate(a) {
					return fmt.Sprintf("argv[%d]: an environment variable for %s set from data (PATH, LD_PRELOAD, BASH_ENV) can change what runs: it must be fixed", j, prog)
				}
				continue
			}
			if positionals > 0 {
				positionals--
				continue
			}
			return checkFrom(argv, j)
		case optShell:
			for k := j + 1; k < len(argv); k++ {
				if isTemplate(argv[k]) {
					return fmt.Sprintf("argv[%d] is a template, and %s %s runs its command through a shell: a value would become code", k, prog, p.name)
				}
			}
			return ""
		case optCode, optFixed:
			if isTemplate(p.attached) || (p.next && j+1 < len(argv) && isTemplate(argv[j+1])) {
				return fmt.Sprintf("argv[%d] puts a template into %s's %s, which runs what it is given: a value would become code", j, prog, p.name)
			}
		case optUnknown:
			if p.attached == "" || isTemplate(p.attached) {
				unknown = a
			}
		}
		if p.next && !nextIsOption(argv, j) {
			j++
		}
	}
	return ""
}

// remote checks ssh: the destination may be a typed value; the command
// after it is read by the remote shell, so it must be fixed.
func (r progRule) remote(argv []string, start int, prog string) string {
	for j := start + 1; j < len(argv); j++ {
		a := argv[j]
		if a == "--" {
			continue
		}
		p := r.parse(a)
		if p.class == optOperand {
			for k := j + 1; k < len(argv); k++ {
				if isTemplate(argv[k]) {
					return fmt.Sprintf("argv[%d] is a template in the command %s sends: the remote shell reads it as code; run a fixed remote command", k, prog)
				}
			}
			return ""
		}
		if (p.class == optFixed || p.class == optCode) && (isTemplate(p.attached) || (p.next && j+1 < len(argv) && isTemplate(argv[j+1]))) {
			return fmt.Sprintf("argv[%d] is a template in %s's %s, which can make it run a program: it must be fixed", j, prog, p.name)
		}
		if p.next && !nextIsOption(argv, j) {
			j++
		}
	}
	return ""
}

// findExec checks the programs find runs.
func findExec(argv []string, start int) string {
	for j := start + 1; j < len(argv); j++ {
		switch argv[j] {
		case "-exec", "-execdir", "-ok", "-okdir":
			// -exec ends at ";", or at "+" right after "{}"
			end := j + 1
			for end < len(argv) && argv[end] != ";" && (argv[end] != "+" || argv[end-1] != "{}") {
				end++
			}
			if p := checkFrom(argv[:end], j+1); p != "" {
				return p
			}
			j = end
		}
	}
	return ""
}

// container checks kubectl exec and docker exec: the command they run in
// the container must be fixed, and is checked in turn.
func (r progRule) container(argv []string, start int, prog string) string {
	sub := -1
	for j := start + 1; j < len(argv); j++ {
		if argv[j] == "exec" || argv[j] == "run" || argv[j] == "debug" || argv[j] == "rsh" {
			sub = j
			break
		}
	}
	// the verb: the first operand after the global options, whose
	// values must be fixed where they say where to connect
	for j := start + 1; j < len(argv); j++ {
		a := argv[j]
		p := r.parse(a)
		if p.class == optOperand {
			if isTemplate(a) {
				return fmt.Sprintf("argv[%d] is a template where %s takes what to do: it must be fixed", j, prog)
			}
			break
		}
		if p.next && !nextIsOption(argv, j) {
			j++
		}
	}
	for j := start + 1; j < len(argv); j++ {
		if p := r.parse(argv[j]); p.class == optFixed && (isTemplate(p.attached) || (p.next && j+1 < len(argv) && isTemplate(argv[j+1]))) {
			return fmt.Sprintf("argv[%d] is a template in %s's %s, which would send its credentials elsewhere: it must be fixed", j, prog, p.name)
		}
	}
	if sub < 0 {
		return ""
	}
	for j := sub + 1; j < len(argv); j++ {
		if argv[j] == "--" {
			return checkFrom(argv, j+1)
		}
	}
	if r.dashdash {
		// kubectl: without --, the command is not told from the pod
		for j := sub + 1; j < len(argv); j++ {
			if isTemplate(argv[j]) {
				return fmt.Sprintf("argv[%d] is a template in %s %s without --: write -- before the command it runs, and keep that command fixed", j, prog, argv[sub])
			}
		}
		return ""
	}
	// docker exec [options] CONTAINER COMMAND…
	seen := 0
	for j := sub + 1; j < len(argv); j++ {
		p := r.parse(argv[j])
		if p.class != optOperand {
			if p.next && !nextIsOption(argv, j) {
				j++
			}
			continue
		}
		if seen++; seen == 2 {
			return checkFrom(argv, j)
		}
	}
	return ""
}
