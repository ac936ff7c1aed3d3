// Package grpcapi is the ledger gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Server implements ledgerv1.LedgerServiceServer.
type Server struct {
	ledgerv1.UnimplementedLedgerServiceServer
	app    *app.Service
	decode app.Decoder
}

// New builds the API over the application service. decode reads parked
// events back for RepostParkedEvents.
func New(a *app.Service, decode app.Decoder) *Server { return &Server{app: a, decode: decode} }

// CreateAccount adds an account to the chart of accounts.
func (s *Server) CreateAccount(ctx context.Context, req *ledgerv1.CreateAccountRequest) (*ledgerv1.Account, error) {
	a, err := s.app.CreateAccount(ctx, req.GetRequestId(), protoconv.AccountFromProto(req.GetAccount()))
	if err != nil {
		return nil, err
	}
	return protoconv.AccountToProto(a), nil
}

// GetAccount returns an account by name ("accounts/{code}").
func (s *Server) GetAccount(ctx context.Context, req *ledgerv1.GetAccountRequest) (*ledgerv1.Account, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.AccountPattern)
	if err != nil {
		return nil, err
	}
	a, err := s.app.GetAccount(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.AccountToProto(a), nil
}

// ListAccounts pages through the chart of accounts in code order.
func (s *Server) ListAccounts(ctx context.Context, req *ledgerv1.ListAccountsRequest) (*ledgerv1.ListAccountsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "accounts")
	if err != nil {
		return nil, err
	}
	as, err := s.app.ListAccounts(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &ledgerv1.ListAccountsResponse{}
	for _, a := range as {
		resp.Accounts = append(resp.Accounts, protoconv.AccountToProto(a))
	}
	if n := len(as); n > 0 {
		resp.NextPageToken = page.Next(n, as[n-1].Code)
	}
	return resp, nil
}
