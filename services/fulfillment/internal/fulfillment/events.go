package fulfillment

// CarrierCreated is the fact that a carrier was added.
type CarrierCreated struct{ Carrier Carrier }
