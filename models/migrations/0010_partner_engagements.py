from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_solutions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Need',
            name='cap_hours',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='PartnerProfile',
            name='max_engagements',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='cap_days',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='cap_hours',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='days_per_month',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Placement',
            name='days_worked',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='ended_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Placement',
            name='hours_worked',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='report',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Placement',
            name='survey',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Placement',
            name='survey_answered_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Placement',
            name='survey_due_on',
            field=fields.DateField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Placement',
            name='survey_sent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
