"""Database models. The schema is created and changed only by the Alembic migrations in
``authserver/migrations``; these classes describe it for the ORM."""

from __future__ import annotations

from authserver.models.audit import AuditEvent
from authserver.models.backend import ChatBackend
from authserver.models.browser import AuthorizationCode, AuthorizationRequest, BrowserSession, RefreshToken
from authserver.models.client import Client
from authserver.models.console import ConsoleLink, ConsoleSession
from authserver.models.event import DeliveryAttempt, Event, WebhookDelivery, WebhookSubscription, WorkerLease
from authserver.models.idp import IdentityProvider
from authserver.models.realm import Realm
from authserver.models.registration import InitialAccessToken
from authserver.models.replay import ReplayEntry
from authserver.models.session import DeviceSession, RevokedToken
from authserver.models.signing_key import KeyState, SigningKey
from authserver.models.user import IdentityLink, MonthlyUsage, User

__all__ = ["AuditEvent", "AuthorizationCode", "AuthorizationRequest", "BrowserSession", "ChatBackend",
           "Client", "ConsoleLink", "ConsoleSession", "DeliveryAttempt", "DeviceSession", "Event", "IdentityLink",
           "IdentityProvider", "InitialAccessToken", "KeyState", "MonthlyUsage", "Realm", "RefreshToken",
           "ReplayEntry", "RevokedToken", "SigningKey", "User", "WebhookDelivery", "WebhookSubscription",
           "WorkerLease"]
