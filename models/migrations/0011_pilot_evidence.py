from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_partner_engagements')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Milestone',
            name='evidence_file',
            field=fields.ForeignKeyField('models.Attachment', source_field='evidence_file_id', null=True, db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.SET_NULL),
        ),
    ]
