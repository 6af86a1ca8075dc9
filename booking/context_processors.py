from django.urls import NoReverseMatch, reverse


def shop_links(request):
    """Links of the operator's shop that the layout shows on every page (base.html names no
    app): "find my booking". Empty on the platform's own site."""
    try:
        find = reverse("booking:find")
    except NoReverseMatch:  # the platform's own URLs have no shop
        find = ""
    return {"find_booking_url": find}
