from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_insights')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PartnerProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='partner_profiles', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('status_reason', fields.TextField(default='', unique=False)),
                ('name', fields.CharField(default='', max_length=200)),
                ('profile', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('tags', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('years_experience', fields.IntField(default=0)),
                ('public_sector_years', fields.IntField(default=0)),
                ('public_sector_experience', fields.TextField(default='', unique=False)),
                ('languages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('days_per_month', fields.IntField(default=0)),
                ('work_mode', fields.CharField(default='either', max_length=16)),
                ('areas', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('engagement_types', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('affiliations', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('available', fields.BooleanField(default=True)),
                ('public_profile', fields.BooleanField(default=False)),
                ('public_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('consent_version', fields.CharField(default='', max_length=32)),
                ('consented_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('consent_withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('erased_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partner_profile', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Need',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('agency', fields.ForeignKeyField('models.Organisation', source_field='agency_id', db_constraint=True, to_field='id', related_name='partner_needs', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='partner_needs', on_delete=OnDelete.SET_NULL)),
                ('role', fields.CharField(max_length=64)),
                ('description', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('skills', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('starts_on', fields.DateField(null=True)),
                ('ends_on', fields.DateField(null=True)),
                ('days_per_month', fields.IntField(default=0)),
                ('work_mode', fields.CharField(default='either', max_length=16)),
                ('area', fields.CharField(default='', max_length=6)),
                ('languages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cap_days', fields.IntField(null=True)),
                ('named_partner', fields.ForeignKeyField('models.PartnerProfile', source_field='named_partner_id', null=True, db_constraint=True, to_field='id', related_name='named_in', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='open', db_index=True, max_length=16)),
                ('shortlist', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'partner_need', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PartnerInvitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('need', fields.ForeignKeyField('models.Need', source_field='need_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('partner', fields.ForeignKeyField('models.PartnerProfile', source_field='partner_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('invited_by', fields.ForeignKeyField('models.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name='partner_invitations', on_delete=OnDelete.SET_NULL)),
                ('message', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partner_invitation', 'app': 'models', 'unique_together': (('need', 'partner'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PartnerSkill',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('partner', fields.ForeignKeyField('models.PartnerProfile', source_field='partner_id', db_constraint=True, to_field='id', related_name='skills', on_delete=OnDelete.CASCADE)),
                ('skill', fields.CharField(db_index=True, max_length=64)),
                ('experience', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'partner_skill', 'app': 'models', 'unique_together': (('partner', 'skill'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Placement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('invitation', fields.OneToOneField('models.PartnerInvitation', source_field='invitation_id', db_constraint=True, to_field='id', related_name='placement', on_delete=OnDelete.CASCADE)),
                ('partner', fields.ForeignKeyField('models.PartnerProfile', source_field='partner_id', db_constraint=True, to_field='id', related_name='placements', on_delete=OnDelete.CASCADE)),
                ('agency', fields.ForeignKeyField('models.Organisation', source_field='agency_id', db_constraint=True, to_field='id', related_name='partner_placements', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=64)),
                ('starts_on', fields.DateField(null=True)),
                ('ends_on', fields.DateField(null=True)),
            ],
            options={'table': 'partner_placement', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
    ]
