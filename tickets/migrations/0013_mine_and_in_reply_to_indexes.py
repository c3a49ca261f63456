# "My tickets" from a partial index of active tickets by assignee and last change; replies found by In-Reply-To.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0012_sla_check'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_assignee_status',
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('in_reply_to', ''), _negated=True), fields=['in_reply_to'], name='message_in_reply_to'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(models.F('assignee'), models.OrderBy(models.F('updated_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('status__in', ['new', 'open', 'pending', 'on_hold'])), name='ticket_mine_updated'),
        ),
    ]
