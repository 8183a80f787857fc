"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from haechi.domain import UsageError

MIN_LENGTH = 10
# argon2 hashes whatever it gets; an unbounded password is a cheap denial of service.
MAX_LENGTH = 256

# RFC 9106's second recommended option (64 MiB, 3 passes), with 2 lanes for a 2-core host.
_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=2)
# Verified against when the user does not exist, so the answer takes as long either way
# (no user-name enumeration by timing).
_DUMMY = _HASHER.hash("not a real password, only here to spend the same time")


def check_policy(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise UsageError(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise UsageError(f"The password must be at most {MAX_LENGTH} characters long.")
    if password.strip().lower() == username.strip().lower():
        raise UsageError("The password must not be the user name.")
    if len(set(password)) < 4:
        raise UsageError("The password is too repetitive: use at least four different characters.")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
