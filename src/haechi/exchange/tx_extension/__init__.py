"""A python-threatexchange extension: HMA and the ``threatexchange`` CLI subscribe to haechi.

::

    threatexchange config extensions add haechi.exchange.tx_extension
    threatexchange config collab edit haechi knpa --create \\
        --url https://haechi.example.go.kr --public-key-file /etc/haechi/knpa.pem
    export TX_HAECHI_TOKEN=hxp_...          # or ~/.tx_haechi_token, or --token-file
    threatexchange fetch
    threatexchange match photo picture.jpg

The API (``haechi``) pages through the publisher's change feed with its checkpoint (the
opaque cursor and the change it stands at), checks every page exactly as haechi does
(Ed25519 signature by the configured key, canonical form, audience, place in the
sequence, every hash) and hands threatexchange one update per item: its hashes as
threatexchange signal types (``pdq``, ``video_md5``, ``video_sha256``, ``vpdq``) and its
labels as tags, or ``None`` for a withdrawal. When the publisher starts over (the
partner's scope changed), the checkpoint turns stale: the next fetch clears what it
holds and fetches everything again, so what left the scope is gone there too.
"""

# No ``from __future__ import annotations`` here: threatexchange's CLI builds its
# ``config collab edit`` options from the config dataclass's field types at run time.
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from threatexchange.exchanges import auth
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPI
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.signal_base import SignalType

from haechi.analyze.hashes.vpdq import te_signal_string
from haechi.exchange import wire
from haechi.exchange.envelope import load_public_key
from haechi.exchange.page import MAX_ITEMS
from haechi.match.formats.base import VPDQ, ParsedSignal
from haechi.match.formats.te import KIND_TO_TE

API_NAME = "haechi"
TOKEN_PREFIX = "hxp_"  # noqa: S105 - a prefix, not a secret


@dataclass
class _HaechiRequired:
    url: str = field(metadata={"help": "the haechi server, e.g. https://haechi.example"})
    public_key_file: str = field(
        metadata={"help": "the publisher's public key (PEM, from `haechi exchange key`)"}
    )


@dataclass
class HaechiCollabConfig(CollaborationConfigWithDefaults, _HaechiRequired):
    api: str = field(init=False, default=API_NAME)
    token_file: t.Optional[str] = field(  # noqa: UP045 - threatexchange's argparse reads Optional
        default=None,
        metadata={"help": "a file holding this collab's hxp_ token (default: TX_HAECHI_TOKEN)",
                  "metavar": "PATH"},
    )  # fmt: skip


@dataclass
class HaechiCheckpoint(state.FetchCheckpointBase):
    cursor: str = ""
    position: int = 0
    restart: bool = False  # the publisher started over: clear and fetch everything again

    def is_stale(self) -> bool:
        return self.restart


@dataclass
class HaechiItem:
    """One published item: its hashes as (threatexchange signal type, signal), its labels."""

    signals: tuple[tuple[str, str], ...]
    labels: tuple[str, ...] = ()
    added_at: str = ""


@dataclass
class HaechiSignalMetadata(state.FetchedSignalMetadata):
    labels: set[str] = field(default_factory=set)

    def get_as_opinions(self) -> t.Sequence[state.SignalOpinion]:
        return [state.SignalOpinion(False, state.SignalOpinionCategory.POSITIVE_CLASS,
                                    set(self.labels))]  # fmt: skip


@dataclass
class HaechiCredentials(auth.CredentialHelper):
    ENV_VARIABLE: t.ClassVar[str] = "TX_HAECHI_TOKEN"
    FILE_NAME: t.ClassVar[str] = "~/.tx_haechi_token"

    token: str

    @classmethod
    def _from_str(cls, s: str) -> "HaechiCredentials":
        return cls(s.strip())

    def _are_valid(self) -> bool:
        return self.token.startswith(TOKEN_PREFIX)


