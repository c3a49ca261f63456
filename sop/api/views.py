"""The SOP API. Querysets come from selectors; writes go through services, as on the pages."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from helpdesk.pagination import CheckedCursorPagination
from sop import selectors, services
from sop.api.serializers import (
    AcknowledgementSerializer,
    DiffLineSerializer,
    MacroSerializer,
    RenderedMacroSerializer,
    SOPSerializer,
    SOPVersionSerializer,
    SOPVersionUpdateSerializer,
)
from sop.models import Acknowledgement, SOPVersion
from tickets import selectors as ticket_selectors


class ManagersWrite(permissions.BasePermission):
    """Everyone signed in reads; team leads and admins write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or selectors.can_manage_sops(request.user)


class SOPViewSet(viewsets.ModelViewSet):
    serializer_class = SOPSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    lookup_field = "slug"
    filterset_fields = ["category", "is_active"]
    ordering = "title"
    pagination_class = None

    def get_queryset(self):
        return (
            selectors.sops_visible_to(self.request.user)
            .prefetch_related("queues", Prefetch("versions", queryset=SOPVersion.objects.filter(is_current=True)))
            .order_by("title")
        )


@extend_schema_view(
    list=extend_schema(
        description=_("Create drafts, change drafts, publish, compare. Published versions never change.")
    ),
    retrieve=extend_schema(description=_("One version of a procedure, with its checklist.")),
    create=extend_schema(description=_("Write a new draft of a procedure.")),
    update=extend_schema(description=_("Change a draft; published versions never change.")),
    partial_update=extend_schema(description=_("Change a draft; published versions never change.")),
    publish=extend_schema(description=_("Publish this draft: it becomes the current version and never changes.")),
    acknowledge=extend_schema(description=_("Confirm that you have read this version.")),
)
class SOPVersionViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Create drafts, change drafts, publish, compare. Published versions never change."""

    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    filterset_fields = ["sop__slug", "language", "status", "is_current", "must_read"]
    ordering = "-created_at"

    def get_queryset(self):
        return (
            selectors.versions_visible_to(self.request.user).select_related("sop", "author").prefetch_related("steps")
        )

    def get_serializer_class(self):
        return SOPVersionUpdateSerializer if self.action in {"update", "partial_update"} else SOPVersionSerializer

    @staticmethod
    def _steps(data) -> list[tuple[str, bool]]:
        return [(step["text"], step.get("required", False)) for step in data.get("steps", [])]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.create_version(
            data["sop"],
            language=data["language"],
            title=data["title"],
            body=data.get("body", ""),
            steps=self._steps(data),
            change_summary=data.get("change_summary", ""),
            must_read=data.get("must_read", False),
            actor=self.request.user,
        )

    def perform_update(self, serializer):
        version = serializer.instance
        data = serializer.validated_data
        try:
            serializer.instance = services.update_draft(
                version,
                title=data.get("title", version.title),
                body=data.get("body", version.body),
                steps=self._steps(data) if "steps" in data else [(s.text, s.required) for s in version.steps.all()],
                change_summary=data.get("change_summary", version.change_summary),
                must_read=data.get("must_read", version.must_read),
            )
        except services.SOPError as exc:
            raise ValidationError(str(exc)) from exc

    @extend_schema(request=None, responses=SOPVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        try:
            version = services.publish_version(self.get_object(), actor=request.user)
        except services.SOPError as exc:
            raise ValidationError(str(exc)) from exc
        return Response(SOPVersionSerializer(self.get_queryset().get(pk=version.pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("other", int, description=_("The version to compare with."))],
        responses=DiffLineSerializer(many=True),
        description=_("Lines from `other` to this version."),
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        try:
            other = self.get_queryset().get(pk=int(request.query_params.get("other", "")))
        except (ValueError, SOPVersion.DoesNotExist) as exc:
            raise NotFound("other version not found") from exc
        lines = services.version_diff(other, self.get_object())
        return Response(DiffLineSerializer(lines, many=True).data)

    @extend_schema(request=None, responses=AcknowledgementSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def acknowledge(self, request, pk=None):
        ack = services.acknowledge(self.get_object(), actor=request.user)
        return Response(AcknowledgementSerializer(ack).data, status=status.HTTP_200_OK)


class NewestRequestFirst(CheckedCursorPagination):
    ordering = ("-requested_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(
        description=_("Mine; team leads and admins also see the acknowledgements of the people in their queues.")
    ),
    retrieve=extend_schema(description=_("One acknowledgement of a procedure version.")),
    acknowledge=extend_schema(description=_("Confirm that you have read this version.")),
)
class AcknowledgementViewSet(viewsets.ReadOnlyModelViewSet):
    """Mine; team leads and admins also see the acknowledgements of the people in their queues."""

    serializer_class = AcknowledgementSerializer
    pagination_class = NewestRequestFirst
    filterset_fields = ["version", "version__sop__slug"]
    ordering = "-requested_at"

    def get_queryset(self):
        user = self.request.user
        acks = Acknowledgement.objects.select_related("user", "version__sop")
        scope = acks.filter(user=user)
        if selectors.can_manage_sops(user):
            if ticket_selectors.is_admin(user):
                return acks
            queues = ticket_selectors.queues_visible_to(user)
            scope = acks.filter(pk__in=acks.filter(user__support_queues__in=queues).values("pk")) | scope
        pending = self.request.query_params.get("pending")
        if pending in {"true", "1"}:
            scope = scope.filter(acknowledged_at__isnull=True, version__is_current=True)
        return scope

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        ack = self.get_object()
        if ack.user_id != request.user.pk:
            raise NotFound
        ack = services.acknowledge(ack.version, actor=request.user)
        return Response(AcknowledgementSerializer(ack).data)


class MacroViewSet(viewsets.ModelViewSet):
    serializer_class = MacroSerializer
    filterset_fields = ["sop__slug", "is_active"]
    ordering = "name"
    pagination_class = None

    def get_queryset(self):
        if self.action in {"list", "retrieve", "rendered"}:
            return selectors.macros_for(self.request.user).select_related("sop", "set_queue")
        return selectors.macros_editable_by(self.request.user).select_related("sop", "set_queue")

    def _save(self, serializer, macro=None):
        data = dict(serializer.validated_data)
        shared = data.pop("is_shared", macro.is_shared if macro else False)
        serializer.instance = services.save_macro(macro, actor=self.request.user, shared=shared, **data)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    @extend_schema(
        parameters=[OpenApiParameter("ticket", int, description=_("The ticket number."))],
        responses=RenderedMacroSerializer,
        description=_("The body for a ticket: its language (else the other), variables filled."),
    )
    @action(detail=True, methods=["get"])
    def rendered(self, request, pk=None):
        try:
            number = int(request.query_params.get("ticket", ""))
        except ValueError as exc:
            raise NotFound("ticket not found") from exc
        ticket = ticket_selectors.ticket_for(request.user, number)
        if ticket is None:
            raise NotFound("ticket not found")
        rendered = services.render_macro(self.get_object(), ticket, actor=request.user)
        return Response(RenderedMacroSerializer(rendered).data)
