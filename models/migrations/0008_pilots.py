from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_subjects')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Pilot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('challenge', fields.ForeignKeyField('models.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='pilots', on_delete=OnDelete.RESTRICT)),
                ('proposal', fields.OneToOneField('models.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='pilot', on_delete=OnDelete.RESTRICT)),
                ('company', fields.ForeignKeyField('models.Organisation', source_field='company_id', db_constraint=True, to_field='id', related_name='pilots', on_delete=OnDelete.RESTRICT)),
                ('owner', fields.ForeignKeyField('models.Organisation', source_field='owner_id', db_constraint=True, to_field='id', related_name='pilots_owned', on_delete=OnDelete.RESTRICT)),
                ('agency_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='planned', db_index=True, max_length=24)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField(db_index=True)),
                ('status_reason', fields.TextField(default='', unique=False)),
                ('internal_notes', fields.TextField(default='', unique=False)),
                ('short_code', fields.CharField(unique=True, max_length=16)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pilot', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='CompanySurvey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('pilot', fields.OneToOneField('models.Pilot', source_field='pilot_id', db_constraint=True, to_field='id', related_name='company_survey', on_delete=OnDelete.CASCADE)),
                ('satisfaction', fields.SmallIntField()),
                ('answers', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('comment', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'pilot_company_survey', 'app': 'models', 'pk_attr': 'id', 'table_description': "The company's view of how the pilot was run, at its end."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('pilot', fields.ForeignKeyField('models.Pilot', source_field='pilot_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('satisfaction', fields.SmallIntField()),
                ('comment', fields.TextField(default='', unique=False)),
                ('published', fields.BooleanField(default=False)),
            ],
            options={'table': 'pilot_feedback', 'app': 'models', 'pk_attr': 'id', 'table_description': "A resident's answer: no account, no personal data."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Milestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('pilot', fields.ForeignKeyField('models.Pilot', source_field='pilot_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('deliverable', fields.TextField(default='', unique=False)),
                ('due_on', fields.DateField(db_index=True)),
                ('status', fields.CharField(default='planned', max_length=16)),
                ('evidence', fields.TextField(default='', unique=False)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'pilot_milestone', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MilestoneReminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('milestone', fields.ForeignKeyField('models.Milestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('moment', fields.CharField(max_length=16)),
            ],
            options={'table': 'pilot_milestone_reminder', 'app': 'models', 'unique_together': (('milestone', 'moment'),), 'pk_attr': 'id', 'table_description': 'One row per reminder sent: the unique pair keeps a reminder from going out twice.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PilotKpi',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('pilot', fields.ForeignKeyField('models.Pilot', source_field='pilot_id', db_constraint=True, to_field='id', related_name='kpis', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('key', fields.CharField(max_length=40)),
                ('name', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('unit', fields.CharField(default='', max_length=32)),
                ('baseline', fields.FloatField(null=True)),
                ('target', fields.FloatField(null=True)),
                ('direction', fields.CharField(default='higher', max_length=8)),
                ('is_rate', fields.BooleanField(default=False)),
            ],
            options={'table': 'pilot_kpi', 'app': 'models', 'unique_together': (('pilot', 'key'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Measurement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('kpi', fields.ForeignKeyField('models.PilotKpi', source_field='kpi_id', db_constraint=True, to_field='id', related_name='measurements', on_delete=OnDelete.CASCADE)),
                ('value', fields.FloatField()),
                ('numerator', fields.FloatField(null=True)),
                ('denominator', fields.FloatField(null=True)),
                ('measured_on', fields.DateField(db_index=True)),
                ('source', fields.CharField(default='', max_length=200)),
                ('status', fields.CharField(default='recorded', db_index=True, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='measurements', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'pilot_measurement', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
    ]
