package remediate

import (
	"context"
	"testing"
	"time"

	"github.com/oncall-cockpit/oncall/sources"
)

// recordingActuator applies nothing and says what it was asked.
type recordingActuator struct{ got []sources.Action }

func (a *recordingActuator) Act(_ context.Context, act sources.Action) (sources.Change, error) {
	a.got = append(a.got, act)
	return sources.Change{Service: act.Service, Detail: "ok"}, nil
}

// TestStandaloneSimActionNamesTheServiceItActsOn: a set-call on
// checkout-api in an experiment whose target is payment-db is about
// checkout-api in its outcome, both audit entries and the lock it
// takes; another's lock on the target does not hold it back.
func TestStandaloneSimActionNamesTheServiceItActsOn(t *testing.T) {
	x, audit := standaloneExecutor(t)
	act := &recordingActuator{}
	x.Actuator = act
	ctx := context.Background()
	now := time.Now()
	if _, err := x.Guard.Ledger.Add(ctx, Record{Kind: RecordLock, Key: Key{Action: "retries", Target: "payment-db"}, By: "bob@h", Start: now, End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a := Action{Name: "retries", Spec: Spec{Kind: KindSim, Sim: &SimSpec{Action: "set-call", Service: "checkout-api", Target: "payment-api", Params: map[string]string{"retries": "3"}}}}
	o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "payment-db"}})
	if o.Result != ResultDone || o.Target != "checkout-api" {
		t.Fatalf("outcome %+v", o)
	}
	rows, _, err := audit.Read()
	if err != nil || len(rows) != 1 || rows[0].Before.Target != "checkout-api" || rows[0].After.Target != "checkout-api" {
		t.Fatalf("rows %+v err %v", rows, err)
	}
	if _, err := x.Guard.Ledger.Add(ctx, Record{Kind: RecordLock, Key: Key{Action: "retries", Target: "checkout-api"}, By: "bob@h", Start: now, End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if o := x.RunStandalone(ctx, Standalone{Owner: "exp", Action: a, Vars: Vars{Target: "payment-db"}}); o.Result != ResultRefused {
		t.Fatalf("the set-call ran under another's lock on checkout-api: %+v", o)
	}
	if len(act.got) != 1 {
		t.Fatalf("simulator asked %d times, want once", len(act.got))
	}
}
