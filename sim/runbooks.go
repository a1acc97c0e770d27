package sim

import "embed"

// Runbooks are the runbooks that fix the built-in scenarios, run by
// oncall demo: one per mechanism, written against the simulator's
// actions.
//
//go:embed runbooks/*.yaml
var Runbooks embed.FS
