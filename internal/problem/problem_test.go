package problem

import (
	"encoding/json"
	"testing"
)

func TestProblemWritesWhatIsKnown(t *testing.T) {
	ps := Problems{
		{File: "config.yaml", Line: 4, Column: 14, Msg: "bad timeout"},
		{File: "runbooks/x.yaml", Line: 7, Msg: "bad danger"},
		{File: "runbooks/y.yaml", Msg: "empty file"},
	}
	if got, want := ps.Error(), "config.yaml:4:14: bad timeout\nrunbooks/x.yaml:7: bad danger\nrunbooks/y.yaml: empty file"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	b, err := json.Marshal(ps[1:2])
	if want := `[{"file":"runbooks/x.yaml","line":7,"message":"bad danger"}]`; err != nil || string(b) != want {
		t.Errorf("%s %v, want %s", b, err, want)
	}
}
