"""Notification service for an online cinema: events in, e-mail, SMS and push out."""
