"""The case report's words in Korean and English, as its title has always been
("사건 보고서 · Case report"): Korean police, prosecutors and courts read it, and so do
partner agencies abroad.

Headings and sentences are written here as pairs (:func:`bi`). Values the software names —
case status, item kind, notice recipient and status, suspect status, age band, consent
scope, custody event type, chat kind — are never shown raw: :func:`enum` reads them from the
web application's catalogues (``haechi/web/locales/{ko,en}.json``, plain JSON read without
the web's dependencies), the same words the case page shows, so each concept keeps one
Korean name (tests/i18n/test_korean_terms.py).
"""

from __future__ import annotations

from haechi.web.i18n import catalogue

# the catalogue key prefix of each kind of value the report names
PREFIX = {
    "case_status": "case.status",
    "item_kind": "case.kind",
    "recipient": "notice.recipient",
    "notice_status": "notice.status",
    "language": "notice.lang",
    "suspect_status": "suspects.status",
    "age_band": "case.band",
    "scope": "case.scope",
    "given_by": "case.given_by",
    "event": "enum.event",
    "identifier": "enum.identifier",
    "chat": "enum.chat_type",
    "source_kind": "sources.kind",
}


def bi(ko: str, en: str) -> str:
    """One label in both languages, Korean first."""
    return f"{ko} · {en}"


def enum(kind: str, value: object) -> str:
    """``접수 · open``: a value in Korean and English from the catalogues; a value neither
    knows (a newer vocabulary) is shown as it is rather than hidden."""
    if value is None or value == "":
        return ""
    key = f"{PREFIX[kind]}.{value}"
    ko = catalogue("ko").get(key)
    en = catalogue("en").get(key) or str(value)
    if not ko:
        return str(value)
    ko, en = ko.replace("`", ""), en.replace("`", "")  # the web's code marks
    return ko if ko == en else bi(ko, en)


# headings and labels: plain text, escaped by the report like everything else
TITLE = bi("사건 보고서", "Case report")
STATUS = bi("상태", "status")
REPORTED_ON = bi("신고일", "reported on")
OPENED = bi("개설", "opened")
ASSIGNEE = bi("담당자", "assigned to")
GENERATED = bi("작성 시각", "generated")
BY = bi("작성자", "by")
VICTIM_IDS = bi("피해자 식별 정보", "victim identifiers")
SHOWN = bi("표시함 (사용자가 공개를 선택함)", "shown (the user chose to reveal them)")
REDACTED = bi("가림", "redacted")

CHAIN = bi("관리 연속성", "Chain of custody")
CASE_EVENTS = bi("이 사건에 관한 기록", "events concerning this case")
CHECKED_NOW = bi("지금 확인", "checked now")
SIGNING_KEY = bi("서명 키", "signing key")
EVENT = bi("기록", "event")
LOG_HEAD = bi("기록의 마지막", "log head")
WHOLE_LOG = bi("전체 기록", "whole log")
PROBLEM = bi("문제", "problem")

ITEMS = bi("증거 목록", "Items")
KIND = bi("종류", "kind")
LINK_IDS = bi("링크 · ID", "link · ids")
POSTED = bi("게시 시각", "posted") + " (UTC / KST)"
FILE = bi("파일", "file")
PREVIEW = bi("안전 미리보기", "safe preview")
NO_PREVIEW = bi("안전 미리보기 없음", "no safe preview")
NO_LINK = bi("공개 링크 없음", "no public link")
WITHDRAWN = bi("철회됨", "withdrawn")
CHAT = bi("대화방", "chat")
MESSAGE = bi("메시지", "message")
SENDER = bi("보낸 사람", "sender")
BYTES = bi("바이트", "bytes")

CAPTURES = bi("수집 기록", "Captures")
FILE_SHA = bi("파일 SHA-256", "file SHA-256")
CAPTURED = bi("수집 시각", "captured") + " (UTC / KST)"
FROM = bi("출처", "from")
BY_TOOL = bi("수집자 · 도구", "by · tool")
CUSTODY_EVENT = bi("관리 연속성 기록", "custody event")
SOURCE = bi("출처", "source")

VICTIMS = bi("피해자", "Victims")
NO_VICTIM = bi("기록된 피해자가 없습니다.", "No victim recorded.")
LABEL = bi("식별 코드", "label")
AGE_BAND = bi("연령대", "age band")
MINOR = bi("미성년자", "minor")
YES = bi("예", "yes")
NO = bi("아니요", "no")
CONSENTS = bi("동의", "consents")
NO_CONSENT = bi("동의 기록 없음", "no consent record")
CONSENT_WITHDRAWN = bi("철회", "withdrawn")
IDENTITY = bi("신원", "identity")

SUSPECTS = bi("피의자", "Suspects")
NO_SUSPECT = bi("기록된 피의자가 없습니다.", "No suspect recorded.")
IDENTIFIERS = bi("식별자", "identifiers")
APPREHENDED = bi("검거", "apprehended")
DETAINED = bi("구속", "detained")

NOTICES = bi("삭제 요청", "Notices")
NO_NOTICE = bi("작성된 삭제 요청이 없습니다.", "No notice drafted.")
RECIPIENT = bi("수신처", "recipient")
SENT = bi("발송", "sent")
REMOVED = bi("삭제", "removed")
HOURS = bi("삭제까지 시간", "hours to removal")
LINKS = bi("링크", "links")

EVENTS = bi("관련 관리 연속성 기록", "Custody events concerning the case")
SEQ = bi("순번", "seq")
TIME = bi("시각", "time") + " (UTC / KST)"
TYPE = bi("유형", "type")
ACTOR = bi("행위자", "actor")
HASH = bi("해시", "hash")

# sentences: the Korean line, the English under it
PREVIEWS_NOTE = (
    "사진은 안전 미리보기(축소, 흑백, 문제 영역 가림)로만 표시합니다. 원본은 증거 패키지에 "
    "있으며 SHA-256으로 식별합니다.",
    "Pictures appear only as safe previews (reduced, greyscale, flagged regions blocked out). "
    "Originals are in the evidence package, identified by SHA-256.",
)


def chain_state(problems: int) -> str:
    if not problems:
        return bi("해시와 서명이 유효함", "hashes and signatures valid")
    return bi(f"문제 {problems}건", f"{problems} problem(s)")


def never_verified() -> str:
    return bi("검증한 적 없음: `haechi verify` 실행 필요", "never verified: run `haechi verify`")


def whole_log(ok: bool, events: object, when: str) -> str:
    verdict = bi("온전함", "intact") if ok else bi("문제 발견", "PROBLEMS FOUND")
    return f"{verdict}: {events} {bi('건', 'events')}, {when}"


def verified_now() -> str:
    return bi("지금 검증함", "verified now")


def last_verified(at: str, seq: object) -> str:
    return bi(
        f"`haechi verify`로 {at}에 마지막 검증 (기록 {seq})",
        f"last verified by `haechi verify` at {at} (event {seq})",
    )


def reupload_of(item_id: object) -> str:
    return bi(f"#{item_id} 재유포", f"re-upload of item {item_id}")
