"""cases: cases, items, people, notices, re-upload watches

Revision ID: 0008_cases
Revises: 0002
Create Date: 2026-12-01

The cases capability's own branch (``branch_labels = ("cases",)``): its tables only, so
it applies beside every other capability's branch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_cases"
down_revision = "0002"
branch_labels = ("cases",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reported_on", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.String(length=40), nullable=False),
        sa.Column("closed_at", sa.String(length=40), nullable=True),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("ref", name=op.f("uq_cases_ref")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_reported_on"), ["reported_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)

    op.create_table(
        "notifier_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("person_name", sa.Text(), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("organisation", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_profiles")),
        sa.UniqueConstraint("key", name=op.f("uq_notifier_profiles_key")),
    )
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("identifiers_json", sa.Text(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("faces_subject_ref", sa.String(length=64), nullable=True),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_subjects_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_subjects")),
        sa.UniqueConstraint("case_id", "label", name="uq_case_subjects_label"),
    )
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_subjects_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_suspects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("apprehended_at", sa.String(length=40), nullable=True),
        sa.Column("apprehended_unix", sa.BigInteger(), nullable=True),
        sa.Column("detained_at", sa.String(length=40), nullable=True),
        sa.Column("detained_unix", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_case_suspects_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_suspects_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_suspects")),
        sa.UniqueConstraint("case_id", "label", name="uq_case_suspects_label"),
    )
    with op.batch_alter_table("case_suspects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_suspects_apprehended_unix"), ["apprehended_unix"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_suspects_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_suspects_detained_unix"), ["detained_unix"], unique=False
        )

    op.create_table(
        "case_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_tags_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tags")),
        sa.UniqueConstraint("case_id", "tag", name="uq_case_tags"),
    )
    with op.batch_alter_table("case_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_tags_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("to_address", sa.String(length=255), nullable=True),
        sa.Column("subject_line", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("notifier_json", sa.Text(), nullable=True),
        sa.Column("concerns_minor", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("sent_unix", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_unix", sa.BigInteger(), nullable=True),
        sa.Column("decided_unix", sa.BigInteger(), nullable=True),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("removed_unix", sa.BigInteger(), nullable=True),
        sa.Column("reuploaded_unix", sa.BigInteger(), nullable=True),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notices_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_status"), ["status"], unique=False)

    op.create_table(
        "case_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("given_by", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("granted_at", sa.String(length=40), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("withdrawn_at", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["case_subjects.id"],
            name=op.f("fk_case_consents_subject_id_case_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_consents")),
    )
    with op.batch_alter_table("case_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_consents_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "case_suspect_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suspect_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["suspect_id"],
            ["case_suspects.id"],
            name=op.f("fk_case_suspect_identifiers_suspect_id_case_suspects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_suspect_identifiers")),
        sa.UniqueConstraint("suspect_id", "kind", "value", name="uq_case_suspect_identifiers"),
    )
    with op.batch_alter_table("case_suspect_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_suspect_identifiers_kind_value", ["kind", "value"], unique=False
        )

    op.create_table(
        "notice_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("at_unix", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.String(length=40), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_transitions_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_transitions")),
    )
    with op.batch_alter_table("notice_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_transitions_notice_id"), ["notice_id"], unique=False
        )

    op.create_table(
        "case_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("media_pk", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.Column("reupload_of", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("withdrawn_at", sa.String(length=40), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_case_items_blob_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_items_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_case_items_chat_id_chats")
        ),
        sa.ForeignKeyConstraint(
            ["media_pk"], ["media.id"], name=op.f("fk_case_items_media_pk_media")
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_case_items_message_pk_messages")
        ),
        sa.ForeignKeyConstraint(
            ["reupload_of"], ["case_items.id"], name=op.f("fk_case_items_reupload_of_case_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_items")),
        sa.UniqueConstraint("case_id", "ref", name="uq_case_items_ref"),
    )
    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_items_blob_sha256"), ["blob_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_items_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_items_message_pk"), ["message_pk"], unique=False)

    op.create_table(
        "notice_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
            name=op.f("fk_notice_items_case_item_id_case_items"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_items_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_items")),
        sa.UniqueConstraint("notice_id", "case_item_id", name="uq_notice_items"),
    )
    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_items_case_item_id"), ["case_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notice_items_notice_id"), ["notice_id"], unique=False)

    op.create_table(
        "reupload_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("backend_ref", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reupload_watches_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
            name=op.f("fk_reupload_watches_case_item_id_case_items"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_reupload_watches_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reupload_watches")),
        sa.UniqueConstraint("case_item_id", "method", "value", name="uq_reupload_watches"),
    )
    with op.batch_alter_table("reupload_watches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reupload_watches_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_reupload_watches_method_value", ["method", "value"], unique=False)

    op.create_table(
        "reupload_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("media_pk", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("new_case_item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("detected_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reupload_hits_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["media_pk"], ["media.id"], name=op.f("fk_reupload_hits_media_pk_media")
        ),
        sa.ForeignKeyConstraint(
            ["new_case_item_id"],
            ["case_items.id"],
            name=op.f("fk_reupload_hits_new_case_item_id_case_items"),
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["reupload_watches.id"],
            name=op.f("fk_reupload_hits_watch_id_reupload_watches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reupload_hits")),
        sa.UniqueConstraint("watch_id", "media_pk", name="uq_reupload_hits"),
    )
    with op.batch_alter_table("reupload_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reupload_hits_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reupload_hits_watch_id"), ["watch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reupload_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reupload_hits_watch_id"))
        batch_op.drop_index(batch_op.f("ix_reupload_hits_case_id"))

    op.drop_table("reupload_hits")
    with op.batch_alter_table("reupload_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_reupload_watches_method_value")
        batch_op.drop_index(batch_op.f("ix_reupload_watches_case_id"))

    op.drop_table("reupload_watches")
    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_items_notice_id"))
        batch_op.drop_index(batch_op.f("ix_notice_items_case_item_id"))

    op.drop_table("notice_items")
    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_items_message_pk"))
        batch_op.drop_index(batch_op.f("ix_case_items_chat_id"))
        batch_op.drop_index(batch_op.f("ix_case_items_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_items_blob_sha256"))

    op.drop_table("case_items")
    with op.batch_alter_table("notice_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_transitions_notice_id"))

    op.drop_table("notice_transitions")
    with op.batch_alter_table("case_suspect_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_case_suspect_identifiers_kind_value")

    op.drop_table("case_suspect_identifiers")
    with op.batch_alter_table("case_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_consents_subject_id"))

    op.drop_table("case_consents")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_status"))
        batch_op.drop_index(batch_op.f("ix_notices_recipient"))
        batch_op.drop_index(batch_op.f("ix_notices_case_id"))

    op.drop_table("notices")
    with op.batch_alter_table("case_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tags_tag"))
        batch_op.drop_index(batch_op.f("ix_case_tags_case_id"))

    op.drop_table("case_tags")
    with op.batch_alter_table("case_suspects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_suspects_detained_unix"))
        batch_op.drop_index(batch_op.f("ix_case_suspects_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_suspects_apprehended_unix"))

    op.drop_table("case_suspects")
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_subjects_case_id"))

    op.drop_table("case_subjects")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_case_id"))

    op.drop_table("case_notes")
    op.drop_table("notifier_profiles")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.drop_index(batch_op.f("ix_cases_reported_on"))
        batch_op.drop_index(batch_op.f("ix_cases_assignee"))

    op.drop_table("cases")
