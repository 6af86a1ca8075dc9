def operator(request):
    """The operator whose site this is, or None on the platform's own pages."""
    tenant = getattr(request, "tenant", None)
    return {"operator": tenant if tenant is not None and tenant.schema_name != "public" else None}
