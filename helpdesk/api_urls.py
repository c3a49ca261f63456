"""The REST API root: every app registers its viewsets on one router."""

from rest_framework.routers import DefaultRouter

from metrics.api.views import CsatSurveyViewSet, DailyStatsViewSet, ReviewViewSet, ScorecardViewSet
from sop.api.views import AcknowledgementViewSet, MacroViewSet, SOPVersionViewSet, SOPViewSet
from tickets.api.views import MessageViewSet, QueueViewSet, TicketViewSet
from tickets.escalations.api import EscalationRuleViewSet, EscalationViewSet
from tickets.sla.api import SlaPolicyViewSet

router = DefaultRouter()
router.register("queues", QueueViewSet, basename="queue")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("messages", MessageViewSet, basename="message")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("escalation-rules", EscalationRuleViewSet, basename="escalation-rule")
router.register("escalations", EscalationViewSet, basename="escalation")
router.register("sops", SOPViewSet, basename="sop")
router.register("sop-versions", SOPVersionViewSet, basename="sop-version")
router.register("acknowledgements", AcknowledgementViewSet, basename="acknowledgement")
router.register("macros", MacroViewSet, basename="macro")
router.register("metrics/daily", DailyStatsViewSet, basename="metrics-daily")
router.register("qa/scorecards", ScorecardViewSet, basename="qa-scorecard")
router.register("qa/reviews", ReviewViewSet, basename="qa-review")
router.register("csat", CsatSurveyViewSet, basename="csat")

urlpatterns = router.urls
