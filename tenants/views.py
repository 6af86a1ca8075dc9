from django.shortcuts import render


def platform_home(request):
    """The public schema's page: what this site is. It lists no operator and nothing private."""
    return render(request, "tenants/platform_home.html")


def unknown_host(request):
    return render(request, "tenants/unknown_host.html", {"host": request.get_host()}, status=404)
