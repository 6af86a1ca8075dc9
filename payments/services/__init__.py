"""Writes that move money states, one module per noun, in the order a payment meets them:

- `checkout`: a traveller starts paying a held reservation (`payment_start`);
- `webhooks`: a provider's verified webhook is recorded once, deduplicated by its event id,
  and applied; failures are kept for redelivery or staff; forgeries are rejected;
- `transitions`: a provider's facts applied to a locked intent, the one path by which a
  reservation becomes paid (webhooks and reconciliation both end here);
- `refunds`: staff ask for a refund; the provider's confirmation settles it;
- `reconciliation`: the provider's API is asked about attempts nobody heard of;
- `anomalies`: what needs a human is raised, and resolved by staff.

Lock order, everywhere: payment intent, then reservation, then slot (the booking services
take the last two).
"""
