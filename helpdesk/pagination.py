from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class CheckedCursorPagination(CursorPagination):
    """DRF's keyset pagination, answering 400 to a cursor it did not write: one that does not decode
    (DRF says 404) or whose position does not fit the ordering column (a date that is not one was a 500)."""

    # Lazy, as DRF's own default is (its stubs type the attribute as str).
    invalid_cursor_message = _("This page link is not valid any more; open the list again from its first page.")  # type: ignore[assignment]

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, OverflowError) as exc:
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc


class NewestFirstCursorPagination(CheckedCursorPagination):
    """Keyset pagination (stable and fast at millions of rows), newest first."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
