"""The ESP for `make faults`: each mail it accepts is written to a file (one per send, so a duplicate shows),
after a fifth of a second's round trip, as an ESP's API takes: long enough for a worker to die mid-send."""

import os
import time

from django.core.mail.backends.filebased import EmailBackend

ROUND_TRIP_SECONDS = 0.2


class SlowFileESP(EmailBackend):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file_path", os.environ["ACOLHE_FAULTS_OUTBOX"])
        super().__init__(*args, **kwargs)

    def send_messages(self, email_messages):
        time.sleep(ROUND_TRIP_SECONDS)
        return super().send_messages(email_messages)
