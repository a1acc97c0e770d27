package history

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"time"
)

// RecordID is a record's ID: "inc-" and 8 lower-case hex digits of
// sha256 over the stack, the first alert's name, its service and its
// start in Unix seconds. It is deterministic so two cockpits and a later
// reconstruction of one incident land on one record.
//
// An incident opened from a service with no alert passes name "" and the
// top candidate's onset: the start is then taken to the minute, because
// the onset moves by a step or so as more data arrives, and one incident
// must keep one ID while it is looked at.
//
// ValidID says whether an ID has this shape; a file is named after a
// record only when it does.
func RecordID(stack, name, service string, start time.Time) string {
	if name == "" {
		start = start.Truncate(time.Minute)
	}
	h := sha256.New()
	for _, part := range []string{stack, name, service, strconv.FormatInt(start.Unix(), 10)} {
		h.Write([]byte(part))
		h.Write([]byte{0}) // a separator, so ("ab","c") and ("a","bc") differ
	}
	return "inc-" + hex.EncodeToString(h.Sum(nil))[:8]
}

// idShape is RecordID's output: nothing else names a file.
var idShape = regexp.MustCompile(`^inc-[0-9a-f]{8}$`)

// ValidID reports whether id is shaped as RecordID writes it. Stores may
// hold rows others wrote by hand (a shared PostgreSQL, an edited
// history.db) with any ID, so a record's ID names a file (a postmortem
// draft) only when it is valid: "../../x" or one with a bidi character
// would name a file other than the one shown.
func ValidID(id string) bool { return idShape.MatchString(id) }
