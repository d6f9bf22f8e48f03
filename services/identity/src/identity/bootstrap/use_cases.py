"""Binding: every use case handed the ports and rules it names, once per app."""

from __future__ import annotations

from functools import partial

from identity.application.admin import audit_trail, change_user, delete_user, get_user, list_users
from identity.application.admins import create_admin
from identity.application.email_verification import request_email_verification, verify_email
from identity.application.keys import public_keys
from identity.application.login import log_in
from identity.application.oidc_login import finish_oidc_login, start_oidc_login
from identity.application.password_reset import request_password_reset, reset_password
from identity.application.policy import Policy
from identity.application.profile import change_password, delete_account, update_profile
from identity.application.refresh import log_out, refresh
from identity.application.registration import register, sign_up
from identity.application.sessions import list_sessions, revoke_other_sessions, revoke_session
from identity.application.throttle import admit_mail_request
from identity.application.use_cases import UseCases
from identity.bootstrap.ports import Ports


def bind(ports: Ports, policy: Policy) -> UseCases:
    """Every use case given the ports and rules it names, once."""
    clock, hasher, secrets, tokens = ports.clock, ports.hasher, ports.secrets, ports.access_tokens
    throttle, lifetime, max_sessions = policy.throttle, policy.sessions, policy.max_sessions
    link_base_url, token_ttl = policy.link_base_url or policy.public_url, policy.one_time_token_ttl
    return UseCases(
        register=partial(register, hasher=hasher, clock=clock),
        sign_up=partial(
            sign_up,
            hasher=hasher,
            clock=clock,
            secrets=secrets,
            mailer=ports.mailer,
            throttle=throttle,
            link_base_url=link_base_url,
            token_ttl=token_ttl,
            reveals_existing=policy.registration_reveals_existing,
        ),
        log_in=partial(
            log_in,
            hasher=hasher,
            secrets=secrets,
            access_tokens=tokens,
            clock=clock,
            throttle=throttle,
            lifetime=lifetime,
            max_sessions=max_sessions,
        ),
        refresh=partial(refresh, secrets=secrets, access_tokens=tokens, clock=clock),
        log_out=partial(log_out, secrets=secrets, clock=clock),
        start_oidc_login=partial(
            start_oidc_login, oidc=ports.oidc, clock=clock, public_url=policy.public_url
        ),
        finish_oidc_login=partial(
            finish_oidc_login,
            oidc=ports.oidc,
            secrets=secrets,
            access_tokens=tokens,
            clock=clock,
            lifetime=lifetime,
            max_sessions=max_sessions,
        ),
        admit_mail_request=partial(admit_mail_request, throttle=throttle, clock=clock),
        request_password_reset=partial(
            request_password_reset,
            secrets=secrets,
            mailer=ports.mailer,
            clock=clock,
            throttle=throttle,
            link_base_url=link_base_url,
            token_ttl=token_ttl,
        ),
        reset_password=partial(reset_password, secrets=secrets, hasher=hasher, clock=clock),
        request_email_verification=partial(
            request_email_verification,
            secrets=secrets,
            mailer=ports.mailer,
            clock=clock,
            throttle=throttle,
            link_base_url=link_base_url,
            token_ttl=token_ttl,
        ),
        verify_email=partial(verify_email, secrets=secrets, clock=clock),
        update_profile=partial(update_profile, clock=clock),
        change_password=partial(change_password, hasher=hasher, clock=clock, throttle=throttle),
        delete_account=partial(delete_account, hasher=hasher, clock=clock, throttle=throttle),
        list_sessions=partial(list_sessions, queries=ports.queries, clock=clock),
        revoke_session=partial(revoke_session, clock=clock),
        revoke_other_sessions=partial(revoke_other_sessions, clock=clock),
        list_users=partial(list_users, queries=ports.queries),
        get_user=partial(get_user, queries=ports.queries),
        change_user=partial(change_user, clock=clock),
        delete_user=partial(delete_user, clock=clock),
        audit_trail=partial(audit_trail, queries=ports.queries),
        create_admin=partial(create_admin, hasher=hasher, clock=clock),
        public_keys=partial(public_keys, keys=ports.keys),
    )
