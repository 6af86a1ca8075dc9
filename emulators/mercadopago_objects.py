"""Builders of Mercado Pago's JSON objects (preferences, payments, refunds, notifications).

Amounts are `Decimal`s in major units; the server writes them as plain JSON numbers.
"""

import uuid
import zlib
from decimal import Decimal

from emulators.common import mp_datetime

SITES = {
    "ARS": "MLA",
    "BRL": "MLB",
    "CLP": "MLC",
    "MXN": "MLM",
    "COP": "MCO",
    "PEN": "MPE",
    "UYU": "MLU",
}


def empty_payer() -> dict:
    return {
        "phone": {"area_code": "", "number": ""},
        "address": {"zip_code": "", "street_name": "", "street_number": None},
        "email": "",
        "identification": {"number": "", "type": ""},
        "name": "",
        "surname": "",
        "date_created": None,
        "last_purchase": None,
    }


def build_preference(body: dict, items: list[dict], account, site_id: str, base_url: str) -> dict:
    preference_id = f"{account.user_id}-{uuid.uuid4()}"
    link = f"{base_url}/checkout/v1/redirect?pref_id={preference_id}"
    payer = empty_payer()
    payer.update(body.get("payer") or {})
    return {
        "additional_info": body.get("additional_info") or "",
        "auto_return": body.get("auto_return") or "",
        "back_urls": {"failure": "", "pending": "", "success": "", **(body.get("back_urls") or {})},
        "binary_mode": bool(body.get("binary_mode", False)),
        "client_id": str(account.client_id),
        "collector_id": account.user_id,
        "coupon_code": None,
        "coupon_labels": None,
        "date_created": mp_datetime(),
        "date_of_expiration": body.get("date_of_expiration"),
        "expiration_date_from": body.get("expiration_date_from"),
        "expiration_date_to": body.get("expiration_date_to"),
        "expires": bool(body.get("expires", False)),
        "external_reference": body.get("external_reference") or "",
        "id": preference_id,
        "init_point": link,
        "internal_metadata": None,
        "items": items,
        "last_updated": None,
        "marketplace": "NONE",
        "marketplace_fee": 0,
        "metadata": body.get("metadata") or {},
        "notification_url": body.get("notification_url"),
        "operation_type": "regular_payment",
        "payer": payer,
        "payment_methods": body.get("payment_methods")
        or {
            "default_card_id": None,
            "default_payment_method_id": None,
            "excluded_payment_methods": [{"id": ""}],
            "excluded_payment_types": [{"id": ""}],
            "installments": None,
            "default_installments": None,
        },
        "processing_modes": None,
        "product_id": None,
        "redirect_urls": {"failure": "", "pending": "", "success": ""},
        "sandbox_init_point": link,
        "site_id": site_id,
        "shipments": {"default_shipping_method": None, "receiver_address": {}},
        "statement_descriptor": body.get("statement_descriptor"),
        "total_amount": None,
    }


