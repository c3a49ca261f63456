"""Privacy (LGPD / GDPR): export and erase what is held about a requester, and retention per queue."""
