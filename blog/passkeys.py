"""Passkeys (WebAuthn): a key kept in a phone, a laptop or a security key.

Added on the profile. At login a passkey is the second step after the password (like
a code from the app), or the whole login instead of the password: "Log in with a
passkey" asks the device which of this site's keys it holds, and a key that checked its
person (PIN, fingerprint, face) is both factors at once. py_webauthn checks every
answer: the challenge this session was given, this site's origin and name, the key's
signature and its counter.

The site's WebAuthn name (rp id) is the host the browser shows, which must be a domain
name: `localhost` works, a bare IP address does not (browsers refuse it).
"""

from urllib.parse import urlsplit

from flask import current_app, request, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes as _unb64,
)
from webauthn.helpers import (
    bytes_to_base64url as _b64,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from blog.database import db
from blog.models import Passkey, User, utcnow
from blog.security_log import record

CHALLENGE = "passkey_challenge"  # session key: the challenge of the ceremony under way
NAME_MAX = 100


class PasskeyError(ValueError):
    """A passkey answer that does not prove what it should; the message says what to do."""


def relying_party() -> tuple[str, str]:
    """(rp id, origin): the host and address the browser shows (only this site's own
    names reach here: refuse_unknown_hosts)."""
    origin = request.host_url.rstrip("/")
    return urlsplit(origin).hostname or "", origin


def _challenge() -> bytes:
    challenge = session.pop(CHALLENGE, None)
    if not challenge:
        raise PasskeyError("The passkey request expired; try again.")
    return _unb64(challenge)


def keys_of(user: User) -> list[Passkey]:
    return db.session.scalars(
        db.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
    ).all()


def registration_options(user: User) -> str:
    """What the browser needs to make a new passkey for `user` (JSON)."""
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["SITE"]["title"] or "Pressroom",
        user_name=user.username,
        user_id=user.id.to_bytes(8, "big"),  # the key's user handle: an id, nothing personal
        user_display_name=user.name,
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_unb64(key.credential_id)) for key in keys_of(user)
        ],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,  # so that it can log in alone
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    session[CHALLENGE] = _b64(options.challenge)
    return options_to_json(options)


def register(user: User, credential: str, name: str) -> Passkey:
    """Check the browser's new credential and keep it; not committed."""
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_challenge(),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, TypeError) as error:
        raise PasskeyError(f"The passkey was not added: {error}") from None
    name = " ".join(name.split())[:NAME_MAX] or "Passkey"
    key = Passkey(
        user_id=user.id,
        credential_id=_b64(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    db.session.add(key)
    record("passkey-added", user, detail=name)
    return key


def authentication_options(user: User | None) -> str:
    """What the browser needs to sign in with a passkey (JSON): one of `user`'s (the
    second step), or any key of this site the device holds (`user` None: no password)."""
    rp_id, _ = relying_party()
    allowed = [PublicKeyCredentialDescriptor(id=_unb64(key.credential_id))
               for key in keys_of(user)] if user else []  # fmt: skip
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allowed,
        user_verification=(
            UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED
        ),
    )
    session[CHALLENGE] = _b64(options.challenge)
    return options_to_json(options)


def authenticate(credential: str, user: User | None) -> User:
    """The account whose passkey signed this login; PasskeyError otherwise. Without
    `user` (no password was given) the key must have checked its person. Not committed."""
    rp_id, origin = relying_party()
    challenge = _challenge()
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError):
        raise PasskeyError("The browser's passkey answer could not be read.") from None
    key = db.session.scalar(db.select(Passkey).where(Passkey.credential_id == _b64(parsed.raw_id)))
    if key is None or (user is not None and key.user_id != user.id):
        raise PasskeyError("This passkey is not one of this site's.")
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
            require_user_verification=user is None,
        )
    except WebAuthnException as error:
        raise PasskeyError(f"The passkey did not prove it: {error}") from None
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    owner = db.session.get(User, key.user_id)
    if owner is None or not owner.active:
        raise PasskeyError("This account cannot log in.")
    return owner


def remove(key: Passkey) -> None:
    user = db.session.get(User, key.user_id)
    db.session.delete(key)
    record("passkey-removed", user, detail=key.name)