def build_payment(
    account,
    payment_id: int,
    *,
    amount: Decimal,
    currency: str,
    method_id: str,
    status: str,
    status_detail: str,
    description: str | None,
    external_reference: str | None,
    payer_email: str,
    metadata: dict,
    notification_url: str | None,
    order_id: int | None = None,
    date_of_expiration: str | None = None,
) -> dict:
    stamp = mp_datetime()
    card = method_id != "pix"
    type_id = "credit_card" if card else "bank_transfer"
    approved = status == "approved"
    return {
        "id": payment_id,
        "acquirer_reconciliation": [],
        "additional_info": {},
        "authorization_code": "301299" if card and approved else None,
        "binary_mode": False,
        "call_for_authorize_id": None,
        "captured": True,
        "card": {"first_six_digits": "503143", "last_four_digits": "6351"} if card else {},
        "charges_details": [],
        "collector_id": account.user_id,
        "corporation_id": None,
        "counter_currency": None,
        "coupon_amount": 0,
        "currency_id": currency,
        "date_approved": stamp if approved else None,
        "date_created": stamp,
        "date_last_updated": stamp,
        "date_of_expiration": date_of_expiration,
        "deduction_schema": None,
        "description": description,
        "differential_pricing_id": None,
        "external_reference": external_reference,
        "fee_details": [],
        "installments": 1,
        "integrator_id": None,
        "issuer_id": "24" if card else None,
        "live_mode": False,
        "marketplace_owner": None,
        "merchant_account_id": None,
        "merchant_number": None,
        "metadata": metadata,
        "money_release_date": stamp if approved else None,
        "notification_url": notification_url,
        "operation_type": "regular_payment",
        "order": {"id": str(order_id), "type": "mercadopago"} if order_id else {},
        "payer": {
            "email": payer_email,
            "entity_type": None,
            "first_name": None,
            "id": str(1_000_000_000 + zlib.crc32(payer_email.encode()) % 1_000_000_000),
            "identification": {"number": None, "type": None},
            "last_name": None,
            "operator_id": None,
            "phone": {"area_code": None, "extension": None, "number": None},
            "type": None,
        },
        "payment_method": {"id": method_id, "type": type_id, "issuer_id": "24" if card else None},
        "payment_method_id": method_id,
        "payment_type_id": type_id,
        "platform_id": None,
        "point_of_interaction": {"type": "UNSPECIFIED", "business_info": {}},
        "pos_id": None,
        "processing_mode": "aggregator",
        "refunds": [],
        "shipping_amount": 0,
        "sponsor_id": None,
        "statement_descriptor": "EMULATEDMERCHANT" if card else None,
        "status": status,
        "status_detail": status_detail,
        "store_id": None,
        "taxes_amount": 0,
        "transaction_amount": amount,
        "transaction_amount_refunded": Decimal(0),
        "transaction_details": {
            "acquirer_reference": None,
            "external_resource_url": None,
            "financial_institution": None,
            "installment_amount": amount if card else 0,
            "net_received_amount": amount if approved else 0,
            "overpaid_amount": 0,
            "payable_deferral_period": None,
            "payment_method_reference_id": None,
            "total_paid_amount": amount,
        },
    }


def pix_interaction(code: str, qr_base64: str, ticket_url: str) -> dict:
    return {
        "type": "PIX",
        "sub_type": None,
        "application_data": {"name": None, "version": None},
        "transaction_data": {
            "qr_code": code,
            "qr_code_base64": qr_base64,
            "ticket_url": ticket_url,
            "transaction_id": None,
            "bank_transfer_id": None,
            "financial_institution": None,
            "bank_info": {
                "payer": {"account_id": None, "id": None, "long_name": None},
                "collector": {"account_id": None, "long_name": None, "account_holder_name": None},
                "is_same_bank_account_owner": None,
            },
        },
    }


def build_refund(refund_id: int, payment: dict, amount: Decimal, account) -> dict:
    return {
        "id": refund_id,
        "payment_id": payment["id"],
        "amount": amount,
        "amount_refunded_to_payer": amount,
        "adjustment_amount": 0,
        "date_created": mp_datetime(),
        "labels": [],
        "metadata": {},
        "partition_details": [],
        "reason": None,
        "refund_mode": "standard",
        "source": {"id": str(account.user_id), "name": "Emulated Merchant", "type": "collector"},
        "status": "approved",
        "unique_sequence_number": None,
    }


def redirect_query(payment: dict, preference: dict, merchant_order_id: int) -> dict:
    """The query string Checkout Pro appends to `back_urls` (MP writes `null` for absent)."""
    return {
        "collection_id": str(payment["id"]),
        "collection_status": payment["status"],
        "payment_id": str(payment["id"]),
        "status": payment["status"],
        "external_reference": preference["external_reference"] or "null",
        "payment_type": payment["payment_type_id"],
        "merchant_order_id": str(merchant_order_id),
        "preference_id": preference["id"],
        "site_id": preference["site_id"],
        "processing_mode": "aggregator",
        "merchant_account_id": "null",
    }
