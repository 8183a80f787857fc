"""Korean full-text search on PostgreSQL: which index answers Korean queries correctly, and
how fast it is built and queried (issue 18).

    python bench/bench_search_ko.py [--messages 200000] [--queries 200]

Four ways to index the same messages, each in a schema of its own on the PostgreSQL at
``HAECHI_TEST_PG_URL`` (default the test server), all queried newest first, 50 a page:

* ``words`` — letters-and-digits words, a query word matching word prefixes (haechi's
  index before issue 18): 사진 finds 사진을, not 고양이사진;
* ``words+bigrams`` — haechi's index now (``haechi.services.search_terms``): also the
  syllable bigrams of Korean words, a Korean query word of 2+ syllables is their phrase;
* ``kiwi`` — kiwipiepy morphemes (nouns, verb and adjective stems as lemmas, foreign
  words, numbers): 보냈어요 is 보내다 + endings, so 보내다 finds it;
* ``trgm`` — ``pg_trgm``: ``text ILIKE '%word%'`` for every query word, GIN trigram index.

**Correctness**: a labelled set of benign Korean messages (particles, compounds, spacing,
contracted verb forms, mixed scripts, loanwords) and queries, each with the messages a
Korean reader expects (written by hand below; a message counts if it speaks of the thing
the query names, whatever its endings). Precision and recall per method, macro-averaged.

**Speed**: ``--messages`` messages of the export generator's Korean/English chatter plus
the labelled set: indexing rate (tokenise in Python + load + build the index) and the
median / p95 time of a page for common words, rare words and the labelled queries.
Baseline: ``words``, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PG = os.environ.get("HAECHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# (text, set of query keys it is relevant to). Benign chatter of a study group and a shop.
LABELLED: list[tuple[str, set[str]]] = [
    ("고양이사진을 보냈어요", {"사진", "고양이", "보내다"}),
    ("사진 다시 보내주세요", {"사진", "보내다"}),
    ("영상 보낼게요", {"영상", "보내다"}),
    ("발표영상 올렸습니다", {"영상", "올리다", "발표"}),
    ("영상통화 가능하세요?", {"영상", "통화"}),
    ("어제 통화했던 내용 정리", {"통화", "정리"}),
    ("발표자료를 올려두었습니다", {"자료", "발표", "올리다"}),
    ("자료실에 파일 올렸어요", {"자료", "파일", "올리다"}),
    ("파일이 안 열려요", {"파일"}),
    ("파일들 압축해서 보내드릴게요", {"파일", "보내다"}),
    ("다음주 일정 공지합니다", {"일정", "공지", "다음주"}),
    ("다음 주 모임 장소", {"다음주", "모임"}),
    ("모임장소가 바뀌었어요", {"모임"}),
    ("공지사항 확인 부탁드려요", {"공지", "확인"}),
    ("확인했습니다 감사합니다", {"확인"}),
    ("링크 다시 보내주실 수 있나요?", {"링크", "보내다"}),
    ("링크를 클릭하면 결제창이 떠요", {"링크", "결제"}),
    ("결제 완료했어요", {"결제"}),
    ("카톡아이디 알려주세요", {"카톡"}),
    ("카톡으로 연락주세요", {"카톡", "연락"}),
    ("텔레그램방 주소 공유", {"텔레그램", "공유"}),
    ("텔레그램에서 연락 왔어요", {"텔레그램", "연락"}),
    ("정리한 노트 공유합니다", {"정리", "공유"}),
    ("단어장 정리 끝!", {"정리"}),
    ("고양이가 귀여워요", {"고양이"}),
    ("사진관 예약했어요", {"사진"}),
    ("커피 한 잔 하고 올게요", set()),
    ("오늘 스터디 몇 시에 시작해요?", set()),
    ("딥러닝 발표 준비 중", {"발표"}),
    ("The slides are uploaded", set()),
    # Traps: a query word inside another word that means something else.
    ("공유기 재부팅했어요", set()),  # a router, not sharing (공유)
    ("사진기 새로 샀어요", set()),  # a camera, not a photo (사진)
    ("영상의학과 예약했어요", set()),  # radiology, not a video (영상)
    ("연락처 변경 안내", {"연락"}),
]
QUERIES = ["사진", "영상", "보내다", "올리다", "자료", "파일", "다음주", "모임", "공지",
           "확인", "링크", "결제", "카톡", "텔레그램", "정리", "통화", "고양이", "발표",
           "연락", "공유"]  # fmt: skip


def _kiwi() -> Callable[[str], list[str]]:
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    keep = ("NN", "VV", "VA", "XR", "SL", "SN", "SH", "MAG")

    def terms(text: str) -> list[str]:
        out = []
        for tok in kiwi.tokenize(text):
            if tok.tag.startswith(keep):
                form = tok.lemma if tok.tag.startswith(("VV", "VA")) else tok.form
                out.append(form.lower().removesuffix("다") if tok.tag[0] == "V" else form.lower())
        return out

    return terms


class Method:
    """One way to index and query: a schema of its own."""

    def __init__(self, name: str, conn: object) -> None:
        self.name, self.conn = name, conn
        self.schema = f"bench_ko_{name.replace('+', '_')}_{uuid.uuid4().hex[:6]}"
        self.kiwi = _kiwi() if name == "kiwi" else None

    def document(self, pk: int, text: str) -> tuple[object, ...]:
        from haechi.services.search_terms import pg_document, words

        if self.name == "words":
            return (pk, " ".join(f"'{w.lower()}':{i + 1}A" for i, w in enumerate(words(text))))
        if self.name == "words+bigrams":
            return (pk, pg_document(text, ""))
        if self.name == "kiwi":
            assert self.kiwi is not None
            terms = [t for t in self.kiwi(text) if "'" not in t]
            return (pk, " ".join(f"'{t}':{i + 1}" for i, t in enumerate(terms)))
        return (pk, text)

    def query(self, q: str) -> tuple[str, dict[str, object]]:
        from haechi.services.search import _pg_group

        if self.name == "trgm":
            return "text ILIKE :p", {"p": f"%{q.removesuffix('다') if q.endswith('다') else q}%"}
        if self.name == "kiwi":
            assert self.kiwi is not None
            terms = self.kiwi(q) or [q]
            return "tsv @@ to_tsquery('simple', :q)", {"q": " & ".join(terms)}
        word = q.removesuffix("다") if q.endswith("다") and len(q) > 2 else q
        if self.name == "words":
            return "tsv @@ to_tsquery('simple', :q)", {"q": f"{word}:*"}
        return "tsv @@ to_tsquery('simple', :q)", {"q": _pg_group([word])}


def _engine() -> object:
    from sqlalchemy import create_engine

    return create_engine(PG)


def load(method: Method, engine: object, texts: list[str]) -> float:
    """Tokenise, COPY and index; returns messages per second."""
    from sqlalchemy import text

    from haechi.store.pgcopy import copy_ignore

    t = time.perf_counter()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE SCHEMA "{method.schema}"'))
        conn.execute(text(f'SET LOCAL search_path = "{method.schema}", public'))
        kind = "text" if method.name == "trgm" else "tsvector"
        conn.execute(text(f"CREATE TABLE docs (pk bigint PRIMARY KEY, body {kind})"))
        for start in range(0, len(texts), 20_000):
            part = texts[start : start + 20_000]
            rows = [method.document(start + i + 1, s) for i, s in enumerate(part)]
            copy_ignore(conn, "docs", ("pk", "body"), rows)
        if method.name == "trgm":
            conn.execute(text("CREATE INDEX ON docs USING gin (body gin_trgm_ops)"))
        else:
            conn.execute(text("CREATE INDEX ON docs USING gin (body)"))
        conn.execute(text("ANALYZE docs"))
    return len(texts) / (time.perf_counter() - t)


def ask(method: Method, engine: object, q: str, upto: int = 0) -> tuple[set[int], float]:
    """The newest 50 matches (among the first ``upto`` messages when given)."""
    from sqlalchemy import text

    where, params = method.query(q)
    where = where.replace("text ILIKE", "body ILIKE").replace("tsv @@", "body @@")
    if upto:
        where += f" AND pk <= {int(upto)}"
    sql = f"SELECT pk FROM docs WHERE {where} ORDER BY pk DESC LIMIT 50"
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'SET search_path = "{method.schema}", public'))
        t = time.perf_counter()
        found = {int(r[0]) for r in conn.execute(text(sql), params)}
        return found, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    from sqlalchemy import text

    import gen_export

    engine = _engine()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    content = gen_export._Content(random.Random(5))
    filler = [content.sentence() for _ in range(args.messages)]
    texts = [t for t, _ in LABELLED] + filler
    from haechi.services.search_terms import words

    vocab = sorted({w.lower() for s in filler[:5000] for w in words(s) if len(w) > 1})
    rng = random.Random(9)
    results = []
    methods = [Method(n, engine) for n in ("words", "words+bigrams", "kiwi", "trgm")]
    try:
        for m in methods:
            rate = load(m, engine, texts)
            precision, recall = [], []
            for q in QUERIES:
                want = {i + 1 for i, (_, keys) in enumerate(LABELLED) if q in keys}
                got, _ = ask(m, engine, q, upto=len(LABELLED))
                precision.append(len(got & want) / len(got) if got else 1.0)
                recall.append(len(got & want) / len(want) if want else 1.0)
            times = [ask(m, engine, rng.choice(vocab + QUERIES))[1] for _ in range(args.queries)]
            results.append({
                "method": m.name, "index_msgs_per_s": round(rate), "precision":
                round(statistics.mean(precision), 3), "recall": round(statistics.mean(recall), 3),
                "query_p50_ms": round(1000 * statistics.median(times), 2),
                "query_p95_ms": round(1000 * sorted(times)[int(0.95 * len(times))], 2),
            })  # fmt: skip
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    finally:
        with engine.begin() as conn:  # type: ignore[attr-defined]
            for m in methods:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{m.schema}" CASCADE'))
    base = results[0]
    print(f"\n{args.messages:,} messages + {len(LABELLED)} labelled, {len(QUERIES)} queries")
    print("| method | precision | recall | index msg/s | vs words | page p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['method']} | {r['precision']} | {r['recall']} | {r['index_msgs_per_s']:,} | "
              f"{r['index_msgs_per_s'] / base['index_msgs_per_s']:.2f} | {r['query_p50_ms']} | "
              f"{r['query_p95_ms']} |")  # fmt: skip


if __name__ == "__main__":
    main()
