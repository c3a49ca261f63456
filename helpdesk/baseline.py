"""The benchmark's yardstick: the cheapest page an authenticated Django request can be (session, user,
one indexed query). `make bench` reports each page's throughput as a share of this one's. Its URL exists
only when ACOLHE_BENCH_BASELINE is set, so production never serves it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from tickets.models import Ticket


@login_required
@require_GET
def baseline(request):
    try:
        number = int(request.GET.get("number", "1"))
    except ValueError:
        number = 1
    subject = Ticket.objects.filter(number=number).values_list("subject", flat=True).first()
    return HttpResponse(subject or "", content_type="text/plain; charset=utf-8")
