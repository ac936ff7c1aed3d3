package inventory

// LevelChange is how much m changed the stock of one location in m's lot: a
// transfer within the warehouse takes its quantity from FromLocation and
// puts it into ToLocation; every other movement carries its signed change
// on the one location it names (FromLocation for stock going out,
// ToLocation for stock coming in, both for a count that found no
// difference, whose change is 0).
func (m *Movement) LevelChange(location string) Qty {
	if m.Type == MoveTransfer {
		var d Qty
		if m.ToLocation == location {
			d += m.BaseQty
		}
		if m.FromLocation == location {
			d -= m.BaseQty
		}
		return d
	}
	if m.FromLocation == location || m.ToLocation == location {
		return m.BaseQty
	}
	return 0
}

// OnHandAsOf is what a level held at a count's time, from what it holds now
// and the movements of the level that happened (by effective time) after the
// count's time: now minus their changes. Stock that moved after the count
// was taken is therefore not counted twice: the count's difference is
// against the level as the counter saw it, and the movements since stay
// booked on top. superseded is true when one of those movements is itself a
// count: the level was counted again later, so this count's difference is
// already settled by it and must not be booked.
func OnHandAsOf(now Qty, location string, since []*Movement) (onHand Qty, superseded bool) {
	onHand = now
	for _, m := range since {
		if m.Type == MoveCount {
			superseded = true
		}
		onHand -= m.LevelChange(location)
	}
	return onHand, superseded
}
