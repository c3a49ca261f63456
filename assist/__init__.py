"""Assist: suggestions from similar solved tickets (no model, on for everyone) and, where a queue opts in and a
provider is configured, generative help (summary, reply draft, translation, a second sensitivity opinion)."""
