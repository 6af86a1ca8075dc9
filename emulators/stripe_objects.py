"""Builders of Stripe's JSON objects, with the fields of the real API (version 2025-09-30)."""

from emulators.common import now, random_id


def build_line_item(name: str, currency: str, unit_amount: int, quantity: int) -> dict:
    total = unit_amount * quantity
    return {
        "id": random_id("li_"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": total,
        "amount_tax": 0,
        "amount_total": total,
        "currency": currency,
        "description": name,
        "price": {
            "id": random_id("price_"),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": now(),
            "currency": currency,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": random_id("prod_", 14),
            "recurring": None,
            "tax_behavior": "unspecified",
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
        "quantity": quantity,
    }


def build_session(
    session_id: str,
    params: dict,
    line_items: list[dict],
    currency: str,
    methods: list[str],
    created: int,
    expires_at: int,
    account,
) -> dict:
    total = sum(item["amount_total"] for item in line_items)
    return {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": params.get("cancel_url") or None,
        "client_reference_id": params.get("client_reference_id") or None,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": params.get("customer_email") or None,
        "expires_at": expires_at,
        "invoice": None,
        "livemode": account.livemode,
        "locale": params.get("locale") or None,
        "metadata": dict(params.get("metadata") or {}),
        "mode": "payment",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_options": {},
        "payment_method_types": list(methods),
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url") or None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
    }


def build_payment_intent(
    amount: int, currency: str, method: str, intent_data: dict, livemode: bool
) -> dict:
    intent_id = random_id("pi_")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{random_id('', 25)}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": currency,
        "customer": None,
        "description": intent_data.get("description") or None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": livemode,
        "metadata": dict(intent_data.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": [method],
        "processing": None,
        "receipt_email": intent_data.get("receipt_email") or None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def _method_details(method: str, succeeded: bool) -> dict:
    if method == "pix":
        return {"type": "pix", "pix": {"bank_transaction_id": random_id("E", 31)}}
    return {
        "type": "card",
        "card": {
            "brand": "visa",
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": random_id("", 16),
            "funding": "credit",
            "last4": "4242" if succeeded else "0002",
            "network": "visa",
        },
    }


def build_charge(intent: dict, succeeded: bool, email: str | None) -> dict:
    method = intent["payment_method_types"][0]
    amount = intent["amount"]
    outcome = (
        {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
        if succeeded
        else {
            "network_status": "declined_by_network",
            "reason": "generic_decline",
            "risk_level": "normal",
            "risk_score": 40,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }
    )
    return {
        "id": random_id("ch_"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": random_id("txn_") if succeeded else None,
        "billing_details": {"address": None, "email": email, "name": None, "phone": None},
        "calculated_statement_descriptor": "EMULATED MERCHANT",
        "captured": succeeded,
        "created": now(),
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None if succeeded else "Your card was declined.",
        "fraud_details": {},
        "livemode": intent["livemode"],
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"] or random_id("pm_"),
        "payment_method_details": _method_details(method, succeeded),
        "receipt_email": intent["receipt_email"],
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def card_decline_error(charge: dict) -> dict:
    return {
        "charge": charge["id"],
        "code": "card_declined",
        "decline_code": "generic_decline",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card was declined.",
        "payment_method": {
            "id": charge["payment_method"],
            "object": "payment_method",
            "card": charge["payment_method_details"]["card"],
            "type": "card",
        },
        "type": "card_error",
    }


def pix_expired_error(intent: dict) -> dict:
    return {
        "code": "payment_intent_payment_attempt_expired",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-payment-attempt-expired",
        "message": "The payment attempt for this PaymentIntent has expired.",
        "payment_method": {
            "id": intent["payment_method"],
            "object": "payment_method",
            "type": "pix",
        },
        "type": "invalid_request_error",
    }


def build_refund(charge: dict, amount: int, params: dict) -> dict:
    return {
        "id": random_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": random_id("txn_"),
        "charge": charge["id"],
        "created": now(),
        "currency": charge["currency"],
        "destination_details": None,
        "metadata": dict(params.get("metadata") or {}),
        "payment_intent": charge["payment_intent"],
        "reason": params.get("reason") or None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "pending",
        "transfer_reversal": None,
    }
