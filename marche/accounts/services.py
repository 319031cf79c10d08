"""Commands about people: households signing up with an e-mail check, invitations.

Sign-up never tells who has an account: whatever the address, the page answers the same,
and the e-mail (a link to confirm, or a note that an account already exists) goes to the
address itself. An account made by sign-up stays inactive, so it cannot log in or order,
until the signed, time-limited link sent to its address is followed.

Invitations are how farmers, canteen managers, drivers and relay keepers join: a coordinator
names the address, the role and what the role acts on (the producer, the canteen, the relay
point); the invitee gets a one-time link, valid for :data:`INVITATION_VALIDITY`, where they
choose their name and password, and is attached to it on accepting.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marche.accounts.errors import (
    EmailAlreadyUsed,
    InvitationExpired,
    InvitationForbidden,
    InvitationInvalid,
    InvitationTargetInvalid,
    VerificationLinkExpired,
    VerificationLinkInvalid,
)
from marche.accounts.models import INVITED_ROLES, Invitation, Role, User
from marche.canteens.models import Canteen
from marche.core.mail import email_enqueue, render_text
from marche.producers.models import Producer, ProducerMembership
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from marche.territories.selectors import territory_from_email

logger = logging.getLogger(__name__)

VERIFY_SALT = "marche.accounts.email-verify"
VERIFY_MAX_AGE = timedelta(days=3)
# One confirmation e-mail per address in this window, however often "resend" is pressed.
RESEND_INTERVAL = timedelta(minutes=2)
INVITATION_VALIDITY = timedelta(days=14)


# E-mail ----------------------------------------------------------------------------------------


def _send(
    *, template: str, to: str, context: dict[str, object], territory: Territory | None
) -> None:
    """Queue ``accounts/email/<template>`` through the outbox, in the caller's transaction.

    The e-mail is sent by a task once the broker takes it: a broker or mailer outage delays
    it, never loses it, and never fails the page. It comes from the territory's sender.
    """
    subject = render_text(f"accounts/email/{template}_subject.txt", context).strip()
    body = render_text(f"accounts/email/{template}.txt", context)
    email_enqueue(
        subject=subject, body=body, to=to, from_email=territory_from_email(territory=territory)
    )


def _normalize(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


# Sign-up and e-mail check ----------------------------------------------------------------------


def email_verification_token(*, user: User) -> str:
    """A signed token naming the account and its address; checked with its age."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT, compress=True)


def _verification_send(*, user: User, site_url: str) -> None:
    path = reverse("accounts:verify", kwargs={"token": email_verification_token(user=user)})
    _send(
        template="verify",
        to=user.email,
        territory=user.territory,
        context={
            "user": user,
            "link": site_url + path,
            "days": VERIFY_MAX_AGE.days,
        },
    )


def user_awaiting_check(user: User) -> bool:
    """An account made by sign-up whose link was never followed (not one a coordinator closed)."""
    return not user.is_active and user.email_verified_at is None and user.last_login is None


def household_sign_up(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    territory: Territory | None,
    site_url: str,
    now: datetime | None = None,
) -> User | None:
    """Open an inactive household account and send the link that confirms its address.

    Returns the new account, or None when the address already has one: that address then
    receives a note (or, if it never confirmed, a fresh link), and the caller shows the same
    page either way, so sign-up cannot be used to learn who has an account.
    """
    email = _normalize(email)
    now = now or timezone.now()
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    password,
                    first_name=first_name.strip()[:150],
                    last_name=last_name.strip()[:150],
                    role=Role.HOUSEHOLD,
                    territory=territory,
                    is_active=False,
                    terms_accepted_at=now,
                )
        except IntegrityError:  # the same address signed up at the same moment
            existing = User.objects.filter(email=email).first()
            if existing is None:
                raise
        else:
            _verification_send(user=user, site_url=site_url)
            return user
    if user_awaiting_check(existing):
        _verification_resend_throttled(user=existing, site_url=site_url)
    else:
        _send(
            template="account_exists",
            to=existing.email,
            territory=existing.territory,
            context={
                "user": existing,
                "login_link": site_url + reverse("accounts:login"),
                "reset_link": site_url + reverse("accounts:password_reset"),
            },
        )
    return None


def _verification_resend_throttled(*, user: User, site_url: str) -> None:
    key = "accounts:verify-sent:" + hashlib.sha256(user.email.encode()).hexdigest()
    try:
        first = cache.add(key, 1, timeout=int(RESEND_INTERVAL.total_seconds()))
    except Exception:  # a cache outage must not stop a household from confirming
        logger.warning("Cache unreachable: confirmation e-mail sent without throttling")
        first = True
    if first:
        _verification_send(user=user, site_url=site_url)


def email_verification_resend(*, email: str, site_url: str) -> None:
    """Send a new confirmation link if this address signed up and never confirmed.

    Says nothing either way (the page is the same for every address), and sends at most one
    e-mail per address every :data:`RESEND_INTERVAL`.
    """
    user = User.objects.filter(email=_normalize(email)).first()
    if user is not None and user_awaiting_check(user):
        _verification_resend_throttled(user=user, site_url=site_url)


