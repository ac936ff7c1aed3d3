package grpcapi

import (
	"context"
	"fmt"
	"time"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// CreateSalesOrder creates a draft sales order.
func (s *Server) CreateSalesOrder(ctx context.Context, req *ordersv1.CreateSalesOrderRequest) (*ordersv1.SalesOrder, error) {
	in, err := protoconv.SOInputFromProto(req.GetSalesOrder(), caller.From(ctx).IsPartner())
	if err != nil {
		return nil, err
	}
	so, err := s.app.CreateSalesOrder(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.SalesOrderToProto(so), nil
}

func parseName(field, name, pattern string) (string, error) {
	ids, err := resname.Parse(field, name, pattern)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// GetSalesOrder returns a sales order by name ("salesOrders/{id}").
func (s *Server) GetSalesOrder(ctx context.Context, req *ordersv1.GetSalesOrderRequest) (*ordersv1.SalesOrder, error) {
	id, err := parseName("name", req.GetName(), protoconv.SalesOrderPattern)
	if err != nil {
		return nil, err
	}
	so, err := s.app.GetSalesOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.SalesOrderToProto(so), nil
}

// customerFilter parses an optional customer name filter.
func customerFilter(v *apperr.Violations, name string) string {
	if name == "" {
		return ""
	}
	ids, err := resname.Parse("customer", name, protoconv.CustomerPattern)
	if err != nil {
		v.Add("customer", "must be a customer's name, \"customers/{code}\"")
		return ""
	}
	return orders.NormalizeCode(ids[0])
}

// ListSalesOrders pages through sales orders in id order, filtered.
func (s *Server) ListSalesOrders(ctx context.Context, req *ordersv1.ListSalesOrdersRequest) (*ordersv1.ListSalesOrdersResponse, error) {
	var v apperr.Violations
	var f app.SOFilter
	state, ok := protoconv.SOStateFromProto(req.GetState())
	if !ok {
		v.Add("state", "is not a sales order state")
	}
	f.State = state
	f.Customer = customerFilter(&v, req.GetCustomer())
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	if t := req.GetCreateTimeStart(); t != nil {
		f.CreatedFrom = t.AsTime()
	}
	if t := req.GetCreateTimeEnd(); t != nil {
		f.CreatedBefore = t.AsTime()
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedBefore.After(f.CreatedFrom) {
		v.Add("create_time_end", "must be after create_time_start")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("salesOrders|%d|%s|%s|%d|%d",
		f.State, f.Customer, req.GetPartner(), req.GetCreateTimeStart().AsTime().UnixMicro(), req.GetCreateTimeEnd().AsTime().UnixMicro()))
	if err != nil {
		return nil, err
	}
	sos, err := s.app.ListSalesOrders(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListSalesOrdersResponse{}
	for _, so := range sos {
		resp.SalesOrders = append(resp.SalesOrders, protoconv.SalesOrderToProto(so))
	}
	if n := len(sos); n > 0 {
		resp.NextPageToken = page.Next(n, sos[n-1].ID)
	}
	return resp, nil
}

// ConfirmSalesOrder credit-checks and confirms a draft.
func (s *Server) ConfirmSalesOrder(ctx context.Context, req *ordersv1.ConfirmSalesOrderRequest) (*ordersv1.SalesOrder, error) {
	id, err := parseName("name", req.GetName(), protoconv.SalesOrderPattern)
	if err != nil {
		return nil, err
	}
	so, err := s.app.ConfirmSalesOrder(ctx, req.GetRequestId(), id)
	if err != nil {
		return nil, err
	}
	return protoconv.SalesOrderToProto(so), nil
}

// CancelSalesOrder cancels what is not yet shipped.
func (s *Server) CancelSalesOrder(ctx context.Context, req *ordersv1.CancelSalesOrderRequest) (*ordersv1.SalesOrder, error) {
	id, err := parseName("name", req.GetName(), protoconv.SalesOrderPattern)
	if err != nil {
		return nil, err
	}
	var lines []int
	for _, n := range req.GetLineNumbers() {
		lines = append(lines, int(n))
	}
	so, err := s.app.CancelSalesOrder(ctx, req.GetRequestId(), id, lines, req.GetReason())
	if err != nil {
		return nil, err
	}
	return protoconv.SalesOrderToProto(so), nil
}

// GetInvoice returns an invoice by name ("invoices/{id}").
func (s *Server) GetInvoice(ctx context.Context, req *ordersv1.GetInvoiceRequest) (*ordersv1.Invoice, error) {
	id, err := parseName("name", req.GetName(), protoconv.InvoicePattern)
	if err != nil {
		return nil, err
	}
	inv, err := s.app.GetInvoice(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.InvoiceToProto(inv), nil
}

// ListInvoices pages through invoices in id order, filtered.
func (s *Server) ListInvoices(ctx context.Context, req *ordersv1.ListInvoicesRequest) (*ordersv1.ListInvoicesResponse, error) {
	var v apperr.Violations
	var f app.InvoiceFilter
	state, ok := protoconv.InvoiceStateFromProto(req.GetState())
	if !ok {
		v.Add("state", "is not an invoice state")
	}
	f.State = state
	f.Customer = customerFilter(&v, req.GetCustomer())
	if n := req.GetSalesOrder(); n != "" {
		id, err := parseName("sales_order", n, protoconv.SalesOrderPattern)
		if err != nil {
			v.Add("sales_order", "must be a sales order's name, \"salesOrders/{id}\"")
		}
		f.SalesOrder = id
	}
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	if t := req.GetIssueTimeStart(); t != nil {
		f.IssuedFrom = t.AsTime()
	}
	if t := req.GetIssueTimeEnd(); t != nil {
		f.IssuedBefore = t.AsTime()
	}
	if !f.IssuedFrom.IsZero() && !f.IssuedBefore.IsZero() && !f.IssuedBefore.After(f.IssuedFrom) {
		v.Add("issue_time_end", "must be after issue_time_start")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("invoices|%d|%s|%s|%s|%d|%d",
		f.State, f.Customer, f.SalesOrder, req.GetPartner(), req.GetIssueTimeStart().AsTime().UnixMicro(), req.GetIssueTimeEnd().AsTime().UnixMicro()))
	if err != nil {
		return nil, err
	}
	invs, err := s.app.ListInvoices(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListInvoicesResponse{}
	for _, inv := range invs {
		resp.Invoices = append(resp.Invoices, protoconv.InvoiceToProto(inv))
	}
	if n := len(invs); n > 0 {
		resp.NextPageToken = page.Next(n, invs[n-1].ID)
	}
	return resp, nil
}

// RecordPayment records a customer payment.
func (s *Server) RecordPayment(ctx context.Context, req *ordersv1.RecordPaymentRequest) (*ordersv1.Payment, error) {
	in, err := protoconv.PaymentInputFromProto(req.GetPayment(), caller.From(ctx).IsPartner())
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordPayment(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.PaymentToProto(p), nil
}

// GetPayment returns a payment by name ("payments/{id}").
func (s *Server) GetPayment(ctx context.Context, req *ordersv1.GetPaymentRequest) (*ordersv1.Payment, error) {
	id, err := parseName("name", req.GetName(), protoconv.PaymentPattern)
	if err != nil {
		return nil, err
	}
	p, err := s.app.GetPayment(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.PaymentToProto(p), nil
}

// ListPayments pages through payments in id order, filtered.
func (s *Server) ListPayments(ctx context.Context, req *ordersv1.ListPaymentsRequest) (*ordersv1.ListPaymentsResponse, error) {
	var v apperr.Violations
	var f app.PaymentFilter
	f.Customer = customerFilter(&v, req.GetCustomer())
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	f.ReceivedFrom, f.ReceivedBefore = timeRange(&v, req.GetReceiveTimeStart(), req.GetReceiveTimeEnd(), "receive_time")
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "payments|"+f.Customer+"|"+req.GetPartner()+"|"+
		rangeKey(req.GetReceiveTimeStart(), req.GetReceiveTimeEnd()))
	if err != nil {
		return nil, err
	}
	ps, err := s.app.ListPayments(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListPaymentsResponse{}
	for _, p := range ps {
		resp.Payments = append(resp.Payments, protoconv.PaymentToProto(p))
	}
	if n := len(ps); n > 0 {
		resp.NextPageToken = page.Next(n, ps[n-1].ID)
	}
	return resp, nil
}

// ListReceivablesAgeing ages open receivables per customer and currency.
func (s *Server) ListReceivablesAgeing(ctx context.Context, req *ordersv1.ListReceivablesAgeingRequest) (*ordersv1.ListReceivablesAgeingResponse, error) {
	var v apperr.Violations
	var f app.AgeingFilter
	f.Customer = customerFilter(&v, req.GetCustomer())
	if t := req.GetAsOfTime(); t != nil {
		f.AsOf = t.AsTime()
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("receivablesAgeing|%s|%d", f.Customer, req.GetAsOfTime().AsTime().UnixMicro()))
	if err != nil {
		return nil, err
	}
	rows, err := s.app.ReceivablesAgeing(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListReceivablesAgeingResponse{}
	for _, r := range rows {
		resp.Rows = append(resp.Rows, protoconv.ReceivablesToProto(r))
	}
	if n := len(rows); n > 0 {
		resp.NextPageToken = page.Next(n, rows[n-1].Customer+"|"+rows[n-1].Currency)
	}
	return resp, nil
}

// GetOrderToCashTimings returns stage-to-stage percentiles of sales orders.
func (s *Server) GetOrderToCashTimings(ctx context.Context, req *ordersv1.GetOrderToCashTimingsRequest) (*ordersv1.DocumentTimings, error) {
	var from, to time.Time
	if t := req.GetStartTime(); t != nil {
		from = t.AsTime()
	}
	if t := req.GetEndTime(); t != nil {
		to = t.AsTime()
	}
	tm, err := s.app.OrderToCashTimings(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return protoconv.TimingsToProto(tm.From, tm.To, tm.Documents, tm.Steps), nil
}

// GetProcureToPayTimings returns stage-to-stage percentiles of purchase orders.
func (s *Server) GetProcureToPayTimings(ctx context.Context, req *ordersv1.GetProcureToPayTimingsRequest) (*ordersv1.DocumentTimings, error) {
	var from, to time.Time
	if t := req.GetStartTime(); t != nil {
		from = t.AsTime()
	}
	if t := req.GetEndTime(); t != nil {
		to = t.AsTime()
	}
	tm, err := s.app.ProcureToPayTimings(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return protoconv.TimingsToProto(tm.From, tm.To, tm.Documents, tm.Steps), nil
}
