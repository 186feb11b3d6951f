from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from datetime import datetime, timezone


class SqliteForeignKeys(ops.RunPython):
    """SQLite remakes a table to change it; with its foreign keys on, dropping the old table would delete
    the rows that refer to it (reviews, reminders, assignments). So they are off while this runs."""

    def __init__(self, on):
        async def switch(apps, schema_editor):
            if schema_editor.client.capabilities.dialect == "sqlite":
                await schema_editor.client.execute_script(f"PRAGMA foreign_keys={'ON' if on else 'OFF'};")
        super().__init__(switch, switch)


class RemoveUniqueTogether(ops.RemoveConstraint):
    """SQLite keeps a table's unique_together inside the table, unnamed: it goes by remaking the table."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor._remake_table(new_state.apps.get_model(f"{app_label}.{self.model_name}"))
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


async def move_to_rounds(apps, schema_editor):
    """Every existing assignment and panel member moves to its challenge's proposal round (made if missing);
    every assignment and conflict with a proposal names it as its subject."""
    client = schema_editor.client
    sqlite = client.capabilities.dialect == "sqlite"

    def marks(count):
        return ", ".join("?" if sqlite else f"${i}" for i in range(1, count + 1))

    rows = await client.execute_query_dict(
        "SELECT c.id, c.reviews_per_proposal, c.max_per_reviewer, c.review_deadline FROM challenge c"
        " WHERE (c.id IN (SELECT challenge_id FROM panel_member)"
        " OR c.id IN (SELECT p.challenge_id FROM assignment a JOIN proposal p ON p.id = a.proposal_id))"
        " AND c.id NOT IN (SELECT challenge_id FROM review_round WHERE subject_kind = 'proposal')")
    now = datetime.now(timezone.utc)
    for row in rows:
        await client.execute_query(
            "INSERT INTO review_round (created_at, updated_at, challenge_id, subject_kind, rubric, due_at,"
            f" reviews_per_subject, max_per_reviewer, scope_id) VALUES ({marks(9)})",
            [now, now, row["id"], "proposal", "[]", row["review_deadline"], None, row["max_per_reviewer"], 0])
    await client.execute_script(
        "UPDATE review_round SET scope_id = 0 WHERE scope_id IS NULL;"
        "UPDATE assignment SET subject_kind = 'proposal', subject_id = proposal_id, round_id = ("
        " SELECT r.id FROM review_round r JOIN proposal p ON p.challenge_id = r.challenge_id"
        " WHERE p.id = assignment.proposal_id AND r.subject_kind = 'proposal' AND r.scope_id = 0);"
        "UPDATE panel_member SET round_id = (SELECT r.id FROM review_round r WHERE r.challenge_id ="
        " panel_member.challenge_id AND r.subject_kind = 'proposal' AND r.scope_id = 0);"
        "UPDATE conflict SET subject_kind = 'proposal', subject_id = proposal_id WHERE proposal_id IS NOT NULL;")


class Migration(migrations.Migration):
    dependencies = [('models', '0006_outbox_claims')]

    initial = False
    atomic = False  # SQLite's foreign keys cannot be switched off inside a transaction

    operations = [
        SqliteForeignKeys(on=False),
        RemoveUniqueTogether(
            model_name='Assignment',
            name=None,
            fields=['proposal', 'reviewer'],
        ),
        ops.AlterField(
            model_name='Assignment',
            name='proposal',
            field=fields.ForeignKeyField('models.Proposal', source_field='proposal_id', null=True, db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Assignment',
            name='round',
            field=fields.ForeignKeyField('models.ReviewRound', source_field='round_id', null=True, db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Assignment',
            name='subject_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Assignment',
            name='subject_kind',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Conflict',
            name='subject_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Conflict',
            name='subject_kind',
            field=fields.CharField(null=True, max_length=16),
        ),
        RemoveUniqueTogether(
            model_name='PanelMember',
            name=None,
            fields=['challenge', 'reviewer'],
        ),
        ops.AddField(
            model_name='PanelMember',
            name='round',
            field=fields.ForeignKeyField('models.ReviewRound', source_field='round_id', null=True, db_constraint=True, to_field='id', related_name='panel', on_delete=OnDelete.CASCADE),
        ),
        ops.AddConstraint(
            model_name='PanelMember',
            constraint=UniqueConstraint(fields=('round', 'reviewer'), name=None),
        ),
        RemoveUniqueTogether(
            model_name='ReviewRound',
            name=None,
            fields=['challenge', 'subject_kind'],
        ),
        ops.AddField(
            model_name='ReviewRound',
            name='due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ReviewRound',
            name='max_per_reviewer',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ReviewRound',
            name='reviews_per_subject',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ReviewRound',
            name='scope_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ReviewRound',
            name='started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(move_to_rounds),
        ops.AlterField(
            model_name='Assignment',
            name='subject_id',
            field=fields.IntField(db_index=True),
        ),
        ops.AlterField(
            model_name='ReviewRound',
            name='scope_id',
            field=fields.IntField(default=0),
        ),
        ops.AlterField(
            model_name='Assignment',
            name='subject_kind',
            field=fields.CharField(default='proposal', max_length=16),
        ),

        ops.AddConstraint(
            model_name='Assignment',
            constraint=UniqueConstraint(fields=('round', 'subject_kind', 'subject_id', 'reviewer'), name=None),
        ),
        ops.AddConstraint(
            model_name='ReviewRound',
            constraint=UniqueConstraint(fields=('challenge', 'subject_kind', 'scope_id'), name=None),
        ),
        SqliteForeignKeys(on=True),
    ]
