"""Mercado Pago's hosted pages: Checkout Pro ("Pay", "Decline") and the Pix ticket ("Pix paid")."""

from emulators.common import button_form, esc, format_major, page


def checkout_page(preference: dict, total, currency: str, expired: bool) -> str:
    items = "".join(
        f"<li>{esc(item['title'])} × {item['quantity']}: "
        f"{esc(format_major(item['unit_price'] * item['quantity'], currency))}</li>"
        for item in preference["items"]
    )
    if expired:
        actions = '<p role="alert">This payment link has expired.</p>'
    else:
        base = f"/checkout/v1/preferences/{preference['id']}"
        actions = (
            "<p>Test card •••• 6351</p>"
            f"{button_form(f'{base}/pay', 'Pay', primary=True)}"
            f"{button_form(f'{base}/decline', 'Decline')}"
        )
    body = (
        "<h1>Mercado Pago</h1>"
        f'<p class="amount" aria-label="Amount due">{esc(format_major(total, currency))}</p>'
        f'<ul aria-label="Items">{items}</ul>{actions}'
    )
    return page(f"Mercado Pago - {format_major(total, currency)}", body)


def result_page(payment: dict) -> str:
    approved = payment["status"] == "approved"
    role = "status" if approved else "alert"
    text = "Payment approved." if approved else "Your payment was declined."
    return page("Mercado Pago", f'<h1>Mercado Pago</h1><p role="{role}">{text}</p>')


def pix_page(payment: dict) -> str:
    data = payment["point_of_interaction"]["transaction_data"]
    status = payment["status"]
    total = format_major(payment["transaction_amount"], payment["currency_id"])
    if status == "pending":
        paid = button_form(f"/pix/{payment['id']}/paid", "Pix paid", primary=True)
        state = f'<p role="status">Waiting for your Pix payment.</p>{paid}'
    elif status == "approved":
        state = '<p role="status">Payment approved.</p>'
    else:
        state = f'<p role="alert">This Pix payment is {esc(status)}.</p>'
    body = (
        "<h1>Pix</h1>"
        f'<p class="amount" aria-label="Amount due">{esc(total)}</p>'
        f"<p>{esc(payment['description'] or '')}</p>"
        f'<img class="qr" src="data:image/png;base64,{data["qr_code_base64"]}" alt="Pix QR code">'
        '<p><label for="pix-code">Pix copy-paste code</label></p>'
        f'<textarea id="pix-code" rows="4" readonly>{esc(data["qr_code"])}</textarea>'
        f"{state}"
    )
    return page(f"Pix - {total}", body, lang="en")


def message_page(message: str) -> str:
    return page("Mercado Pago", f'<h1>Mercado Pago</h1><p role="alert">{esc(message)}</p>')
