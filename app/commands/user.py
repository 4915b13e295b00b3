"""``licbench user create|reset-password|list`` and ``licbench token create|list|revoke`` (issue 12)."""

from __future__ import annotations

import sys

from app.commands import CommandError


def _read_password(args) -> str | None:
    """The password from standard input (first line) with ``--password-stdin``, else None."""
    if not args.password_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CommandError("--password-stdin: no password on standard input")
    return line


def _password(args) -> tuple[str, bool]:
    """The password from ``--password-stdin``, or a generated one; and whether it was generated (then the
    command prints it once)."""
    from app.services.accounts import users

    password = _read_password(args)
    return (password, False) if password is not None else (users.generate_password(), True)


def _user_create(args) -> int:
    from app.db.session import session_scope
    from app.services.accounts import users
    from app.services.errors import ServiceError

    password, generated = _password(args)
    try:
        with session_scope() as session:
            user = users.create_user(session, args.name, password, role="admin" if args.admin else "member")
            role = user.role
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    print(f"created {role} {args.name!r}")
    if generated:
        print(f"password: {password}")
    return 0


def _user_reset(args) -> int:
    from app.db.session import session_scope
    from app.services.accounts import users
    from app.services.errors import ServiceError

    password, generated = _password(args)
    try:
        with session_scope() as session:
            users.set_password(session, users.require_user(session, args.name), password)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    print(f"new password set for {args.name!r}; older logins are signed out")
    if generated:
        print(f"password: {password}")
    return 0


def _user_list(_args) -> int:
    from app.db.session import session_scope
    from app.services.accounts import users

    with session_scope() as session:
        for user in users.list_users(session):
            state = "" if not user.password_hash.startswith(users.UNUSABLE_PREFIX) else "  (no password set)"
            print(f"{user.name}\t{user.role}\t{user.created_at:%Y-%m-%d %H:%M}{state}")
    return 0


def _token_create(args) -> int:
    from app.db.session import session_scope
    from app.services.accounts import tokens, users
    from app.services.errors import ServiceError

    if not args.user and not args.name:
        raise CommandError("give --user NAME (the token's owner) and/or --name LABEL")
    try:
        with session_scope() as session:
            owner = users.require_user(session, args.user) if args.user else None
            label = args.name or f"{args.user} (command line)"
            token = tokens.create_token(session, label, user=owner)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    print(token)  # alone on the last line, for scripts: TOKEN=$(licbench token create --user me | tail -1)
    return 0


def _token_list(args) -> int:
    from sqlalchemy import select

    from app.db.session import session_scope
    from app.db.tables import ApiToken, User

    with session_scope() as session:
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id, isouter=True).order_by(ApiToken.id)
        if args.user:
            query = query.where(User.name == args.user)
        for token, owner in session.execute(query):
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            print(f"{token.id}\t{owner or '-'}\t{token.name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0


def _token_revoke(args) -> int:
    from app.db.session import session_scope
    from app.services.accounts import tokens, users
    from app.services.errors import ServiceError

    try:
        with session_scope() as session:
            tokens.revoke_token(session, users.first_admin(session), args.id)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    print(f"token {args.id} revoked")
    return 0


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="accounts (admin and member)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="make a user; prints a generated password unless --password-stdin")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true", help="role admin (default: member)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=_user_create)
    reset = user_sub.add_parser("reset-password", help="set a new password (generated unless --password-stdin)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true")
    reset.set_defaults(handler=_user_reset)
    user_sub.add_parser("list", help="list users").set_defaults(handler=_user_list)

    token = subparsers.add_parser("token", help="API tokens for REST clients")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a bearer token (printed once, alone on the last line)")
    create.add_argument("--user", default="", help="owner of the token (default: the first admin)")
    create.add_argument("--name", default="", help="label of the token")
    create.set_defaults(handler=_token_create)
    listing = token_sub.add_parser("list", help="list tokens (never their values)")
    listing.add_argument("--user", default="")
    listing.set_defaults(handler=_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_token_revoke)