def te_signal(s: ParsedSignal) -> tuple[str, str]:
    if s.kind == VPDQ:
        frames = [(int(n), int(q), str(h), float(ts)) for n, q, h, ts in (s.data or {})["frames"]]
        return KIND_TO_TE[VPDQ], te_signal_string(frames)
    return KIND_TO_TE[s.kind], s.value


class HaechiSignalExchangeAPI(
    auth.SignalExchangeWithAuth[HaechiCollabConfig, HaechiCredentials],
    SignalExchangeAPI[HaechiCollabConfig, HaechiCheckpoint, HaechiSignalMetadata, str,
                      HaechiItem],
):  # fmt: skip
    """Fetch a haechi publisher's change feed (see the module doc)."""

    def __init__(self, collab: HaechiCollabConfig, token: str) -> None:
        self.collab = collab
        self.token = token

    @classmethod
    def get_name(cls) -> str:
        return API_NAME

    @staticmethod
    def get_config_cls() -> type[HaechiCollabConfig]:
        return HaechiCollabConfig

    @staticmethod
    def get_checkpoint_cls() -> type[HaechiCheckpoint]:
        return HaechiCheckpoint

    @staticmethod
    def get_record_cls() -> type[HaechiSignalMetadata]:
        return HaechiSignalMetadata

    @staticmethod
    def get_credential_cls() -> type[HaechiCredentials]:
        return HaechiCredentials

    @classmethod
    def for_collab(
        cls, collab: HaechiCollabConfig, credentials: HaechiCredentials | None = None
    ) -> "HaechiSignalExchangeAPI":
        if collab.token_file:
            credentials = HaechiCredentials._from_str(
                Path(collab.token_file).expanduser().read_text(encoding="ascii")
            )
            if not credentials._are_valid():
                raise auth.SignalExchangeAPIInvalidAuthException(
                    cls, f"{collab.token_file} holds no hxp_ token"
                )
        credentials = credentials or HaechiCredentials.get(cls)
        return cls(collab, credentials.token)

    def fetch_iter(
        self,
        supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: HaechiCheckpoint | None,
    ) -> t.Iterator[state.FetchDelta[str, HaechiItem, HaechiCheckpoint]]:
        public = load_public_key(Path(self.collab.public_key_file).expanduser().read_bytes())
        cursor = checkpoint.cursor if checkpoint else ""
        position = checkpoint.position if checkpoint else 0
        while True:
            page, _ = wire.fetch_page(self.collab.url, self.token, public, after=cursor or None,
                                      position=position, limit=MAX_ITEMS)  # fmt: skip
            if page.reset and cursor:
                yield state.FetchDelta({}, HaechiCheckpoint(cursor, position, restart=True))
                return
            updates: dict[str, HaechiItem | None] = {}
            for item in page.items:
                key = str(item.item)
                if item.op == "remove":
                    updates[key] = None
                else:
                    signals = tuple(te_signal(s) for s in item.signals)
                    updates[key] = HaechiItem(signals, item.labels, item.added_at or "")
            cursor, position = page.next, page.end
            yield state.FetchDelta(updates, HaechiCheckpoint(cursor, position))
            if not page.more:
                return

    @classmethod
    def naive_convert_to_signal_type(
        cls,
        signal_types: t.Sequence[type[SignalType]],
        collab: HaechiCollabConfig,
        fetched: t.Mapping[str, HaechiItem],
    ) -> dict[type[SignalType], dict[str, HaechiSignalMetadata]]:
        by_name = {st.get_name(): st for st in signal_types}
        out: dict[type[SignalType], dict[str, HaechiSignalMetadata]] = {}
        for item in fetched.values():
            for type_name, signal in item.signals:
                s_type = by_name.get(type_name)
                if s_type is None:
                    continue
                try:
                    signal = s_type.validate_signal_str(signal)
                except ValueError:
                    continue
                meta = out.setdefault(s_type, {}).setdefault(signal, HaechiSignalMetadata())
                meta.labels.update(item.labels)
        return out


TX_MANIFEST = ThreatExchangeExtensionManifest(apis=(HaechiSignalExchangeAPI,))
