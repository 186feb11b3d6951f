from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_sign_in_link')]

    operations = [
        ops.CreateModel(
            name='InsightSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scope', fields.CharField(db_index=True, max_length=16)),
                ('computed_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('figures', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'insight_snapshot', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DatasetRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharField(max_length=32)),
                ('organisation', fields.CharField(max_length=16)),
                ('title', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('modified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dataset_record', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
