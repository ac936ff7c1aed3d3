package ledger

// The default chart of accounts, seeded when the ledger starts (an account
// that exists already is left as it is). Its accounts take any currency:
// lines carry their own, and balances are kept per currency.
const (
	AcctCash       = "1000"
	AcctReceivable = "1200"
	// AcctPurchaseTax is the tax suppliers' bills charge that the business
	// recovers from the tax authority (an asset until it is); code 1300 is
	// free between receivables and inventory. Bills post their tax to it
	// (the "tax" role of bill_approved).
	AcctPurchaseTax          = "1300"
	AcctInventory            = "1400"
	AcctInTransit            = "1450"
	AcctPayable              = "2000"
	AcctGRNI                 = "2100"
	AcctSalesTax             = "2200"
	AcctRetainedEarnings     = "3000"
	AcctOpeningBalanceEquity = "3900"
	AcctRevenue              = "4000"
	AcctCOGS                 = "5000"
	AcctShrinkage            = "5100"
	AcctDamageScrap          = "5110"
	AcctWriteDowns           = "5120"
	AcctInventoryAdjustments = "5130"
	AcctPPV                  = "5200"
	AcctSamples              = "6100"
)

// DefaultChart is the chart of accounts every ledger starts with.
func DefaultChart() []Account {
	return []Account{
		{Code: AcctCash, DisplayName: "Cash", Type: AccountAsset},
		{Code: AcctReceivable, DisplayName: "Accounts receivable", Type: AccountAsset},
		{Code: AcctPurchaseTax, DisplayName: "Purchase tax recoverable", Type: AccountAsset},
		{Code: AcctInventory, DisplayName: "Inventory", Type: AccountAsset},
		{Code: AcctInTransit, DisplayName: "Inventory in transit", Type: AccountAsset},
		{Code: AcctPayable, DisplayName: "Accounts payable", Type: AccountLiability},
		{Code: AcctGRNI, DisplayName: "Goods received not invoiced (GRNI)", Type: AccountLiability},
		{Code: AcctSalesTax, DisplayName: "Sales tax payable", Type: AccountLiability},
		{Code: AcctRetainedEarnings, DisplayName: "Retained earnings", Type: AccountEquity},
		{Code: AcctOpeningBalanceEquity, DisplayName: "Opening balance equity", Type: AccountEquity},
		{Code: AcctRevenue, DisplayName: "Revenue", Type: AccountRevenue},
		{Code: AcctCOGS, DisplayName: "Cost of goods sold", Type: AccountExpense},
		{Code: AcctShrinkage, DisplayName: "Inventory shrinkage and count differences", Type: AccountExpense},
		{Code: AcctDamageScrap, DisplayName: "Inventory damage and scrap", Type: AccountExpense},
		{Code: AcctWriteDowns, DisplayName: "Inventory write-downs", Type: AccountExpense},
		{Code: AcctInventoryAdjustments, DisplayName: "Inventory adjustments (found stock)", Type: AccountExpense},
		{Code: AcctPPV, DisplayName: "Purchase price variance", Type: AccountExpense},
		{Code: AcctSamples, DisplayName: "Samples", Type: AccountExpense},
	}
}
