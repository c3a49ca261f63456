from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Keyset pagination (stable and fast at millions of rows), newest first."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
