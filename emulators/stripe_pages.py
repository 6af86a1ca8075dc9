"""The hosted Stripe Checkout page: plain, accessible HTML whose content follows the state.

Buttons (accessible names): "Pay" and "Decline" for cards; "Continue" and "Pix paid" for Pix.
After a decline the page says "Your card was declined." with a "Back to the shop" link.
"""

from emulators.common import button_form, esc, format_minor, page


def success_url(session: dict) -> str | None:
    url = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _link(url: str | None, label: str) -> str:
    return f'<p><a href="{esc(url)}">{esc(label)}</a></p>' if url else ""


def _pix_block(session_id: str, code: str, qr_base64: str, show_continue: bool) -> str:
    buttons = button_form(f"/checkout/{session_id}/continue", "Continue", primary=True)
    if not show_continue:
        buttons = ""
    return (
        '<section aria-labelledby="pix-title"><h2 id="pix-title">Pix</h2>'
        f'<img class="qr" src="data:image/png;base64,{qr_base64}" alt="Pix QR code">'
        '<p><label for="pix-code">Pix copy-paste code</label></p>'
        f'<textarea id="pix-code" rows="4" readonly>{esc(code)}</textarea>'
        f"<div>{buttons}{button_form(f'/checkout/{session_id}/pix-paid', 'Pix paid')}</div>"
        "</section>"
    )


def _card_block(session_id: str) -> str:
    return (
        '<section aria-labelledby="card-title"><h2 id="card-title">Card</h2>'
        "<p>Test card •••• 4242</p>"
        f"{button_form(f'/checkout/{session_id}/pay', 'Pay', primary=True)}"
        f"{button_form(f'/checkout/{session_id}/decline', 'Decline')}"
        "</section>"
    )


def _state_block(session: dict, intent: dict | None, extra: dict, qr_base64: str) -> str:
    status, session_id = session["status"], session["id"]
    intent_status = intent["status"] if intent else None
    if status == "expired":
        return (
            '<p role="alert">This checkout session has expired.</p>'
            f"{_link(session['cancel_url'], 'Back to the shop')}"
        )
    if status == "complete" and session["payment_status"] == "paid":
        return (
            '<p role="status">Payment complete.</p>'
            f"{_link(success_url(session), 'Back to the shop')}"
        )
    if status == "complete" and intent_status == "requires_action":
        return (
            '<p role="status">Waiting for your Pix payment.</p>'
            f"{_pix_block(session_id, extra['pix_code'], qr_base64, show_continue=False)}"
            f"{_link(success_url(session), 'Back to the shop')}"
        )
    if status == "complete":
        return (
            '<p role="alert">The Pix payment expired.</p>'
            f"{_link(success_url(session), 'Back to the shop')}"
        )
    parts = []
    error = (intent or {}).get("last_payment_error") or {}
    declined = intent_status == "requires_payment_method" and error.get("type") == "card_error"
    if declined:
        parts.append(f'<p role="alert">{esc(error["message"])}</p>')
        parts.append(_link(session["cancel_url"], "Back to the shop"))
    if "card" in session["payment_method_types"]:
        parts.append(_card_block(session_id))
    if extra["pix_code"]:
        parts.append(_pix_block(session_id, extra["pix_code"], qr_base64, show_continue=True))
    if not declined:
        parts.append(_link(session["cancel_url"], "Cancel"))
    return "".join(parts)


def checkout_page(
    session: dict, line_items: list[dict], intent: dict | None, extra: dict, qr_base64: str
) -> str:
    total = format_minor(session["amount_total"], session["currency"])
    items = "".join(
        f"<li>{esc(item['description'])} × {item['quantity']}: "
        f"{esc(format_minor(item['amount_total'], item['currency']))}</li>"
        for item in line_items
    )
    body = (
        "<h1>Checkout</h1>"
        f'<p class="amount" aria-label="Amount due">{esc(total)}</p>'
        f'<ul aria-label="Items">{items}</ul>'
        f"{_state_block(session, intent, extra, qr_base64)}"
    )
    return page(f"Pay {total}", body, lang="en")


def message_page(message: str, status_role: str = "alert") -> str:
    return page("Checkout", f'<h1>Checkout</h1><p role="{status_role}">{esc(message)}</p>')
