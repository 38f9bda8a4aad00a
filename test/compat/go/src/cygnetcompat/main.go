// cygnetcompat is a minimal Mesos v1 scheduler written against the stock
// mesos-go v1 client (github.com/mesos/mesos-go/api/v1/lib). It proves that an
// existing Mesos client can drive cygnet's master unchanged.
//
// It subscribes (JSON or protobuf), accepts one offer and launches one
// `sleep 60` task, waits for TASK_RUNNING, asks the Operator API (POST
// /api/v1, mesos-go's httpmaster, same codec) for GET_STATE and reports what
// it lists, and reports what the Operator API's event stream (SUBSCRIBE,
// opened first) said of the task; it acknowledges every update that carries a uuid, kills the task,
// waits for TASK_KILLED, and exits 0. Every
// milestone is printed to stdout as one JSON line:
//
//	{"milestone":"subscribed","framework_id":"..."}
//
// On a timeout or an error it prints {"milestone":"error","reason":"..."} and
// exits 1. Flags: -master 127.0.0.1:5050 -codec json|protobuf -timeout 60s.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpmaster"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	mcalls "github.com/mesos/mesos-go/api/v1/lib/master/calls"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

const (
	taskCpus  = 0.1
	taskMemMb = 32.0
)

func emit(fields map[string]interface{}) {
	b, err := json.Marshal(fields)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"milestone":"error","reason":%q}`, err.Error()))
	}
	fmt.Println(string(b))
}

func fail(reason string) {
	emit(map[string]interface{}{"milestone": "error", "reason": reason})
	os.Exit(1)
}

func scalar(name string, v float64) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
}

func offerScalar(o *mesos.Offer, name string) float64 {
	total := 0.0
	for _, r := range o.Resources {
		if r.Name == name && r.Scalar != nil {
			total += r.Scalar.Value
		}
	}
	return total
}

type run struct {
	caller      calls.Caller
	operator    mcalls.Sender
	opEvents    chan string
	ctx         context.Context
	frameworkID string
	taskID      string
	agentID     string
	launched    bool
	killSent    bool
}

func (r *run) call(c *scheduler.Call) error {
	if r.frameworkID != "" {
		c = c.With(calls.Framework(r.frameworkID))
	}
	return calls.CallNoData(r.ctx, r.caller, c)
}

func (r *run) handleOffers(offers []mesos.Offer) {
	var decline []mesos.OfferID
	for i := range offers {
		o := &offers[i]
		if r.launched || offerScalar(o, "cpus") < taskCpus || offerScalar(o, "mem") < taskMemMb {
			decline = append(decline, o.ID)
			continue
		}
		r.launched = true
		r.agentID = o.AgentID.Value
		r.taskID = fmt.Sprintf("compat-%d", time.Now().UnixNano())
		cmd := "sleep 60"
		task := mesos.TaskInfo{
			Name:      "cygnet-compat",
			TaskID:    mesos.TaskID{Value: r.taskID},
			AgentID:   o.AgentID,
			Resources: []mesos.Resource{scalar("cpus", taskCpus), scalar("mem", taskMemMb)},
			Command:   &mesos.CommandInfo{Value: &cmd},
		}
		accept := calls.Accept(calls.OfferOperations{calls.OpLaunch(task)}.WithOffers(o.ID))
		if err := r.call(accept); err != nil {
			fail("accept: " + err.Error())
		}
		emit(map[string]interface{}{"milestone": "launched", "task_id": r.taskID, "agent_id": r.agentID, "offer_id": o.ID.Value})
	}
	if len(decline) > 0 {
		if err := r.call(calls.Decline(decline...).With(calls.RefuseSeconds(time.Hour))); err != nil {
			fail("decline: " + err.Error())
		}
	}
}

// reportOperatorState asks the master's Operator API for GET_STATE and emits
// the framework and task the master lists, as mesos-go decoded them.
func (r *run) reportOperatorState() {
	resp, err := r.operator.Send(r.ctx, mcalls.NonStreaming(mcalls.GetState()))
	if err != nil {
		fail("operator GET_STATE: " + err.Error())
	}
	defer resp.Close()
	var out master.Response
	if err := resp.Decode(&out); err != nil {
		fail("operator GET_STATE decode: " + err.Error())
	}
	state := out.GetGetState()
	frameworks := []string{}
	for _, f := range state.GetGetFrameworks().GetFrameworks() {
		frameworks = append(frameworks, f.FrameworkInfo.GetID().GetValue())
	}
	tasks := []string{}
	for _, t := range state.GetGetTasks().GetTasks() {
		tasks = append(tasks, t.TaskID.Value+" "+t.GetState().String())
	}
	emit(map[string]interface{}{"milestone": "operator_state", "type": out.GetType().String(), "agents": len(state.GetGetAgents().GetAgents()),
		"frameworks": frameworks, "tasks": tasks})
}

// watchOperatorEvents opens the Operator API's event stream and forwards a
// line per event ("TYPE" or "TYPE task-id state") until the stream ends.
func (r *run) watchOperatorEvents() {
	resp, err := r.operator.Send(r.ctx, mcalls.NonStreaming(mcalls.Subscribe()))
	if err != nil {
		fail("operator SUBSCRIBE: " + err.Error())
	}
	go func() {
		defer resp.Close()
		for {
			var ev master.Event
			if err := resp.Decode(&ev); err != nil {
				return
			}
			line := ev.GetType().String()
			switch ev.GetType() {
			case master.Event_TASK_ADDED:
				line += " " + ev.GetTaskAdded().Task.TaskID.Value + " " + ev.GetTaskAdded().Task.GetState().String()
			case master.Event_TASK_UPDATED:
				line += " " + ev.GetTaskUpdated().Status.TaskID.Value + " " + ev.GetTaskUpdated().GetState().String()
			}
			r.opEvents <- line
		}
	}()
}

// reportOperatorEvents emits what the event stream has said so far.
func (r *run) reportOperatorEvents() {
	seen := []string{}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-r.opEvents:
			seen = append(seen, line)
			if line == "TASK_UPDATED "+r.taskID+" TASK_RUNNING" {
				emit(map[string]interface{}{"milestone": "operator_events", "events": seen})
				return
			}
		case <-deadline:
			emit(map[string]interface{}{"milestone": "operator_events", "events": seen, "incomplete": true})
			return
		}
	}
}

// handleUpdate returns true when the run is complete.
func (r *run) handleUpdate(st mesos.TaskStatus) bool {
	emit(map[string]interface{}{"milestone": "update", "task_id": st.TaskID.Value, "state": st.GetState().String(), "message": st.GetMessage()})
	if uuid := st.GetUUID(); len(uuid) > 0 {
		agent := ""
		if a := st.GetAgentID(); a != nil {
			agent = a.Value
		}
		if err := r.call(calls.Acknowledge(agent, st.TaskID.Value, uuid)); err != nil {
			fail("acknowledge: " + err.Error())
		}
		emit(map[string]interface{}{"milestone": "acknowledged", "task_id": st.TaskID.Value, "state": st.GetState().String()})
	}
	if st.TaskID.Value != r.taskID {
		return false
	}
	switch st.GetState() {
	case mesos.TASK_RUNNING:
		if !r.killSent {
			emit(map[string]interface{}{"milestone": "running", "task_id": r.taskID})
			r.reportOperatorState()
			r.reportOperatorEvents()
			r.killSent = true
			if err := r.call(calls.Kill(r.taskID, r.agentID)); err != nil {
				fail("kill: " + err.Error())
			}
			emit(map[string]interface{}{"milestone": "kill_sent", "task_id": r.taskID})
		}
	case mesos.TASK_KILLED:
		emit(map[string]interface{}{"milestone": "killed", "task_id": r.taskID})
		return true
	case mesos.TASK_FAILED, mesos.TASK_LOST, mesos.TASK_ERROR, mesos.TASK_DROPPED, mesos.TASK_FINISHED:
		fail(fmt.Sprintf("task ended in %s: %s", st.GetState().String(), st.GetMessage()))
	}
	return false
}

func main() {
	master := flag.String("master", "127.0.0.1:5050", "master host:port")
	codecName := flag.String("codec", "json", "json or protobuf")
	timeout := flag.Duration("timeout", 60*time.Second, "overall deadline")
	flag.Parse()

	var mediaType encoding.MediaType
	switch *codecName {
	case "json":
		mediaType = codecs.MediaTypeJSON
	case "protobuf":
		mediaType = codecs.MediaTypeProtobuf
	default:
		fail("-codec: expected json or protobuf, got " + *codecName)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	go func() {
		<-ctx.Done()
		if ctx.Err() == context.DeadlineExceeded {
			fail("timeout after " + timeout.String())
		}
	}()

	cli := httpcli.New(
		httpcli.Endpoint("http://"+*master+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.Do(httpcli.With(httpcli.Timeout(10*time.Second))),
	)
	operatorCli := httpcli.New(
		httpcli.Endpoint("http://"+*master+"/api/v1"),
		httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.Do(httpcli.With(httpcli.Timeout(10*time.Second))),
	)
	r := &run{caller: httpsched.NewCaller(cli), operator: httpmaster.NewSender(operatorCli.Send), opEvents: make(chan string, 1024), ctx: ctx}
	r.watchOperatorEvents()

	user := "root"
	hostname := "cygnet-compat"
	info := &mesos.FrameworkInfo{User: user, Name: "cygnet-compat-" + *codecName, Hostname: &hostname}
	resp, err := r.caller.Call(ctx, calls.Subscribe(info))
	if err != nil {
		fail("subscribe: " + err.Error())
	}
	defer resp.Close()

	for {
		var ev scheduler.Event
		if err := resp.Decode(&ev); err != nil {
			fail("decode event: " + err.Error())
		}
		switch ev.GetType() {
		case scheduler.Event_SUBSCRIBED:
			r.frameworkID = ev.GetSubscribed().FrameworkID.Value
			emit(map[string]interface{}{"milestone": "subscribed", "framework_id": r.frameworkID, "codec": *codecName,
				"heartbeat_interval_seconds": ev.GetSubscribed().GetHeartbeatIntervalSeconds()})
		case scheduler.Event_OFFERS:
			emit(map[string]interface{}{"milestone": "offers", "count": len(ev.GetOffers().GetOffers())})
			r.handleOffers(ev.GetOffers().GetOffers())
		case scheduler.Event_UPDATE:
			if r.handleUpdate(ev.GetUpdate().GetStatus()) {
				_ = r.call(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
				emit(map[string]interface{}{"milestone": "done"})
				return
			}
		case scheduler.Event_ERROR:
			fail("ERROR event: " + ev.GetError().GetMessage())
		case scheduler.Event_HEARTBEAT, scheduler.Event_RESCIND, scheduler.Event_FAILURE, scheduler.Event_MESSAGE:
			// nothing to do for this run
		}
	}
}
