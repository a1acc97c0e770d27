package testenv

// Hostile is one value an attacker can place where oncall reads data: an
// alert label or annotation, a log line, a span name, a service name.
type Hostile struct {
	Name  string
	Value string
	// Option is true when the value would be read as an option by a
	// program that received it as an argument.
	Option bool
	// Escape is true when the value carries terminal control sequences.
	Escape bool
}

// HostileValues is the table every feature that shows or acts on data
// reuses: each must keep these inert (one argument, never an option or a
// program, no control sequence on a terminal).
var HostileValues = []Hostile{
	{Name: "shell-separator", Value: "; rm -rf /"},
	{Name: "command-substitution", Value: "$(touch PWNED)"},
	{Name: "backticks", Value: "`touch PWNED`"},
	{Name: "newline", Value: "a\nb"},
	{Name: "quote", Value: "' OR '1'='1"},
	{Name: "glob", Value: "* ~ $HOME"},
	{Name: "ssh-proxycommand", Value: "-oProxyCommand=touch PWNED", Option: true},
	{Name: "kubectl-server", Value: "--server=http://attacker:8080", Option: true},
	{Name: "kubeconfig", Value: "--kubeconfig=/x", Option: true},
	{Name: "lone-dash", Value: "-", Option: true},
	{Name: "double-dash", Value: "--", Option: true},
	{Name: "cursor-up-erase", Value: "\x1b[3A\r\x1b[2Kpayment-api", Escape: true},
	{Name: "osc-title", Value: "\x1b]0;title\x07", Escape: true},
	{Name: "osc52-clipboard", Value: "ok\x1b]52;c;cm0gLXJmIH4=\x07", Escape: true},
	{Name: "osc8-link", Value: "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", Escape: true},
	{Name: "c1-csi", Value: "a\u009b2Jb", Escape: true},
	{Name: "carriage-return", Value: "safe\rrm -rf /", Escape: true},
	{Name: "bidi-override", Value: "abc\u202edcba", Escape: true},
	{Name: "nan", Value: "NaN"},
	{Name: "inf", Value: "Inf"},
	{Name: "huge-number", Value: "100000"},
	{Name: "path-traversal", Value: "../../etc/passwd"},
}

// HasEscape reports whether b holds an ESC or C1 control byte sequence,
// or a carriage return: what must never reach a terminal from data.
func HasEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case 0x1b, '\r':
			return true
		case 0xc2: // UTF-8 lead byte of U+0080..U+00BF: C1 controls are 0x80..0x9f
			if i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
				return true
			}
		}
	}
	return false
}
