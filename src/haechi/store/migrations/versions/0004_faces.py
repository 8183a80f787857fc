"""faces: subjects, consents, templates, kept photos, face clusters, faces, face searches

Revision ID: 0004_faces
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_faces"
down_revision = "0002"
branch_labels = ("faces",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.Column("deleted_by", sa.String(length=128), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("label", name=op.f("uq_subjects_label")),
    )
    op.create_table(
        "face_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("linked_by", sa.String(length=128), nullable=True),
        sa.Column("linked_at", sa.String(length=40), nullable=True),
        sa.Column("link_reason", sa.Text(), nullable=True),
        sa.Column("apparent_minor", sa.Boolean(), nullable=False),
        sa.Column("minor_set_by", sa.String(length=128), nullable=True),
        sa.Column("minor_set_at", sa.String(length=40), nullable=True),
        sa.Column("minor_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_face_clusters_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_clusters")),
    )
    with op.batch_alter_table("face_clusters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_face_clusters_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("given_by", sa.Text(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("given_at", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("valid_until", sa.String(length=40), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.String(length=40), nullable=False),
        sa.Column("withdrawn_at", sa.String(length=40), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_consents_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_consents")),
    )
    with op.batch_alter_table("subject_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_consents_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_photos_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_photos")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_subject_photos_stored_name")),
    )
    with op.batch_alter_table("subject_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_photos_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "face_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("staff", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("probe_sha256", sa.String(length=64), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("results_json", sa.Text(), nullable=True),
        sa.Column("custody_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["subject_consents.id"],
            name=op.f("fk_face_searches_consent_id_subject_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_face_searches_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_searches")),
    )
    with op.batch_alter_table("face_searches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_face_searches_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["subject_photos.id"],
            name=op.f("fk_subject_templates_photo_id_subject_photos"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_templates_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_templates")),
    )
    with op.batch_alter_table("subject_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_templates_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "faces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("analyzer_version", sa.String(length=32), nullable=False),
        sa.Column("face_no", sa.Integer(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name=op.f("fk_faces_analysis_id_analyses")
        ),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_faces_blob_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["face_clusters.id"], name=op.f("fk_faces_cluster_id_face_clusters")
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_faces_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faces")),
        sa.UniqueConstraint("signal_id", name=op.f("uq_faces_signal_id")),
    )
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faces_analysis_id"), ["analysis_id"], unique=False)
        batch_op.create_index("ix_faces_blob_active", ["blob_sha256", "active"], unique=False)
        batch_op.create_index(batch_op.f("ix_faces_cluster_id"), ["cluster_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faces_cluster_id"))
        batch_op.drop_index("ix_faces_blob_active")
        batch_op.drop_index(batch_op.f("ix_faces_analysis_id"))

    op.drop_table("faces")
    with op.batch_alter_table("subject_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_templates_subject_id"))

    op.drop_table("subject_templates")
    with op.batch_alter_table("face_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_searches_subject_id"))

    op.drop_table("face_searches")
    with op.batch_alter_table("subject_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_photos_subject_id"))

    op.drop_table("subject_photos")
    with op.batch_alter_table("subject_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_consents_subject_id"))

    op.drop_table("subject_consents")
    with op.batch_alter_table("face_clusters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_clusters_subject_id"))

    op.drop_table("face_clusters")
    op.drop_table("subjects")
