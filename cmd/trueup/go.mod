module trueup.dev/cmd/trueup

go 1.26.8

require (
	trueup.dev/api v0.0.0
	trueup.dev/gateway v0.0.0
	trueup.dev/platform v0.0.0
	trueup.dev/services/fulfillment v0.0.0
	trueup.dev/services/inventory v0.0.0
	trueup.dev/services/ledger v0.0.0
	trueup.dev/services/orders v0.0.0
)

replace (
	trueup.dev/api => ../../api
	trueup.dev/gateway => ../../gateway
	trueup.dev/platform => ../../platform
	trueup.dev/services/fulfillment => ../../services/fulfillment
	trueup.dev/services/inventory => ../../services/inventory
	trueup.dev/services/ledger => ../../services/ledger
	trueup.dev/services/orders => ../../services/orders
)
