package grpcapi

import (
	"context"
	"fmt"
	"strings"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

func taskID(field, name string) (string, error) {
	ids, err := resname.Parse(field, name, protoconv.TaskPattern)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// GetTask returns a task.
func (s *Server) GetTask(ctx context.Context, req *fulfillmentv1.GetTaskRequest) (*fulfillmentv1.Task, error) {
	id, err := taskID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	k, err := s.app.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.TaskToProto(k, s.now()), nil
}

// ListTasks pages through the queue.
func (s *Server) ListTasks(ctx context.Context, req *fulfillmentv1.ListTasksRequest) (*fulfillmentv1.ListTasksResponse, error) {
	var v apperr.Violations
	f := app.TaskFilter{Warehouse: strings.ToUpper(strings.TrimSpace(req.GetWarehouse())), Zone: strings.ToUpper(strings.TrimSpace(req.GetZone())),
		Wave: strings.ToUpper(strings.TrimSpace(req.GetWave()))}
	var ok bool
	if f.Type, ok = protoconv.TaskTypeFromProto(req.GetType()); !ok {
		v.Add("type", "is not a task type")
	}
	if f.State, ok = protoconv.TaskStateFromProto(req.GetState()); !ok {
		v.Add("state", "is not a task state")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("tasks|%s|%s|%d|%d|%s", f.Warehouse, f.Zone, f.Type, f.State, f.Wave))
	if err != nil {
		return nil, err
	}
	ks, err := s.app.ListTasks(ctx, f, page.After, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListTasksResponse{}
	now := s.now()
	for _, k := range ks {
		resp.Tasks = append(resp.Tasks, protoconv.TaskToProto(k, now))
	}
	if n := len(ks); n > 0 {
		resp.NextPageToken = page.Next(n, ks[n-1].ID)
	}
	return resp, nil
}

// ClaimTask claims a task for the caller.
func (s *Server) ClaimTask(ctx context.Context, req *fulfillmentv1.ClaimTaskRequest) (*fulfillmentv1.Task, error) {
	id, err := taskID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	k, err := s.app.ClaimTask(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.TaskToProto(k, s.now()), nil
}

// ClaimNextTask claims the oldest claimable task of a queue.
func (s *Server) ClaimNextTask(ctx context.Context, req *fulfillmentv1.ClaimNextTaskRequest) (*fulfillmentv1.Task, error) {
	f := app.TaskFilter{Warehouse: strings.ToUpper(strings.TrimSpace(req.GetWarehouse())), Zone: strings.ToUpper(strings.TrimSpace(req.GetZone())),
		Wave: strings.ToUpper(strings.TrimSpace(req.GetWave()))}
	var ok bool
	if f.Type, ok = protoconv.TaskTypeFromProto(req.GetType()); !ok {
		return nil, apperr.Invalid(apperr.Field("type", "is not a task type"))
	}
	k, err := s.app.ClaimNextTask(ctx, f)
	if err != nil {
		return nil, err
	}
	return protoconv.TaskToProto(k, s.now()), nil
}

// ReleaseTask gives a claimed task back.
func (s *Server) ReleaseTask(ctx context.Context, req *fulfillmentv1.ReleaseTaskRequest) (*fulfillmentv1.Task, error) {
	id, err := taskID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	k, err := s.app.ReleaseTask(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.TaskToProto(k, s.now()), nil
}

// ConfirmPutaway completes a putaway.
func (s *Server) ConfirmPutaway(ctx context.Context, req *fulfillmentv1.ConfirmPutawayRequest) (*fulfillmentv1.Task, error) {
	id, err := taskID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	k, err := s.app.ConfirmPutaway(ctx, req.GetRequestId(), id, req.GetLocation())
	if err != nil {
		return nil, err
	}
	return protoconv.TaskToProto(k, s.now()), nil
}