def email_verify(*, token: str, now: datetime | None = None) -> tuple[User, bool]:
    """Follow a confirmation link: activate the account. Returns (user, activated now).

    The link names the account and its address and is signed with the site's secret; it
    works for :data:`VERIFY_MAX_AGE`. Activation is one conditional UPDATE, so a link
    followed twice (or twice at once) activates once; an account a coordinator closed
    after it was confirmed is never reopened by an old link.
    """
    try:
        data = signing.loads(token[:500], salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE.total_seconds())
    except signing.SignatureExpired as error:
        raise VerificationLinkExpired() from error
    except signing.BadSignature as error:
        raise VerificationLinkInvalid() from error
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise VerificationLinkInvalid()
    now = now or timezone.now()
    candidates = User.objects.filter(pk=data["u"], email=data.get("e"))
    activated = candidates.filter(
        is_active=False, email_verified_at__isnull=True, last_login__isnull=True
    ).update(is_active=True, email_verified_at=now)
    user = candidates.first()
    if user is None or not (activated or user.email_verified_at is not None):
        raise VerificationLinkInvalid()
    return user, bool(activated)


# Invitations -----------------------------------------------------------------------------------


def user_can_invite(user: User) -> bool:
    """Coordinators (and superusers) invite; nobody else."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role == Role.COORDINATOR)
    )


def invitation_territories(*, by: User) -> list[Territory]:
    """The territories a coordinator invites into: their own, or all if they have none."""
    territories = Territory.objects.filter(is_active=True).order_by("name")
    if by.territory_id is not None and not by.is_superuser:
        territories = territories.filter(pk=by.territory_id)
    return list(territories)


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invitation_create(
    *,
    by: User,
    email: str,
    role: str,
    territory: Territory,
    producer: Producer | None = None,
    canteen: Canteen | None = None,
    relay_point: RelayPoint | None = None,
    site_url: str,
    now: datetime | None = None,
) -> Invitation:
    """Invite a farmer, canteen manager, driver or relay keeper; e-mails them a one-time link.

    A new invitation to the same address revokes the earlier ones still pending, so only
    the latest link works.
    """
    if not user_can_invite(by) or territory not in invitation_territories(by=by):
        raise InvitationForbidden()
    email = _normalize(email)
    if role not in {r.value for r in INVITED_ROLES}:
        raise InvitationTargetInvalid()
    if (
        (role == Role.FARMER) != (producer is not None)
        or (role == Role.CANTEEN_MANAGER) != (canteen is not None)
        or (role == Role.RELAY_KEEPER) != (relay_point is not None)
        or (producer is not None and producer.territory_id != territory.pk)
        or (canteen is not None and canteen.territory_id != territory.pk)
        or (relay_point is not None and relay_point.territory_id != territory.pk)
    ):
        raise InvitationTargetInvalid()
    if User.objects.filter(email=email).exists():
        raise EmailAlreadyUsed()
    now = now or timezone.now()
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            territory=territory,
            producer=producer,
            canteen=canteen,
            relay_point=relay_point,
            invited_by=by,
            token_hash=_token_hash(raw),
            expires_at=now + INVITATION_VALIDITY,
        )
    _send(
        template="invitation",
        to=email,
        territory=territory,
        context={
            "invitation": invitation,
            "by": by,
            "link": site_url + reverse("accounts:invitation_accept", kwargs={"token": raw}),
            "days": INVITATION_VALIDITY.days,
        },
    )
    return invitation


def invitation_get_live(*, token: str, now: datetime | None = None) -> Invitation:
    """The invitation a link names, if it can still be accepted; else a refusal."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_related("producer", "canteen", "relay_point", "territory")
        .filter(token_hash=_token_hash(token[:200]))
        .first()
    )
    return _check_live(invitation, now)


def _check_live(invitation: Invitation | None, now: datetime) -> Invitation:
    if invitation is None or invitation.status_at(now) in {"accepted", "revoked"}:
        raise InvitationInvalid()
    if invitation.status_at(now) == "expired":
        raise InvitationExpired()
    return invitation


def invitation_accept(
    *,
    token: str,
    first_name: str,
    last_name: str,
    password: str,
    now: datetime | None = None,
) -> User:
    """Create the invitee's account from a live link, with its role and links; once only.

    The invitation row is locked for the whole creation, so the same link followed twice
    at once makes one account; the second sees it accepted and is refused.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invitation = _check_live(
            Invitation.objects.select_for_update()
            .filter(token_hash=_token_hash(token[:200]))
            .first(),
            now,
        )
        if User.objects.filter(email=invitation.email).exists():
            raise EmailAlreadyUsed()
        user = User.objects.create_user(
            invitation.email,
            password,
            first_name=first_name.strip()[:150],
            last_name=last_name.strip()[:150],
            role=invitation.role,
            territory_id=invitation.territory_id,
            email_verified_at=now,
            terms_accepted_at=now,
        )
        if invitation.producer_id is not None:
            ProducerMembership.objects.create(producer_id=invitation.producer_id, user=user)
        if invitation.canteen_id is not None:
            Canteen.managers.through.objects.create(canteen_id=invitation.canteen_id, user=user)
        if invitation.relay_point_id is not None:
            RelayPoint.keepers.through.objects.create(
                relaypoint_id=invitation.relay_point_id, user=user
            )
        invitation.accepted_at = now
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user", "updated_at"])
    return user


def invitation_revoke(*, by: User, invitation_id: int, now: datetime | None = None) -> None:
    """Cancel a pending invitation: its link stops working. Idempotent."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise InvitationInvalid()
    if not user_can_invite(by) or invitation.territory not in invitation_territories(by=by):
        raise InvitationForbidden()
    Invitation.objects.filter(
        pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now or timezone.now())
