"""The feedback capability's repositories: SES feedback, suppressions and stats, SMS opt-out sync
claims, push endpoints."""
