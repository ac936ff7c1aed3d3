// Package protoconv maps between the ledger domain and its protobuf contract,
// for the gRPC API and for the events alike.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
)

// AccountPattern is the account resource name pattern.
const AccountPattern = "accounts/*"

var (
	typeToProto = map[ledger.AccountType]ledgerv1.AccountType{
		ledger.AccountAsset:     ledgerv1.AccountType_ACCOUNT_TYPE_ASSET,
		ledger.AccountLiability: ledgerv1.AccountType_ACCOUNT_TYPE_LIABILITY,
		ledger.AccountEquity:    ledgerv1.AccountType_ACCOUNT_TYPE_EQUITY,
		ledger.AccountRevenue:   ledgerv1.AccountType_ACCOUNT_TYPE_REVENUE,
		ledger.AccountExpense:   ledgerv1.AccountType_ACCOUNT_TYPE_EXPENSE,
	}
	typeFromProto = func() map[ledgerv1.AccountType]ledger.AccountType {
		m := make(map[ledgerv1.AccountType]ledger.AccountType, len(typeToProto))
		for d, p := range typeToProto {
			m[p] = d
		}
		return m
	}()
)

// AccountToProto maps a domain account to the API resource.
func AccountToProto(a *ledger.Account) *ledgerv1.Account {
	return &ledgerv1.Account{
		Name:         resname.Format(AccountPattern, a.Code),
		Code:         a.Code,
		DisplayName:  a.DisplayName,
		Type:         typeToProto[a.Type],
		CurrencyCode: a.CurrencyCode,
		CreateTime:   timestamppb.New(a.CreatedAt),
	}
}

// AccountFromProto maps the client-settable fields of an account. An
// unspecified or unknown type maps to the zero type, which the domain refuses
// on field "account.type" (the type is required, so there is no default).
func AccountFromProto(p *ledgerv1.Account) ledger.Account {
	return ledger.Account{
		Code:         p.GetCode(),
		DisplayName:  p.GetDisplayName(),
		Type:         typeFromProto[p.GetType()],
		CurrencyCode: p.GetCurrencyCode(),
	}
}
