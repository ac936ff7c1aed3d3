module trueup.dev/services/orders

go 1.26.8

require (
	trueup.dev/api v0.0.0
	trueup.dev/platform v0.0.0
)

replace (
	trueup.dev/api => ../../api
	trueup.dev/platform => ../../platform
)
