"""The REST API root: every app registers its viewsets on one router."""

from rest_framework.routers import DefaultRouter

from tickets.api.views import MessageViewSet, QueueViewSet, TicketViewSet

router = DefaultRouter()
router.register("queues", QueueViewSet, basename="queue")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls
