"""Payment intents and their one-way state machine, the providers (Stripe, Mercado Pago and
Pix), webhooks, refunds, reconciliation and anomalies, in each operator's schema.

`services/` holds the writes, one module per noun (its `__init__` lists them in the order a
payment meets them); `providers/` speaks each provider's API in the product's own terms;
`views` serves the traveller's payment pages and the webhooks; `panels` adds the payment
choices to booking's reservation page."""
